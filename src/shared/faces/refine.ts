// Two-stage landmark refinement: re-detect on the aligned crop, averaged with its mirror image, and map back.
import { applyAffine, composeAffine, type Affine } from './affine.ts';
import { alignFace } from './align.ts';
import type { FaceDetection } from './types.ts';
import { warpAffine, type PixelImage } from './warp.ts';

/** Any face detector over pixels (BlazeFace on onnxruntime-node in main, onnxruntime-web in the renderer). */
export type DetectFaces = (image: PixelImage) => Promise<FaceDetection[]>;

/** Options of {@link refineFace}. */
export interface RefineOptions {
  /** Side of the crop fed back to the detector: its input size (BlazeFace: 128). */
  inputSize: number;
  /** Re-detection rounds; each starts from the previous round's landmarks. Two settle on the photos tested. */
  passes: number;
}

/** Keypoint order after a horizontal flip: the person's right and left eyes and ears trade places. */
const MIRRORED: readonly number[] = [1, 0, 2, 3, 5, 4];

/**
 * Refines one detection. A face that fills only part of the frame covers few of the detector's 128 input pixels,
 * so its eye keypoints are off by several degrees; cropping the face upright and detecting again gives it the whole
 * input. The crop is also detected mirrored and the two averaged (with left and right swapped), which cancels the
 * detector's own left–right bias: on the astronaut photo this brings the eye line from ~6° off to under 1°.
 *
 * Returns null when the detector finds no face in the aligned crop: the first detection was then not a face.
 * `source` should not be much larger than the face (at most ~2× `inputSize` across it) or the warp aliases.
 */
export async function refineFace(
  detect: DetectFaces,
  source: PixelImage,
  face: FaceDetection,
  options: RefineOptions,
): Promise<FaceDetection | null> {
  let current = face;
  const size = options.inputSize;
  const mirror: Affine = [-1, 0, size, 0, 1, 0];
  for (let pass = 0; pass < options.passes; pass++) {
    const alignment = alignFace(current, size);
    const direct = await bestNearCentre(detect, warpAffine(source, alignment.toSource, size, size), size);
    if (direct === null) return null;
    const mirroredToSource = composeAffine(alignment.toSource, mirror);
    const flipped = await bestNearCentre(detect, warpAffine(source, mirroredToSource, size, size), size);
    const keypoints = direct.keypoints.map((p, k) => {
      const a = applyAffine(alignment.toSource, p);
      if (flipped === null) return a;
      const b = applyAffine(mirroredToSource, flipped.keypoints[MIRRORED[k]!]!);
      return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
    });
    const centre = applyAffine(alignment.toSource, {
      x: direct.box.x + direct.box.width / 2,
      y: direct.box.y + direct.box.height / 2,
    });
    const perPixel = alignment.sourceSide / size;
    const width = direct.box.width * perPixel;
    const height = direct.box.height * perPixel;
    current = {
      score: flipped === null ? direct.score : (direct.score + flipped.score) / 2,
      box: { x: centre.x - width / 2, y: centre.y - height / 2, width, height },
      keypoints,
    };
  }
  return current;
}

/** The detection closest to the crop's centre (where the aligned face is), or null when there is none. */
async function bestNearCentre(detect: DetectFaces, crop: PixelImage, size: number): Promise<FaceDetection | null> {
  let best: FaceDetection | null = null;
  let bestDistance = Infinity;
  for (const d of await detect(crop)) {
    const distance = Math.hypot(d.box.x + d.box.width / 2 - size / 2, d.box.y + d.box.height / 2 - size / 2);
    if (distance < bestDistance) {
      best = d;
      bestDistance = distance;
    }
  }
  return best;
}

/** A detection with x multiplied by `kx` and y by `ky` (e.g. from a resized copy back to the original image). */
export function scaleDetection(d: FaceDetection, kx: number, ky: number): FaceDetection {
  return {
    score: d.score,
    box: { x: d.box.x * kx, y: d.box.y * ky, width: d.box.width * kx, height: d.box.height * ky },
    keypoints: d.keypoints.map((p) => ({ x: p.x * kx, y: p.y * ky })),
  };
}
