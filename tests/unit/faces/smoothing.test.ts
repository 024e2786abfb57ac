// One Euro smoothing of detections: the closed form of a first-order low-pass, less jitter on a still face, hold and reset.
import { describe, expect, it } from 'vitest';
import { DetectionSmoother, FACE_HOLD_SECONDS, lowPassAlpha, OneEuroFilter } from '../../../src/shared/faces/smoothing.ts';
import type { FaceDetection } from '../../../src/shared/faces/types.ts';

function face(x: number, y: number, side = 100): FaceDetection {
  return {
    score: 0.9,
    box: { x, y, width: side, height: side },
    keypoints: [0, 1, 2, 3, 4, 5].map((k) => ({ x: x + 10 * k, y: y + 5 * k })),
  };
}

describe('OneEuroFilter', () => {
  it('with beta 0 is the exponential low-pass whose step response is 1 − (1 − α)^n', () => {
    const dt = 1 / 30;
    const f = new OneEuroFilter({ minCutoff: 2, beta: 0, derivativeCutoff: 1 });
    f.next(0, dt);
    const alpha = 1 / (1 + 1 / (2 * Math.PI * 2) / dt);
    expect(lowPassAlpha(2, dt)).toBeCloseTo(alpha, 15);
    for (let n = 1; n <= 20; n++) expect(f.next(1, dt)).toBeCloseTo(1 - (1 - alpha) ** n, 12);
  });

  it('follows a fast move more closely when beta is larger', () => {
    const dt = 1 / 30;
    const slow = new OneEuroFilter({ minCutoff: 1, beta: 0, derivativeCutoff: 1 });
    const fast = new OneEuroFilter({ minCutoff: 1, beta: 1, derivativeCutoff: 1 });
    let a = 0;
    let b = 0;
    for (let i = 0; i <= 15; i++) {
      a = slow.next(i * 5, dt);
      b = fast.next(i * 5, dt);
    }
    expect(75 - b).toBeLessThan((75 - a) / 2);
  });
});

describe('DetectionSmoother', () => {
  it('cuts the jitter of a still face and keeps it centred', () => {
    const smoother = new DetectionSmoother();
    let seed = 7;
    const noise = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 6;
    const raw: number[] = [];
    const out: number[] = [];
    for (let i = 0; i < 90; i++) {
      const x = 200 + noise();
      raw.push(x);
      out.push(smoother.next(face(x, 100), i / 30)!.box.x);
    }
    const spread = (v: number[]): number => {
      const tail = v.slice(30);
      const mean = tail.reduce((s, x) => s + x, 0) / tail.length;
      return Math.sqrt(tail.reduce((s, x) => s + (x - mean) ** 2, 0) / tail.length);
    };
    expect(spread(out)).toBeLessThan(spread(raw) / 3);
    expect(Math.abs(out.slice(30).reduce((s, x) => s + x, 0) / 60 - 200)).toBeLessThan(1);
  });

  it('holds a face through a short miss, lets it go after a long one, and restarts on a jump', () => {
    const smoother = new DetectionSmoother();
    smoother.next(face(200, 100), 0);
    smoother.next(face(200, 100), 1 / 30);
    expect(smoother.next(null, 2 / 30)?.box.x).toBeCloseTo(200, 6);
    expect(smoother.next(null, 1 / 30 + FACE_HOLD_SECONDS + 0.01)).toBeNull();
    smoother.next(face(200, 100), 1);
    // A face elsewhere (no overlap) is taken as it is, not dragged over from the old position.
    expect(smoother.next(face(600, 300), 1 + 1 / 30)?.box.x).toBe(600);
  });
});
