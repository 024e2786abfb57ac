// PIL's resampling resize (Image.resize with BICUBIC or BILINEAR) for 8-bit RGB, bit for bit.
//
// OpenAI CLIP preprocesses with torchvision's Resize on PIL images, which calls Pillow's `ImagingResample`
// (libImaging/Resample.c): separable passes, horizontal first, each with coefficients over a support scaled by the
// downscale factor, normalised and turned into 22-bit fixed point, and the intermediate image rounded to 8 bits.
// Following that exactly makes the studio's pixel_values match the Python reference, where libvips' cubic does not
// (it differs by up to 38/255 when upscaling).
import type { RgbImage } from './preprocess.ts';

/** The separable filters PIL offers that CLIP preprocessors use. */
export type PilFilter = 'bicubic' | 'bilinear';

const PRECISION_BITS = 32 - 8 - 2;

const FILTERS: Readonly<Record<PilFilter, { support: number; weight: (x: number) => number }>> = {
  bicubic: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
  bilinear: { support: 1, weight: (x) => Math.max(0, 1 - Math.abs(x)) },
};

/** Fixed-point coefficients of one pass: for output i, taps [bounds[2i], bounds[2i] + bounds[2i+1]). */
interface Coefficients {
  readonly bounds: Int32Array;
  readonly kernel: Int32Array;
  readonly ksize: number;
}

function coefficients(inSize: number, outSize: number, filter: PilFilter): Coefficients {
  const { support: base, weight } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = base * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kernel = new Int32Array(outSize * ksize);
  const pre = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    // C's (int) truncates toward zero.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = weight((x + xmin - center + 0.5) * ss);
      pre[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? pre[x]! / ww : pre[x]!;
      kernel[xx * ksize + x] = Math.trunc(k * (1 << PRECISION_BITS) + (k < 0 ? -0.5 : 0.5));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kernel, ksize };
}

function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** One horizontal pass over interleaved RGB rows. */
function horizontal(src: Uint8Array, width: number, height: number, outWidth: number, c: Coefficients): Uint8Array {
  const out = new Uint8Array(outWidth * height * 3);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let xx = 0; xx < outWidth; xx++) {
      const xmin = c.bounds[xx * 2]!;
      const n = c.bounds[xx * 2 + 1]!;
      const k = xx * c.ksize;
      let r = half;
      let g = half;
      let b = half;
      for (let x = 0; x < n; x++) {
        const w = c.kernel[k + x]!;
        const p = row + (xmin + x) * 3;
        r += src[p]! * w;
        g += src[p + 1]! * w;
        b += src[p + 2]! * w;
      }
      const o = (y * outWidth + xx) * 3;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
    }
  }
  return out;
}

/** One vertical pass. */
function vertical(src: Uint8Array, width: number, outHeight: number, c: Coefficients): Uint8Array {
  const out = new Uint8Array(width * outHeight * 3);
  const half = 1 << (PRECISION_BITS - 1);
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = c.bounds[yy * 2]!;
    const n = c.bounds[yy * 2 + 1]!;
    const k = yy * c.ksize;
    for (let x = 0; x < width * 3; x++) {
      let acc = half;
      for (let y = 0; y < n; y++) acc += src[(ymin + y) * width * 3 + x]! * c.kernel[k + y]!;
      out[yy * width * 3 + x] = clip8(acc);
    }
  }
  return out;
}

/** Resizes an RGB image exactly as Pillow's `Image.resize((width, height), filter)` does. */
export function pilResize(image: RgbImage, width: number, height: number, filter: PilFilter): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`pilResize: ${width}×${height} is not a valid size`);
  }
  let data = image.data;
  let w = image.width;
  if (width !== image.width) {
    data = horizontal(data, image.width, image.height, width, coefficients(image.width, width, filter));
    w = width;
  }
  if (height !== image.height) data = vertical(data, w, height, coefficients(image.height, height, filter));
  return { data, width, height };
}
