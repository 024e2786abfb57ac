// Image quality metrics of the validation pass: L1, PSNR and SSIM on planar float images in [0, 1].

/** A batch of planar images: `n` frames of `channels` planes of `height × width` values in [0, 1]. */
export interface ImageBatch {
  data: Float32Array;
  n: number;
  channels: number;
  height: number;
  width: number;
}

/** Metrics of one comparison, averaged over the frames. */
export interface ImageMetrics {
  l1: number;
  /** dB; capped at {@link PSNR_CAP} for identical images. */
  psnr: number;
  ssim: number;
}

/** PSNR reported for identical images (instead of +∞, which JSON and SQLite cannot hold). */
export const PSNR_CAP = 100;

function checkPair(a: ImageBatch, b: ImageBatch): void {
  if (a.n !== b.n || a.channels !== b.channels || a.height !== b.height || a.width !== b.width) {
    throw new Error(`metrics: image batches differ in shape (${a.n}×${a.channels}×${a.height}×${a.width} vs ${b.n}×${b.channels}×${b.height}×${b.width})`);
  }
  const size = a.n * a.channels * a.height * a.width;
  if (a.data.length !== size || b.data.length !== size) throw new Error(`metrics: data length does not match ${a.n}×${a.channels}×${a.height}×${a.width}`);
}

/** Mean absolute error over every value. */
export function l1(a: ImageBatch, b: ImageBatch): number {
  checkPair(a, b);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i]! - b.data[i]!);
  return s / a.data.length;
}

/** Peak signal-to-noise ratio for peak 1, per frame `10·log10(1/MSE)`, averaged over frames. */
export function psnr(a: ImageBatch, b: ImageBatch): number {
  checkPair(a, b);
  const per = a.channels * a.height * a.width;
  let total = 0;
  for (let f = 0; f < a.n; f++) {
    let se = 0;
    for (let i = f * per; i < (f + 1) * per; i++) se += (a.data[i]! - b.data[i]!) ** 2;
    const mse = se / per;
    total += mse === 0 ? PSNR_CAP : Math.min(PSNR_CAP, 10 * Math.log10(1 / mse));
  }
  return total / a.n;
}

/** Side of the SSIM window and its Gaussian σ (Wang et al. 2004). */
export const SSIM_WINDOW = 11;
export const SSIM_SIGMA = 1.5;
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

function gaussian1d(): Float64Array {
  const half = (SSIM_WINDOW - 1) / 2;
  const w = Float64Array.from({ length: SSIM_WINDOW }, (_, i) => Math.exp(-((i - half) ** 2) / (2 * SSIM_SIGMA ** 2)));
  const s = w.reduce((x, y) => x + y, 0);
  return w.map((v) => v / s);
}

/** Separable 'valid' filtering of one plane with the 1-D kernel `k` on both axes. */
function filterValid(plane: Float64Array, h: number, w: number, k: Float64Array): Float64Array {
  const n = k.length;
  const ow = w - n + 1;
  const oh = h - n + 1;
  const rows = new Float64Array(h * ow);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += k[i]! * plane[y * w + x + i]!;
      rows[y * ow + x] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += k[i]! * rows[(y + i) * ow + x]!;
      out[y * ow + x] = s;
    }
  }
  return out;
}

/**
 * Structural similarity (Wang et al. 2004): 11×11 Gaussian window (σ 1.5), C1 = 0.01², C2 = 0.03² for peak 1,
 * computed per channel over the 'valid' window positions and averaged over channels and frames.
 */
export function ssim(a: ImageBatch, b: ImageBatch): number {
  checkPair(a, b);
  const { height: h, width: w } = a;
  if (h < SSIM_WINDOW || w < SSIM_WINDOW) throw new Error(`ssim: images of ${w}×${h} are smaller than the ${SSIM_WINDOW}×${SSIM_WINDOW} window`);
  const k = gaussian1d();
  const plane = h * w;
  let total = 0;
  const planes = a.n * a.channels;
  for (let p = 0; p < planes; p++) {
    const x = Float64Array.from(a.data.subarray(p * plane, (p + 1) * plane));
    const y = Float64Array.from(b.data.subarray(p * plane, (p + 1) * plane));
    const mx = filterValid(x, h, w, k);
    const my = filterValid(y, h, w, k);
    const xx = filterValid(x.map((v) => v * v), h, w, k);
    const yy = filterValid(y.map((v) => v * v), h, w, k);
    const xy = filterValid(x.map((v, i) => v * y[i]!), h, w, k);
    let s = 0;
    for (let i = 0; i < mx.length; i++) {
      const ux = mx[i]!;
      const uy = my[i]!;
      const vx = xx[i]! - ux * ux;
      const vy = yy[i]! - uy * uy;
      const cxy = xy[i]! - ux * uy;
      s += ((2 * ux * uy + C1) * (2 * cxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
    }
    total += s / mx.length;
  }
  return total / planes;
}

/** L1, PSNR and SSIM of `pred` against `target`. */
export function imageMetrics(pred: ImageBatch, target: ImageBatch): ImageMetrics {
  return { l1: l1(pred, target), psnr: psnr(pred, target), ssim: ssim(pred, target) };
}
