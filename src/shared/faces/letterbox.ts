// Letterboxing: fitting an image into the detector's square input without distortion, and mapping results back.
import type { FaceDetection } from './types.ts';

/** Where an image of some size lands inside a square model input when scaled to fit and centred. */
export interface Letterbox {
  /** Side of the square input in pixels. */
  size: number;
  /** Size of the scaled image inside the input (whole pixels). */
  contentWidth: number;
  contentHeight: number;
  /** Offset of the scaled image's top-left corner inside the input. */
  padX: number;
  padY: number;
  /** Source size the letterbox was computed for. */
  sourceWidth: number;
  sourceHeight: number;
}

/** The letterbox of a `width`×`height` image in a `size`×`size` input. */
export function computeLetterbox(width: number, height: number, size: number): Letterbox {
  if (!(width > 0 && height > 0)) throw new Error(`computeLetterbox: bad image size ${width}×${height}`);
  const scale = size / Math.max(width, height);
  const contentWidth = Math.max(1, Math.min(size, Math.round(width * scale)));
  const contentHeight = Math.max(1, Math.min(size, Math.round(height * scale)));
  return {
    size,
    contentWidth,
    contentHeight,
    padX: Math.floor((size - contentWidth) / 2),
    padY: Math.floor((size - contentHeight) / 2),
    sourceWidth: width,
    sourceHeight: height,
  };
}

/**
 * Maps a detection in normalised model-input coordinates ([0, 1] of the square input) to source-image pixels,
 * undoing the letterbox (MediaPipe's DetectionLetterboxRemovalCalculator followed by denormalisation).
 */
export function removeLetterbox(d: FaceDetection, lb: Letterbox): FaceDetection {
  // Per-axis scales: the content size was rounded to whole pixels, so each axis scales slightly differently.
  const sx = lb.sourceWidth / lb.contentWidth;
  const sy = lb.sourceHeight / lb.contentHeight;
  const mapX = (u: number): number => (u * lb.size - lb.padX) * sx;
  const mapY = (v: number): number => (v * lb.size - lb.padY) * sy;
  return {
    score: d.score,
    box: { x: mapX(d.box.x), y: mapY(d.box.y), width: d.box.width * lb.size * sx, height: d.box.height * lb.size * sy },
    keypoints: d.keypoints.map((p) => ({ x: mapX(p.x), y: mapY(p.y) })),
  };
}
