// Face detections as the studio passes them around: a box, six keypoints and a score, in some image's pixels.

/** A point in pixels (x right, y down). */
export interface Point {
  x: number;
  y: number;
}

/** An axis-aligned box: top-left corner and size, in pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One face found by the detector. */
export interface FaceDetection {
  /** Detector confidence in [0, 1]. */
  score: number;
  box: Box;
  /** Six keypoints in {@link Keypoint} order. */
  keypoints: Point[];
}

/** Indices of BlazeFace's keypoints; "right" and "left" are the person's own (the right eye appears on the image's left). */
export const Keypoint = {
  rightEye: 0,
  leftEye: 1,
  nose: 2,
  mouth: 3,
  rightEar: 4,
  leftEar: 5,
} as const;

/** How many keypoints BlazeFace predicts per face. */
export const KEYPOINT_COUNT = 6;
