// Turns BlazeFace's raw outputs (scores and anchor-relative regressors) into detections, as MediaPipe's TensorsToDetections does.
import type { FaceDetection, Point } from './types.ts';

/** Options of {@link decodeDetections}. */
export interface DecodeOptions {
  /** Model input size in pixels; regressors are in these pixels (MediaPipe's x/y/w/h scale). */
  inputSize: number;
  /** Detections scoring below this (after the sigmoid) are dropped. MediaPipe's short-range model uses 0.5. */
  minScore: number;
  /** Keypoints per anchor (BlazeFace: 6). */
  keypointCount: number;
}

/** MediaPipe clips raw scores to ±100 before the sigmoid so that exp() cannot overflow. */
const SCORE_CLIP = 100;

/** The logistic function, after MediaPipe's clipping. */
export function sigmoid(raw: number): number {
  const clipped = Math.min(SCORE_CLIP, Math.max(-SCORE_CLIP, raw));
  return 1 / (1 + Math.exp(-clipped));
}

/**
 * Decodes every anchor whose score passes `minScore`.
 *
 * `rawScores` holds one logit per anchor; `rawRegressors` holds `4 + 2·keypointCount` values per anchor: box centre
 * offset (x, y), box size (w, h), then keypoint offsets, all in input pixels relative to the anchor centre.
 * `anchors` are the centres from `generateAnchors` (normalised, fixed size 1). Results are in normalised [0, 1]
 * coordinates of the model input.
 */
export function decodeDetections(
  rawScores: ArrayLike<number>,
  rawRegressors: ArrayLike<number>,
  anchors: Float32Array,
  options: DecodeOptions,
): FaceDetection[] {
  const count = anchors.length / 2;
  const stride = 4 + 2 * options.keypointCount;
  if (rawScores.length !== count) {
    throw new Error(`decodeDetections: ${rawScores.length} scores for ${count} anchors`);
  }
  if (rawRegressors.length !== count * stride) {
    throw new Error(`decodeDetections: ${rawRegressors.length} regressor values, expected ${count} × ${stride}`);
  }
  const scale = options.inputSize;
  const out: FaceDetection[] = [];
  for (let i = 0; i < count; i++) {
    const score = sigmoid(rawScores[i]!);
    if (score < options.minScore) continue;
    const ax = anchors[2 * i]!;
    const ay = anchors[2 * i + 1]!;
    const r = i * stride;
    const cx = rawRegressors[r]! / scale + ax;
    const cy = rawRegressors[r + 1]! / scale + ay;
    const w = rawRegressors[r + 2]! / scale;
    const h = rawRegressors[r + 3]! / scale;
    const keypoints: Point[] = [];
    for (let k = 0; k < options.keypointCount; k++) {
      keypoints.push({
        x: rawRegressors[r + 4 + 2 * k]! / scale + ax,
        y: rawRegressors[r + 5 + 2 * k]! / scale + ay,
      });
    }
    out.push({ score, box: { x: cx - w / 2, y: cy - h / 2, width: w, height: h }, keypoints });
  }
  return out;
}
