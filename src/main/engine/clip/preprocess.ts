// CLIP image preprocessing: shortest side resized (bicubic), centre crop, /255, per-channel mean/std, CHW float32.
//
// OpenAI's `clip.load` preprocess (torchvision Resize + CenterCrop on PIL images) and Hugging Face's
// CLIPImageProcessor agree on everything but the crop offset of odd margins; this follows OpenAI
// (`round((size − crop) / 2)`, ties to even like Python's round). Resizing is sharp's (libvips) cubic kernel, which
// is Catmull-Rom like PIL's bicubic (a = −0.5) but not bit-identical to it: see
// tests/unit/engine/clip/preprocess.test.ts for the measured difference.
import sharp from 'sharp';

/** An 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B. */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Resampling filters a preprocessor config may ask for (PIL's codes 0, 2, 3, 1). */
export type ResampleKernel = 'nearest' | 'linear' | 'cubic' | 'lanczos3';

/** What `preprocessor_config.json` says about turning an image into `pixel_values`. */
export interface ClipImageConfig {
  /** Target of the shortest side (null: no resize). */
  readonly resizeShortest: number | null;
  readonly resample: ResampleKernel;
  /** Centre crop size (null: no crop). */
  readonly crop: { readonly height: number; readonly width: number } | null;
  /** Multiplier applied to 0…255 values (null: none). */
  readonly rescale: number | null;
  /** Per-channel mean and std (null: no normalisation). */
  readonly mean: readonly [number, number, number] | null;
  readonly std: readonly [number, number, number] | null;
}

/** OpenAI CLIP's preprocessing (also what every CLIP preprocessor_config.json on Hugging Face says). */
export const OPENAI_CLIP_IMAGE_CONFIG: ClipImageConfig = {
  resizeShortest: 224,
  resample: 'cubic',
  crop: { height: 224, width: 224 },
  rescale: 1 / 255,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
};

const PIL_RESAMPLE: Readonly<Record<number, ResampleKernel>> = { 0: 'nearest', 1: 'lanczos3', 2: 'linear', 3: 'cubic' };

function sizeOf(value: unknown, key: 'shortest_edge' | 'height', what: string): number {
  const v = typeof value === 'number' ? value : (value as Record<string, unknown> | null)?.[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${what} must be a positive integer or {"${key}": n}, got ${JSON.stringify(value)}`);
  return v;
}

function triple(value: unknown, what: string): [number, number, number] {
  if (!Array.isArray(value) || value.length !== 3 || value.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new Error(`${what} must be three numbers, got ${JSON.stringify(value)}`);
  }
  return [value[0] as number, value[1] as number, value[2] as number];
}

/**
 * Reads a Hugging Face `preprocessor_config.json` (CLIPImageProcessor / CLIPFeatureExtractor keys: `size`,
 * `crop_size`, `resample`, `do_*`, `rescale_factor`, `image_mean`, `image_std`); missing keys take CLIP's values.
 * Throws naming the key that is malformed.
 */
export function parsePreprocessorConfig(json: unknown): ClipImageConfig {
  if (json === null || typeof json !== 'object') throw new Error('the preprocessor config is not a JSON object');
  const c = json as Record<string, unknown>;
  const base = OPENAI_CLIP_IMAGE_CONFIG;
  const resampleCode = c.resample ?? 3;
  const resample = typeof resampleCode === 'number' ? PIL_RESAMPLE[resampleCode] : undefined;
  if (resample === undefined) throw new Error(`resample ${JSON.stringify(resampleCode)} is not one of PIL's nearest (0), lanczos (1), bilinear (2), bicubic (3)`);
  const cropSize = c.crop_size === undefined ? null : c.crop_size;
  let crop = base.crop;
  if (cropSize !== null) {
    const h = sizeOf(cropSize, 'height', 'crop_size');
    const w = typeof cropSize === 'number' ? h : sizeOf((cropSize as Record<string, unknown>).width, 'height', 'crop_size.width');
    crop = { height: h, width: w };
  }
  const rescaleFactor = c.rescale_factor ?? 1 / 255;
  if (typeof rescaleFactor !== 'number') throw new Error(`rescale_factor must be a number, got ${JSON.stringify(rescaleFactor)}`);
  return {
    resizeShortest: c.do_resize === false ? null : c.size === undefined ? base.resizeShortest : sizeOf(c.size, 'shortest_edge', 'size'),
    resample,
    crop: c.do_center_crop === false ? null : crop,
    rescale: c.do_rescale === false ? null : rescaleFactor,
    mean: c.do_normalize === false ? null : c.image_mean === undefined ? base.mean : triple(c.image_mean, 'image_mean'),
    std: c.do_normalize === false ? null : c.image_std === undefined ? base.std : triple(c.image_std, 'image_std'),
  };
}

/** The size `pixel_values` will have for an image of this size. */
export function outputSize(config: ClipImageConfig, width: number, height: number): { width: number; height: number } {
  const resized = resizedSize(config, width, height);
  return config.crop === null ? resized : { width: config.crop.width, height: config.crop.height };
}

function resizedSize(config: ClipImageConfig, width: number, height: number): { width: number; height: number } {
  const target = config.resizeShortest;
  if (target === null) return { width, height };
  // torchvision/HF: the short side becomes `target`, the long side int(target · long / short).
  if (width <= height) return { width: target, height: Math.floor((target * height) / width) };
  return { width: Math.floor((target * width) / height), height: target };
}

/** Python's round() of a half-integer or integer: ties go to the even neighbour. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  if (x - f !== 0.5) return Math.round(x);
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Turns one RGB image into CLIP's `pixel_values` for it: [3, H, W] float32, channel planes R, G, B.
 *
 * @example
 * const pixels = await preprocessImage({ data, width: 1024, height: 1024 }, OPENAI_CLIP_IMAGE_CONFIG); // 3·224·224
 */
export async function preprocessImage(image: RgbImage, config: ClipImageConfig): Promise<Float32Array> {
  const { width, height } = image;
  if (image.data.length !== width * height * 3) {
    throw new RangeError(`preprocessImage: ${image.data.length} bytes is not a ${width}×${height} RGB image`);
  }
  const size = resizedSize(config, width, height);
  let pixels = image.data;
  if (size.width !== width || size.height !== height) {
    const out = await sharp(image.data, { raw: { width, height, channels: 3 } })
      .resize(size.width, size.height, { kernel: config.resample, fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (out.info.channels !== 3) throw new Error(`sharp returned ${out.info.channels} channels for an RGB resize`);
    pixels = out.data;
  }
  const crop = config.crop ?? { height: size.height, width: size.width };
  if (crop.width > size.width || crop.height > size.height) {
    throw new RangeError(`a ${crop.width}×${crop.height} crop does not fit the ${size.width}×${size.height} resized image`);
  }
  const top = roundHalfEven((size.height - crop.height) / 2);
  const left = roundHalfEven((size.width - crop.width) / 2);
  const plane = crop.width * crop.height;
  const out = new Float32Array(3 * plane);
  const scale = config.rescale ?? 1;
  for (let c = 0; c < 3; c++) {
    const mean = config.mean?.[c] ?? 0;
    const std = config.std?.[c] ?? 1;
    for (let y = 0; y < crop.height; y++) {
      const row = ((top + y) * size.width + left) * 3 + c;
      for (let x = 0; x < crop.width; x++) {
        out[c * plane + y * crop.width + x] = (pixels[row + x * 3]! * scale - mean) / std;
      }
    }
  }
  return out;
}

/**
 * One image of a StyleGAN batch ([N, 3, R, R] float, about −1…1) as 8-bit RGB, rounded the way StyleGAN and
 * StyleCLIP convert their outputs: `clip(x · 127.5 + 128, 0, 255)` truncated.
 */
export function generatorImageToRgb(images: Float32Array, index: number, resolution: number): RgbImage {
  const plane = resolution * resolution;
  const base = index * 3 * plane;
  if (base + 3 * plane > images.length) throw new RangeError(`image ${index} is past the end of a batch of ${images.length / (3 * plane)}`);
  const data = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const v = images[base + c * plane + i]! * 127.5 + 128;
      data[i * 3 + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.floor(v);
    }
  }
  return { data, width: resolution, height: resolution };
}
