// The BlazeFace front model's contract, independent of the runtime: input tensor from pixels, detections from outputs.
import { BLAZEFACE_FRONT_ANCHORS, generateAnchors } from './anchors.ts';
import { decodeDetections } from './decode.ts';
import { removeLetterbox, type Letterbox } from './letterbox.ts';
import { weightedNms } from './nms.ts';
import { KEYPOINT_COUNT, type FaceDetection } from './types.ts';
import type { PixelImage } from './warp.ts';

/** Input and output names and sizes of `face_detection_front_128x128.onnx`. */
export const BLAZEFACE = {
  inputName: 'input:0',
  inputSize: 128,
  /** Scores of the 16×16×2 and 8×8×6 anchor grids, `[1, n, 1]` each. */
  scoreNames: ['Identity:0', 'Identity_1:0'],
  /** Regressors of the same grids, `[1, n, 16]` each. */
  regressorNames: ['Identity_2:0', 'Identity_3:0'],
  /** MediaPipe's short-range thresholds. */
  minScore: 0.5,
  nmsIou: 0.3,
} as const;

/** Options of {@link postprocessBlazeFace}. */
export interface BlazeFaceOptions {
  minScore?: number;
  nmsIou?: number;
}

let anchors: Float32Array | null = null;

/** The model's 896 anchor centres (computed once). */
export function blazeFaceAnchors(): Float32Array {
  anchors ??= generateAnchors(BLAZEFACE_FRONT_ANCHORS);
  return anchors;
}

/**
 * The model input for a letterboxed 128×128 RGB(A) image: NHWC float32 `[1, 128, 128, 3]` scaled to [-1, 1].
 */
export function blazeFaceInput(image: PixelImage): Float32Array {
  const size = BLAZEFACE.inputSize;
  if (image.width !== size || image.height !== size || image.channels < 3) {
    throw new Error(`blazeFaceInput: expected a ${size}×${size} RGB image, got ${image.width}×${image.height}×${image.channels}`);
  }
  const out = new Float32Array(size * size * 3);
  for (let i = 0, o = 0; i < size * size; i++) {
    const p = i * image.channels;
    out[o++] = image.data[p]! / 127.5 - 1;
    out[o++] = image.data[p + 1]! / 127.5 - 1;
    out[o++] = image.data[p + 2]! / 127.5 - 1;
  }
  return out;
}

/**
 * Faces in source-image pixels from the model's four outputs (scores and regressors of both grids, in
 * {@link BLAZEFACE} order) and the letterbox the input was made with. Best first.
 */
export function postprocessBlazeFace(
  scores: readonly [ArrayLike<number>, ArrayLike<number>],
  regressors: readonly [ArrayLike<number>, ArrayLike<number>],
  letterbox: Letterbox,
  options: BlazeFaceOptions = {},
): FaceDetection[] {
  const allScores = concat(scores[0], scores[1]);
  const allRegressors = concat(regressors[0], regressors[1]);
  const raw = decodeDetections(allScores, allRegressors, blazeFaceAnchors(), {
    inputSize: BLAZEFACE.inputSize,
    minScore: options.minScore ?? BLAZEFACE.minScore,
    keypointCount: KEYPOINT_COUNT,
  });
  return weightedNms(raw, options.nmsIou ?? BLAZEFACE.nmsIou).map((d) => removeLetterbox(d, letterbox));
}

function concat(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
