// Decoding images to raw pixels with sharp (EXIF orientation applied, pixel limit enforced) and back.
import sharp, { type Sharp } from 'sharp';
import type { PixelImage } from '../../shared/faces/warp.ts';

/** Largest image, in pixels, the studio decodes by default: above this a file is treated as a decompression bomb. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** libvips gives up on one image after this long, so a pathological file cannot stall an import. */
const DECODE_TIMEOUT_S = 60;

/** Options of {@link decodePixels}. */
export interface DecodeOptions {
  /** Refuse images with more pixels than this (sharp's `limitInputPixels`). */
  maxPixels?: number;
  /** Shrink so that neither side exceeds this (keeping the aspect ratio); JPEGs then decode at reduced size. */
  maxSide?: number;
}

/** Decodes an encoded image (file path or bytes) to RGB pixels with its EXIF orientation applied. */
export async function decodePixels(input: string | Uint8Array, options: DecodeOptions = {}): Promise<PixelImage> {
  let pipeline = sharp(input, { limitInputPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS, failOn: 'error' })
    .timeout({ seconds: DECODE_TIMEOUT_S })
    .rotate();
  if (options.maxSide !== undefined) {
    pipeline = pipeline.resize(options.maxSide, options.maxSide, { fit: 'inside', withoutEnlargement: true });
  }
  const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** A sharp pipeline reading raw pixels, for resizing or encoding them. */
export function fromPixels(image: PixelImage): Sharp {
  const channels = image.channels as 1 | 2 | 3 | 4;
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels } });
}

/** Resizes raw pixels to exactly `width`×`height` (no cropping, aspect ratio not kept) with sharp's Lanczos kernel. */
export async function resizePixels(image: PixelImage, width: number, height: number): Promise<PixelImage> {
  const { data, info } = await fromPixels(image)
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}
