// BlazeFace post-processing maths against hand-computed anchors, decodings, NMS clusters and letterbox mappings.
import { describe, expect, it } from 'vitest';
import { BLAZEFACE_FRONT_ANCHORS, generateAnchors } from '../../../src/shared/faces/anchors.ts';
import { decodeDetections, sigmoid } from '../../../src/shared/faces/decode.ts';
import { computeLetterbox, removeLetterbox } from '../../../src/shared/faces/letterbox.ts';
import { iou, weightedNms } from '../../../src/shared/faces/nms.ts';
import type { FaceDetection } from '../../../src/shared/faces/types.ts';

const anchors = generateAnchors(BLAZEFACE_FRONT_ANCHORS);
const at = (i: number): [number, number] => [anchors[2 * i]!, anchors[2 * i + 1]!];

describe('anchors', () => {
  it('has the 16×16×2 + 8×8×6 = 896 anchors of the front model', () => {
    expect(anchors.length / 2).toBe(896);
  });

  it('places anchors at cell centres, row by row, two per cell on the stride-8 grid', () => {
    expect(at(0)).toEqual([0.5 / 16, 0.5 / 16]);
    expect(at(1)).toEqual([0.5 / 16, 0.5 / 16]);
    expect(at(2)).toEqual([1.5 / 16, 0.5 / 16]);
    expect(at(32)).toEqual([0.5 / 16, 1.5 / 16]);
    expect(at(511)).toEqual([15.5 / 16, 15.5 / 16]);
  });

  it('folds the three stride-16 layers into six anchors per cell of the 8×8 grid', () => {
    for (let a = 0; a < 6; a++) expect(at(512 + a)).toEqual([0.5 / 8, 0.5 / 8]);
    expect(at(518)).toEqual([1.5 / 8, 0.5 / 8]);
    expect(at(512 + 6 * 8)).toEqual([0.5 / 8, 1.5 / 8]);
    expect(at(895)).toEqual([7.5 / 8, 7.5 / 8]);
  });
});

describe('decodeDetections', () => {
  it('decodes box and keypoints relative to the anchor, in input pixels / 128', () => {
    const scores = new Float32Array(896).fill(-10);
    const regs = new Float32Array(896 * 16);
    const i = 2; // anchor centre (1.5/16, 0.5/16) = (0.09375, 0.03125)
    scores[i] = 2;
    regs.set([12.8, -6.4, 32, 25.6, 0, 0, 6.4, 0, 0, 6.4, -6.4, -6.4, 1.28, 2.56, 3.84, 5.12], i * 16);
    const out = decodeDetections(scores, regs, anchors, { inputSize: 128, minScore: 0.5, keypointCount: 6 });
    expect(out).toHaveLength(1);
    const d = out[0]!;
    expect(d.score).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
    // centre (0.09375 + 0.1, 0.03125 - 0.05), size (0.25, 0.2)
    expect(d.box.x).toBeCloseTo(0.19375 - 0.125, 6);
    expect(d.box.y).toBeCloseTo(-0.01875 - 0.1, 6);
    expect(d.box.width).toBeCloseTo(0.25, 6);
    expect(d.box.height).toBeCloseTo(0.2, 6);
    const expected = [
      [0.09375, 0.03125],
      [0.14375, 0.03125],
      [0.09375, 0.08125],
      [0.04375, -0.01875],
      [0.10375, 0.05125],
      [0.12375, 0.07125],
    ];
    d.keypoints.forEach((p, k) => {
      expect(p.x).toBeCloseTo(expected[k]![0]!, 6);
      expect(p.y).toBeCloseTo(expected[k]![1]!, 6);
    });
  });

  it('keeps only anchors whose sigmoid score reaches the threshold, clipping huge logits', () => {
    const scores = new Float32Array(896).fill(-3);
    scores[10] = 0.1; // 0.525
    scores[600] = 1e6; // clipped to 100 → 1
    const out = decodeDetections(scores, new Float32Array(896 * 16), anchors, { inputSize: 128, minScore: 0.5, keypointCount: 6 });
    expect(out.map((d) => d.score)).toEqual([sigmoid(Math.fround(0.1)), 1]);
    expect(Number.isFinite(sigmoid(-1e9))).toBe(true);
  });

  it('rejects outputs of the wrong size', () => {
    expect(() => decodeDetections(new Float32Array(10), new Float32Array(160), anchors, { inputSize: 128, minScore: 0.5, keypointCount: 6 })).toThrow(
      /10 scores for 896 anchors/,
    );
  });
});

function det(score: number, x: number, y: number, w: number, h: number, kx: number): FaceDetection {
  return { score, box: { x, y, width: w, height: h }, keypoints: [{ x: kx, y: kx }] };
}

describe('weightedNms', () => {
  it('computes IoU of overlapping, nested and disjoint boxes', () => {
    expect(iou({ x: 0, y: 0, width: 2, height: 2 }, { x: 1, y: 1, width: 2, height: 2 })).toBeCloseTo(1 / 7, 12);
    expect(iou({ x: 0, y: 0, width: 4, height: 4 }, { x: 1, y: 1, width: 2, height: 2 })).toBeCloseTo(4 / 16, 12);
    expect(iou({ x: 0, y: 0, width: 1, height: 1 }, { x: 2, y: 2, width: 1, height: 1 })).toBe(0);
  });

  it('replaces a cluster by its score-weighted mean and keeps the best score', () => {
    const a = det(0.9, 0, 0, 10, 10, 1);
    const b = det(0.6, 1, 1, 10, 10, 4); // IoU with a = 81 / 119 > 0.3
    const far = det(0.7, 50, 50, 10, 10, 7);
    const out = weightedNms([b, far, a], 0.3);
    expect(out).toHaveLength(2);
    const [merged, other] = out;
    // weights 0.9 and 0.6: x0 = 0.6/1.5 = 0.4, x1 = (0.9*10 + 0.6*11)/1.5 = 10.4
    expect(merged!.score).toBe(0.9);
    expect(merged!.box.x).toBeCloseTo(0.4, 12);
    expect(merged!.box.y).toBeCloseTo(0.4, 12);
    expect(merged!.box.width).toBeCloseTo(10, 12);
    expect(merged!.keypoints[0]!.x).toBeCloseTo((0.9 * 1 + 0.6 * 4) / 1.5, 12);
    expect(other!.score).toBe(0.7);
    expect(other!.box.x).toBeCloseTo(50, 12);
    expect(other!.box.width).toBeCloseTo(10, 12);
  });

  it('does not merge boxes whose IoU is at or below the threshold', () => {
    const out = weightedNms([det(0.9, 0, 0, 2, 2, 0), det(0.8, 1, 1, 2, 2, 0)], 0.3);
    expect(out).toHaveLength(2);
  });
});

describe('letterbox', () => {
  it('fits a wide image with bars above and below, and maps detections back to its pixels', () => {
    const lb = computeLetterbox(512, 256, 128);
    expect(lb).toMatchObject({ contentWidth: 128, contentHeight: 64, padX: 0, padY: 32 });
    const mapped = removeLetterbox(
      { score: 1, box: { x: 0.25, y: 0.375, width: 0.5, height: 0.25 }, keypoints: [{ x: 0.5, y: 0.5 }] },
      lb,
    );
    // input pixel (32, 48) → content (32, 16) → image ×4 = (128, 64); size 64×32 input px → 256×128
    expect(mapped.box).toEqual({ x: 128, y: 64, width: 256, height: 128 });
    expect(mapped.keypoints[0]).toEqual({ x: 256, y: 128 });
  });

  it('fits a tall image with bars left and right', () => {
    expect(computeLetterbox(300, 600, 128)).toMatchObject({ contentWidth: 64, contentHeight: 128, padX: 32, padY: 0 });
  });
});
