// Face alignment: the similarity transform that puts a detected face upright in a square crop, FFHQ-style framing.
import { applyAffine, invertAffine, type Affine } from './affine.ts';
import { Keypoint, type FaceDetection, type Point } from './types.ts';

/** How a face was aligned: enough to crop it and to paste a processed crop back. */
export interface FaceAlignment {
  /** Crop side in pixels (e.g. 256 or 512). */
  size: number;
  /** Source-image pixels → crop pixels. */
  toCrop: Affine;
  /** Crop pixels → source-image pixels (the inverse of `toCrop`). */
  toSource: Affine;
  /** Rotation of the eye line in the source, radians (positive: the person's left eye is lower in the image). */
  angle: number;
  /** Side of the cropped square in source pixels. */
  sourceSide: number;
}

/**
 * Framing ratios of the FFHQ dataset's alignment, which StyleGAN teachers are trained on, so that photo crops frame
 * faces the way teacher samples do: the half-side of the square is the larger of 2× the eye distance and 1.8× the
 * eye-to-mouth distance, centred a tenth of the way from the eyes' midpoint towards the mouth.
 */
export const FFHQ_FRAMING = { eyeDistance: 2.0, eyeToMouth: 1.8, centreShift: 0.1 } as const;

/**
 * The alignment of one detected face into a `size`×`size` crop. The rotation levels the eye line exactly (FFHQ
 * blends in the mouth direction; with only BlazeFace's single mouth point the eyes are the steadier cue).
 */
export function alignFace(face: Pick<FaceDetection, 'keypoints'>, size: number): FaceAlignment {
  if (!(Number.isInteger(size) && size > 0)) throw new Error(`alignFace: size must be a positive integer, got ${size}`);
  const rightEye = face.keypoints[Keypoint.rightEye];
  const leftEye = face.keypoints[Keypoint.leftEye];
  const mouth = face.keypoints[Keypoint.mouth];
  if (rightEye === undefined || leftEye === undefined || mouth === undefined) {
    throw new Error(`alignFace: expected BlazeFace's 6 keypoints, got ${face.keypoints.length}`);
  }
  const eyeMid: Point = { x: (rightEye.x + leftEye.x) / 2, y: (rightEye.y + leftEye.y) / 2 };
  // The person's right eye is on the image's left, so this vector points left-to-right across the image.
  const eyeVec: Point = { x: leftEye.x - rightEye.x, y: leftEye.y - rightEye.y };
  const eyeToMouth: Point = { x: mouth.x - eyeMid.x, y: mouth.y - eyeMid.y };
  const halfSide = Math.max(
    Math.hypot(eyeVec.x, eyeVec.y) * FFHQ_FRAMING.eyeDistance,
    Math.hypot(eyeToMouth.x, eyeToMouth.y) * FFHQ_FRAMING.eyeToMouth,
  );
  if (!(halfSide > 0)) throw new Error('alignFace: the keypoints coincide');
  const centre: Point = {
    x: eyeMid.x + eyeToMouth.x * FFHQ_FRAMING.centreShift,
    y: eyeMid.y + eyeToMouth.y * FFHQ_FRAMING.centreShift,
  };
  const angle = Math.atan2(eyeVec.y, eyeVec.x);
  const s = size / (2 * halfSide);
  const cos = Math.cos(angle) * s;
  const sin = Math.sin(angle) * s;
  // Rotate by -angle about the centre, scale, and move the centre to the crop's middle.
  const toCrop: Affine = [
    cos,
    sin,
    size / 2 - (cos * centre.x + sin * centre.y),
    -sin,
    cos,
    size / 2 - (-sin * centre.x + cos * centre.y),
  ];
  return { size, toCrop, toSource: invertAffine(toCrop), angle, sourceSide: 2 * halfSide };
}

/** The face's keypoints in crop pixels. */
export function keypointsInCrop(face: Pick<FaceDetection, 'keypoints'>, alignment: FaceAlignment): Point[] {
  return face.keypoints.map((p) => applyAffine(alignment.toCrop, p));
}

/** Angle of the eye line in degrees (0: level), from the person's right eye to their left eye. */
export function eyeLineDegrees(keypoints: readonly Point[]): number {
  const r = keypoints[Keypoint.rightEye];
  const l = keypoints[Keypoint.leftEye];
  if (r === undefined || l === undefined) throw new Error('eyeLineDegrees: missing eye keypoints');
  return (Math.atan2(l.y - r.y, l.x - r.x) * 180) / Math.PI;
}
