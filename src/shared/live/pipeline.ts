// The live preview's per-frame work, independent of camera and runtime: track the face, crop it, run the student, paste back.
import { composeAffine, type Affine } from '../faces/affine.ts';
import { alignFace, type FaceAlignment } from '../faces/align.ts';
import { BLAZEFACE, blazeFaceInput, postprocessBlazeFace } from '../faces/blazeface.ts';
import { computeLetterbox, type Letterbox } from '../faces/letterbox.ts';
import { DetectionSmoother } from '../faces/smoothing.ts';
import type { FaceDetection } from '../faces/types.ts';
import { createImage, pasteBack, warpAffine, type PixelImage } from '../faces/warp.ts';

/** BlazeFace's four outputs for one input, in {@link BLAZEFACE} order. */
export interface BlazeFaceOutputs {
  scores: [Float32Array, Float32Array];
  regressors: [Float32Array, Float32Array];
}

/** Runs BlazeFace on its NHWC `[1, 128, 128, 3]` input in [-1, 1]. */
export type RunDetector = (input: Float32Array) => Promise<BlazeFaceOutputs>;

/** A student ready to run: its square size and a call from NCHW `[1, 3, size, size]` RGB in [0, 1] to the same. */
export interface StudentRunner {
  size: number;
  run(input: Float32Array): Promise<Float32Array>;
}

/** Milliseconds spent per stage of one frame (capture is timed by whoever reads the camera). */
export interface StageTimings {
  /** Letterbox, BlazeFace, decoding, smoothing, alignment and the aligned crop. */
  detect: number;
  /** Crop → tensor, the student's run, tensor → crop. */
  student: number;
  /** The feathered paste back into the frame. */
  composite: number;
}

/** What one frame produced. `output` is a new image; the input frame is never changed. */
export interface LiveFrame {
  /** The tracked (smoothed) face in frame pixels, or null when there is none. */
  face: FaceDetection | null;
  alignment: FaceAlignment | null;
  /** The aligned crop the student saw, and what it made of it (null without a face or a student). */
  crop: PixelImage | null;
  cropOut: PixelImage | null;
  /** The frame with the student's crop pasted back (a copy of the frame when nothing was pasted). */
  output: PixelImage;
  timings: StageTimings;
}

/** Feather of the pasted crop's edge, as a fraction of the crop side. */
export const PASTE_FEATHER = 1 / 12;

/**
 * Area-averaging resize (each output pixel is the mean of the source pixels whose centres fall in its footprint):
 * alias-free when shrinking, which bilinear sampling is not beyond 2×.
 */
export function resizeArea(src: PixelImage, width: number, height: number): PixelImage {
  const out = createImage(width, height, src.channels);
  writeResized(src, out, 0, 0, width, height);
  return out;
}

/** Writes `src` resized to `w`×`h` into `out` at (`ox`, `oy`), the first min(channels) of at most 4 channels. */
function writeResized(src: PixelImage, out: PixelImage, ox: number, oy: number, w: number, h: number): void {
  const sx = src.width / w;
  const sy = src.height / h;
  const c = src.channels;
  const oc = out.channels;
  const n = Math.min(c, oc);
  const sd = src.data;
  const od = out.data;
  // Column spans are the same on every row: work them out once.
  const x0s = new Int32Array(w);
  const x1s = new Int32Array(w);
  for (let x = 0; x < w; x++) {
    x0s[x] = Math.min(src.width - 1, Math.floor(x * sx));
    x1s[x] = Math.max(x0s[x]! + 1, Math.min(src.width, Math.floor((x + 1) * sx)));
  }
  for (let y = 0; y < h; y++) {
    const y0 = Math.min(src.height - 1, Math.floor(y * sy));
    const y1 = Math.max(y0 + 1, Math.min(src.height, Math.floor((y + 1) * sy)));
    for (let x = 0; x < w; x++) {
      const x0 = x0s[x]!;
      const x1 = x1s[x]!;
      const count = (y1 - y0) * (x1 - x0);
      const o = ((oy + y) * out.width + ox + x) * oc;
      // Sums in locals (one pass per channel group): this runs on every pixel of every live frame.
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let yy = y0; yy < y1; yy++) {
        const row = yy * src.width;
        for (let xx = x0; xx < x1; xx++) {
          const p = (row + xx) * c;
          s0 += sd[p]!;
          if (n > 1) s1 += sd[p + 1]!;
          if (n > 2) s2 += sd[p + 2]!;
          if (n > 3) s3 += sd[p + 3]!;
        }
      }
      od[o] = Math.round(s0 / count);
      if (n > 1) od[o + 1] = Math.round(s1 / count);
      if (n > 2) od[o + 2] = Math.round(s2 / count);
      if (n > 3) od[o + 3] = Math.round(s3 / count);
    }
  }
}

/** The frame fitted into BlazeFace's square input (black bars), as RGB pixels, with the letterbox that maps back. */
export function letterboxFrame(frame: PixelImage): { image: PixelImage; letterbox: Letterbox } {
  const size = BLAZEFACE.inputSize;
  const letterbox = computeLetterbox(frame.width, frame.height, size);
  const image = createImage(size, size, 3);
  writeResized(frame, image, letterbox.padX, letterbox.padY, letterbox.contentWidth, letterbox.contentHeight);
  return { image, letterbox };
}

/**
 * The aligned `size`×`size` crop of a face, made exactly as training crops are (the same FFHQ alignment; a source
 * more than twice the crop's size across the face is shrunk first so the bilinear warp does not alias).
 */
export function alignedFrameCrop(frame: PixelImage, face: Pick<FaceDetection, 'keypoints'>, size: number): { crop: PixelImage; alignment: FaceAlignment } {
  const alignment = alignFace(face, size);
  const shrink = Math.floor(alignment.sourceSide / size);
  if (shrink < 2) return { crop: warpAffine(frame, alignment.toSource, size, size), alignment };
  const small = resizeArea(frame, Math.max(1, Math.round(frame.width / shrink)), Math.max(1, Math.round(frame.height / shrink)));
  const toSmall: Affine = [small.width / frame.width, 0, 0, 0, small.height / frame.height, 0];
  return { crop: warpAffine(small, composeAffine(toSmall, alignment.toSource), size, size), alignment };
}

/** An RGB(A) crop as the student's NCHW float input in [0, 1]. */
export function cropToTensor(crop: PixelImage): Float32Array {
  const plane = crop.width * crop.height;
  const out = new Float32Array(3 * plane);
  const c = crop.channels;
  for (let i = 0, p = 0; i < plane; i++, p += c) {
    out[i] = crop.data[p]! / 255;
    out[plane + i] = crop.data[p + 1]! / 255;
    out[2 * plane + i] = crop.data[p + 2]! / 255;
  }
  return out;
}

/** The student's NCHW output (values in [0, 1], clamped) as a `size`×`size` image of `channels` (alpha opaque). */
export function tensorToCrop(tensor: Float32Array, size: number, channels: number): PixelImage {
  const plane = size * size;
  if (tensor.length !== 3 * plane) throw new Error(`tensorToCrop: expected 3×${size}×${size} values, got ${tensor.length}`);
  const out = createImage(size, size, channels);
  for (let i = 0, p = 0; i < plane; i++, p += channels) {
    for (let k = 0; k < 3; k++) out.data[p + k] = Math.round(Math.min(1, Math.max(0, tensor[k * plane + i]!)) * 255);
    if (channels === 4) out.data[p + 3] = 255;
  }
  return out;
}

/** How a model wants its pixels: colour order, and the values pixel 0 and 255 map to. */
export interface StudentIo {
  colorOrder: 'RGB' | 'BGR';
  valueRange: readonly [number, number];
}

/**
 * Wraps a model's run so the pipeline can feed RGB in [0, 1] whatever the model takes: values are mapped to
 * `valueRange` and channels swapped for BGR on the way in, and back on the way out.
 */
export function adaptStudentIo(run: (input: Float32Array) => Promise<Float32Array>, io: StudentIo): (input: Float32Array) => Promise<Float32Array> {
  const [lo, hi] = io.valueRange;
  const isBgr = io.colorOrder === 'BGR';
  if (!isBgr && lo === 0 && hi === 1) return run;
  if (!(hi !== lo && Number.isFinite(lo) && Number.isFinite(hi))) throw new Error(`adaptStudentIo: value range [${lo}, ${hi}] is empty`);
  const map = (t: Float32Array, f: (v: number) => number): Float32Array => {
    const plane = t.length / 3;
    const out = new Float32Array(t.length);
    for (let k = 0; k < 3; k++) {
      const from = (isBgr ? 2 - k : k) * plane;
      for (let i = 0; i < plane; i++) out[k * plane + i] = f(t[from + i]!);
    }
    return out;
  };
  return async (input) => map(await run(map(input, (v) => lo + (hi - lo) * v)), (v) => (v - lo) / (hi - lo));
}

/** A copy of an image. */
export function copyImage(image: PixelImage): PixelImage {
  return { data: new Uint8Array(image.data), width: image.width, height: image.height, channels: image.channels };
}

/** Frames per BlazeFace run while a face is tracked (the smoothed face carries over in between). */
export const DEFAULT_DETECT_EVERY = 2;

/** The whole per-frame pipeline with its tracking state: one per camera stream. */
export class LivePipeline {
  readonly #detect: RunDetector;
  readonly #smoother = new DetectionSmoother();
  readonly #detectEvery: number;
  #student: StudentRunner | null;
  #lastFace: FaceDetection | null = null;
  #sinceDetect = 0;

  /**
   * `detectEvery` k runs BlazeFace on every k-th frame while a face is tracked, keeping the smoothed face for the
   * frames between; without a tracked face it detects on every frame so that a face is found at once.
   */
  constructor(detect: RunDetector, student: StudentRunner | null, options: { detectEvery?: number } = {}) {
    const every = options.detectEvery ?? DEFAULT_DETECT_EVERY;
    if (!Number.isInteger(every) || every < 1) throw new RangeError(`LivePipeline: detectEvery must be a whole number ≥ 1, got ${every}`);
    this.#detect = detect;
    this.#student = student;
    this.#detectEvery = every;
  }

  /** Swaps the student (a newer checkpoint, another run) or removes it; tracking carries on. */
  setStudent(student: StudentRunner | null): void {
    this.#student = student;
  }

  /** Forgets the tracked face (a new camera, a mirror flip). */
  resetTracking(): void {
    this.#smoother.reset();
    this.#lastFace = null;
  }

  /** Processes one frame taken at `time` seconds (any steady clock): {@link track}, {@link applyStudent}, {@link compositeFrame}. */
  async process(frame: PixelImage, time: number): Promise<LiveFrame> {
    const tracked = await this.track(frame, time);
    const { cropOut, ms: student } = await this.applyStudent(tracked.crop, frame.channels);
    const { output, ms: composite } = compositeFrame(frame, cropOut, tracked.alignment);
    return { ...tracked, cropOut, output, timings: { detect: tracked.detectMs, student, composite } };
  }

  /** Finds and smooths the face and makes its aligned crop (at the student's size, 256 without a student). */
  async track(frame: PixelImage, time: number): Promise<TrackedFace> {
    const t0 = performance.now();
    const isDetecting = this.#lastFace === null || ++this.#sinceDetect >= this.#detectEvery;
    let face = this.#lastFace;
    if (isDetecting) {
      this.#sinceDetect = 0;
      const { image, letterbox } = letterboxFrame(frame);
      const raw = await this.#detect(blazeFaceInput(image));
      const found = postprocessBlazeFace(raw.scores, raw.regressors, letterbox)[0] ?? null;
      face = this.#lastFace = this.#smoother.next(found, time);
    }
    if (face === null) return { face, alignment: null, crop: null, isDetected: isDetecting, detectMs: performance.now() - t0 };
    const { crop, alignment } = alignedFrameCrop(frame, face, this.#student?.size ?? 256);
    return { face, alignment, crop, isDetected: isDetecting, detectMs: performance.now() - t0 };
  }

  /** Runs the student on a crop (nothing without a crop or a student). */
  async applyStudent(crop: PixelImage | null, channels: number): Promise<{ cropOut: PixelImage | null; ms: number }> {
    const t0 = performance.now();
    const student = this.#student;
    // A crop made for another size (the student was swapped meanwhile) waits for the next frame.
    if (student === null || crop === null || crop.width !== student.size) return { cropOut: null, ms: 0 };
    const cropOut = tensorToCrop(await student.run(cropToTensor(crop)), student.size, channels);
    return { cropOut, ms: performance.now() - t0 };
  }
}

/** A tracked face and its aligned crop, before the student. */
export interface TrackedFace {
  face: FaceDetection | null;
  alignment: FaceAlignment | null;
  crop: PixelImage | null;
  /** Whether BlazeFace ran on this frame (else the tracked face carried over). */
  isDetected: boolean;
  /** Milliseconds of letterbox, detection, smoothing and cropping. */
  detectMs: number;
}

/** A copy of `frame` with `cropOut` pasted back through `alignment` with a feathered edge (a plain copy without a crop). */
export function compositeFrame(frame: PixelImage, cropOut: PixelImage | null, alignment: Pick<FaceAlignment, 'toCrop'> | null): { output: PixelImage; ms: number } {
  const t0 = performance.now();
  const output = copyImage(frame);
  if (cropOut !== null && alignment !== null) pasteBack(output, cropOut, alignment.toCrop, { feather: cropOut.width * PASTE_FEATHER });
  return { output, ms: performance.now() - t0 };
}
