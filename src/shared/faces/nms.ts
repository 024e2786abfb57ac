// Weighted non-maximum suppression as MediaPipe's NonMaxSuppressionCalculator (WEIGHTED, IoU) performs it.
import type { Box, FaceDetection, Point } from './types.ts';

/** Intersection over union of two boxes; 0 when either is empty. */
export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  if (x1 <= x0 || y1 <= y0) return 0;
  const inter = (x1 - x0) * (y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Clusters overlapping detections and replaces each cluster by its score-weighted mean box and keypoints, keeping
 * the best score. Rather than discarding the runners-up (hard NMS), the weighted mean steadies boxes from frame to
 * frame, which is why MediaPipe uses it for faces. Output is ordered by score, best first.
 */
export function weightedNms(detections: readonly FaceDetection[], iouThreshold: number): FaceDetection[] {
  let remaining = [...detections].sort((a, b) => b.score - a.score);
  const out: FaceDetection[] = [];
  while (remaining.length > 0) {
    const best = remaining[0]!;
    const cluster: FaceDetection[] = [];
    const rest: FaceDetection[] = [];
    for (const d of remaining) (iou(d.box, best.box) > iouThreshold ? cluster : rest).push(d);
    out.push(cluster.length === 0 ? best : weightedMean(best, cluster));
    // A box whose own IoU is 0 (empty box) never joins its cluster; MediaPipe stops rather than loop forever.
    if (rest.length === remaining.length) break;
    remaining = rest;
  }
  return out;
}

function weightedMean(best: FaceDetection, cluster: readonly FaceDetection[]): FaceDetection {
  let total = 0;
  let x0 = 0;
  let y0 = 0;
  let x1 = 0;
  let y1 = 0;
  const keypoints: Point[] = best.keypoints.map(() => ({ x: 0, y: 0 }));
  for (const d of cluster) {
    const w = d.score;
    total += w;
    x0 += d.box.x * w;
    y0 += d.box.y * w;
    x1 += (d.box.x + d.box.width) * w;
    y1 += (d.box.y + d.box.height) * w;
    d.keypoints.forEach((p, k) => {
      const acc = keypoints[k]!;
      acc.x += p.x * w;
      acc.y += p.y * w;
    });
  }
  x0 /= total;
  y0 /= total;
  x1 /= total;
  y1 /= total;
  return {
    score: best.score,
    box: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 },
    keypoints: keypoints.map((p) => ({ x: p.x / total, y: p.y / total })),
  };
}
