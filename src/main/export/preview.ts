// Preview images of a package: PNG ↔ NCHW float tensors under the manifest's value range and colour order.
import sharp from 'sharp';
import type { ManifestIo } from './manifest.ts';

/** An NCHW tensor for one image: `[1, 3, height, width]`. */
export interface ImageTensor {
  data: Float32Array;
  width: number;
  height: number;
}

/** Decodes `png`, resizes it (cover, centred) to `width`×`height` and returns the RGB pixels as a PNG at that size. */
export async function fitPreviewImage(image: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  const png = await sharp(image)
    .rotate()
    .removeAlpha()
    .resize(width, height, { fit: 'cover' })
    .toColourspace('srgb')
    .png()
    .toBuffer();
  return new Uint8Array(png);
}

/** Decodes an RGB PNG into a model input tensor per `io` (pixel → value range, colour order, NCHW). */
export async function pngToTensor(png: Uint8Array, io: Pick<ManifestIo, 'valueRange' | 'colorOrder'>): Promise<ImageTensor> {
  const { data, info } = await sharp(png).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  if (channels !== 3) throw new Error(`preview image has ${channels} channels after removing alpha, expected 3`);
  const [lo, hi] = io.valueRange;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const src = io.colorOrder === 'RGB' ? c : 2 - c;
      out[c * plane + p] = lo + (data[p * 3 + src]! / 255) * (hi - lo);
    }
  }
  return { data: out, width, height };
}

/** 8-bit RGB pixels (HWC) of a model output tensor per `io`: values clamped to the range, rounded to nearest. */
export function tensorToPixels(tensor: ImageTensor, io: Pick<ManifestIo, 'valueRange' | 'colorOrder'>): Uint8Array {
  const { width, height, data } = tensor;
  const [lo, hi] = io.valueRange;
  const plane = width * height;
  const out = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const src = io.colorOrder === 'RGB' ? c : 2 - c;
      const v = (data[src * plane + p]! - lo) / (hi - lo);
      out[p * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return out;
}

/** Encodes 8-bit RGB pixels as a PNG. */
export async function pixelsToPng(pixels: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  return new Uint8Array(await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer());
}

/** Decodes a PNG to 8-bit RGB pixels (HWC) with its size. */
export async function pngToPixels(png: Uint8Array): Promise<{ pixels: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(png).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { pixels: new Uint8Array(data), width: info.width, height: info.height };
}

/** Largest per-channel difference between two equally sized 8-bit images. */
export function maxPixelDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`images differ in size: ${a.length} vs ${b.length} bytes`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
