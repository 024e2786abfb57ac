// 2-D affine transforms as six numbers: the maths shared by face alignment, cropping and pasting results back.
import type { Point } from './types.ts';

/** `[a, b, c, d, e, f]`: x' = a·x + b·y + c, y' = d·x + e·y + f. */
export type Affine = readonly [number, number, number, number, number, number];

/** The identity transform. */
export const IDENTITY: Affine = [1, 0, 0, 0, 1, 0];

/** Maps one point. */
export function applyAffine(m: Affine, p: Point): Point {
  return { x: m[0] * p.x + m[1] * p.y + m[2], y: m[3] * p.x + m[4] * p.y + m[5] };
}

/** The inverse transform; throws when `m` is singular. */
export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (Math.abs(det) < 1e-12) throw new Error('invertAffine: the transform is singular');
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det];
}

/** `outer ∘ inner`: applies `inner` first, then `outer`. */
export function composeAffine(outer: Affine, inner: Affine): Affine {
  const [a, b, c, d, e, f] = outer;
  const [p, q, r, s, t, u] = inner;
  return [a * p + b * s, a * q + b * t, a * r + b * u + c, d * p + e * s, d * q + e * t, d * r + e * u + f];
}

/** The similarity that scales by `scale`, rotates by `angle` (radians, x towards y) and then translates. */
export function similarity(scale: number, angle: number, tx: number, ty: number): Affine {
  const c = Math.cos(angle) * scale;
  const s = Math.sin(angle) * scale;
  return [c, -s, tx, s, c, ty];
}
