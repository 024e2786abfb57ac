// Pixel warps in pure TypeScript: the aligned face crop and pasting a processed crop back into its frame.
import { applyAffine, invertAffine, type Affine } from './affine.ts';

/** Interleaved 8-bit pixels, row-major, `channels` per pixel (3: RGB, 4: RGBA). */
export interface PixelImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: number;
}

/** A zeroed image. */
export function createImage(width: number, height: number, channels: number): PixelImage {
  return { data: new Uint8Array(width * height * channels), width, height, channels };
}

/**
 * Samples `src` bilinearly at continuous pixel coordinates (pixel i covers [i, i+1), its centre is i + 0.5),
 * replicating the edge outside the image; writes one value per channel into `out`.
 */
function sampleBilinear(src: PixelImage, x: number, y: number, out: Float64Array): void {
  const fx = Math.min(Math.max(x - 0.5, 0), src.width - 1);
  const fy = Math.min(Math.max(y - 0.5, 0), src.height - 1);
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const x1 = Math.min(x0 + 1, src.width - 1);
  const y1 = Math.min(y0 + 1, src.height - 1);
  const tx = fx - x0;
  const ty = fy - y0;
  const c = src.channels;
  const d = src.data;
  const i00 = (y0 * src.width + x0) * c;
  const i01 = (y0 * src.width + x1) * c;
  const i10 = (y1 * src.width + x0) * c;
  const i11 = (y1 * src.width + x1) * c;
  for (let k = 0; k < c; k++) {
    const top = d[i00 + k]! + (d[i01 + k]! - d[i00 + k]!) * tx;
    const bottom = d[i10 + k]! + (d[i11 + k]! - d[i10 + k]!) * tx;
    out[k] = top + (bottom - top) * ty;
  }
}

/**
 * Resamples `src` through `toSource` (output pixels → source pixels) into a `width`×`height` image, bilinear,
 * edges replicated. Bilinear sampling aliases when shrinking by more than 2×: pre-shrink the source first.
 */
export function warpAffine(src: PixelImage, toSource: Affine, width: number, height: number): PixelImage {
  const out = createImage(width, height, src.channels);
  // applyAffine and sampleBilinear written out (the same arithmetic, no allocation): this runs on every live frame.
  const [m0, m1, m2, m3, m4, m5] = toSource;
  const c = src.channels;
  const d = src.data;
  const od = out.data;
  const maxX = src.width - 1;
  const maxY = src.height - 1;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const cy = y + 0.5;
    for (let x = 0; x < width; x++) {
      const cx = x + 0.5;
      const fx = Math.min(Math.max(m0 * cx + m1 * cy + m2 - 0.5, 0), maxX);
      const fy = Math.min(Math.max(m3 * cx + m4 * cy + m5 - 0.5, 0), maxY);
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const x1 = Math.min(x0 + 1, maxX);
      const y1 = Math.min(y0 + 1, maxY);
      const tx = fx - x0;
      const ty = fy - y0;
      const i00 = (y0 * src.width + x0) * c;
      const i01 = (y0 * src.width + x1) * c;
      const i10 = (y1 * src.width + x0) * c;
      const i11 = (y1 * src.width + x1) * c;
      for (let k = 0; k < c; k++) {
        const top = d[i00 + k]! + (d[i01 + k]! - d[i00 + k]!) * tx;
        const bottom = d[i10 + k]! + (d[i11 + k]! - d[i10 + k]!) * tx;
        od[o++] = Math.round(top + (bottom - top) * ty);
      }
    }
  }
  return out;
}

/** Options of {@link pasteBack}. */
export interface PasteOptions {
  /** Width of the soft edge, in crop pixels, over which the crop fades into the frame (0: hard edge). */
  feather: number;
}

/**
 * Blends a processed face crop back into `frame` in place: every frame pixel that falls inside the crop (through
 * `toCrop`, frame pixels → crop pixels) takes the crop's colour, fading to the frame's own over `feather` crop
 * pixels at the crop's border so no seam shows. Both images must have the same channel count.
 */
export function pasteBack(frame: PixelImage, crop: PixelImage, toCrop: Affine, options: PasteOptions): void {
  if (frame.channels !== crop.channels) {
    throw new Error(`pasteBack: frame has ${frame.channels} channels but the crop has ${crop.channels}`);
  }
  const c = frame.channels;
  const px = new Float64Array(c);
  // Only frame pixels whose centre lands inside the crop can change; the crop's corners bound them.
  const toFrame = invertBounds(toCrop, crop.width, crop.height);
  const xStart = Math.max(0, Math.floor(toFrame.minX));
  const xEnd = Math.min(frame.width, Math.ceil(toFrame.maxX));
  const yStart = Math.max(0, Math.floor(toFrame.minY));
  const yEnd = Math.min(frame.height, Math.ceil(toFrame.maxY));
  const [m0, m1, m2, m3, m4, m5] = toCrop;
  for (let y = yStart; y < yEnd; y++) {
    const cy = y + 0.5;
    for (let x = xStart; x < xEnd; x++) {
      const cx = x + 0.5;
      const qx = m0 * cx + m1 * cy + m2;
      const qy = m3 * cx + m4 * cy + m5;
      const edge = Math.min(qx, qy, crop.width - qx, crop.height - qy);
      if (edge <= 0) continue;
      let w = options.feather > 0 ? Math.min(1, edge / options.feather) : 1;
      w = w * w * (3 - 2 * w);
      sampleBilinear(crop, qx, qy, px);
      const o = (y * frame.width + x) * c;
      for (let k = 0; k < c; k++) {
        const f = frame.data[o + k]!;
        frame.data[o + k] = Math.round(f + (px[k]! - f) * w);
      }
    }
  }
}

/** Bounding box, in frame pixels, of a `width`×`height` crop placed by `toCrop` (frame → crop). */
function invertBounds(toCrop: Affine, width: number, height: number): { minX: number; minY: number; maxX: number; maxY: number } {
  const inv = invertAffine(toCrop);
  const corners = [
    applyAffine(inv, { x: 0, y: 0 }),
    applyAffine(inv, { x: width, y: 0 }),
    applyAffine(inv, { x: 0, y: height }),
    applyAffine(inv, { x: width, y: height }),
  ];
  return {
    minX: Math.min(...corners.map((p) => p.x)),
    minY: Math.min(...corners.map((p) => p.y)),
    maxX: Math.max(...corners.map((p) => p.x)),
    maxY: Math.max(...corners.map((p) => p.y)),
  };
}
