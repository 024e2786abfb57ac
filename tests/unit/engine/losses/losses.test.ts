// Losses: values against closed forms computed here, gradients against float64 finite differences.
import { describe, expect, it } from 'vitest';
import { Graph, GraphBuildError, Rng, type Tensor } from '../../../../src/main/engine/graph/index.ts';
import { charbonnierLoss, l1Loss, mseLoss, multiScaleL1Loss } from '../../../../src/main/engine/losses/index.ts';
import { gradCheck, randomData, TOLERANCE } from '../support/gradcheck.ts';
import { runFloat, sessionFor } from '../support/ort.ts';

const shape = [2, 3, 8, 6];
const n = shape.reduce((a, b) => a * b, 1);
const rng = new Rng(21, 'losses');
const pred = randomData(rng, n);
const target = randomData(rng, n);

/** Mean of f(pred_i, target_i) for flat arrays, in float64. */
function mean(p: ArrayLike<number>, t: ArrayLike<number>, f: (d: number) => number): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += f(p[i]! - t[i]!);
  return s / p.length;
}

/** 2×2 average pooling of [N, C, H, W] data, in float64. */
function pool2(data: ArrayLike<number>, s: number[]): { data: Float64Array; shape: number[] } {
  const [nb, c, h, w] = s as [number, number, number, number];
  const ho = Math.floor(h / 2);
  const wo = Math.floor(w / 2);
  const out = new Float64Array(nb * c * ho * wo);
  for (let p = 0; p < nb * c; p++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++) {
        const at = (y: number, x: number): number => data[p * h * w + y * w + x]!;
        out[(p * ho + i) * wo + j] = (at(2 * i, 2 * j) + at(2 * i + 1, 2 * j) + at(2 * i, 2 * j + 1) + at(2 * i + 1, 2 * j + 1)) / 4;
      }
  return { data: out, shape: [nb, c, ho, wo] };
}

async function lossValue(build: (g: Graph) => Tensor): Promise<{ value: number; dims: readonly number[] }> {
  const g = new Graph('loss');
  g.input('pred', 'float32', shape);
  g.input('target', 'float32', shape);
  g.output('loss', build(g));
  const s = await sessionFor(g);
  const out = (await runFloat(s, g, new Map([['pred', pred], ['target', target]]))).get('loss')!;
  await s.release();
  return { value: out.data[0]!, dims: out.dims };
}

const p = (g: Graph) => g.inputs[0]!;
const t = (g: Graph) => g.inputs[1]!;

describe('loss values', () => {
  it('L1 is the mean absolute difference, as a scalar', async () => {
    const r = await lossValue((g) => l1Loss(g, p(g), t(g)));
    expect(r.dims).toEqual([]);
    expect(r.value).toBeCloseTo(mean(pred, target, Math.abs), 5);
  });

  it('MSE is the mean squared difference', async () => {
    const r = await lossValue((g) => mseLoss(g, p(g), t(g)));
    expect(r.value).toBeCloseTo(mean(pred, target, (d) => d * d), 5);
  });

  it('Charbonnier uses the configured eps', async () => {
    const eps = 0.5;
    const r = await lossValue((g) => charbonnierLoss(g, p(g), t(g), { eps }));
    expect(r.value).toBeCloseTo(mean(pred, target, (d) => Math.sqrt(d * d + eps * eps)), 5);
  });

  it('multi-scale L1 sums weighted L1 over a 2×2 average-pool pyramid', async () => {
    const weights = [1, 0.5, 0.25];
    const r = await lossValue((g) => multiScaleL1Loss(g, p(g), t(g), { weights }));
    let ps: { data: Float64Array; shape: number[] } = { data: Float64Array.from(pred), shape };
    let ts: { data: Float64Array; shape: number[] } = { data: Float64Array.from(target), shape };
    let expected = 0;
    weights.forEach((w, i) => {
      if (i > 0) {
        ps = pool2(ps.data, ps.shape);
        ts = pool2(ts.data, ts.shape);
      }
      expected += w * mean(ps.data, ts.data, Math.abs);
    });
    expect(r.value).toBeCloseTo(expected, 5);
  });

  it('rejects prediction/target shape mismatches naming both shapes', () => {
    const g = new Graph('bad');
    const a = g.input('a', 'float32', [1, 3, 4, 4]);
    const b = g.input('b', 'float32', [1, 3, 4, 5]);
    expect(() => l1Loss(g, a, b, 'recon')).toThrow(GraphBuildError);
    expect(() => l1Loss(g, a, b, 'recon')).toThrow('l1Loss "recon": prediction float32[1,3,4,4] and target float32[1,3,4,5] differ');
    expect(() => multiScaleL1Loss(g, a, a, { weights: [1, 1, 1, 1] })).toThrow(/4 scales do not fit prediction \[1,3,4,4\]/);
  });
});

describe('loss gradients', () => {
  const builds = {
    l1: (g: Graph, a: Tensor, b: Tensor) => l1Loss(g, a, b),
    mse: (g: Graph, a: Tensor, b: Tensor) => mseLoss(g, a, b),
    charbonnier: (g: Graph, a: Tensor, b: Tensor) => charbonnierLoss(g, a, b, { eps: 0.1 }),
    'multi-scale L1 (odd sizes)': (g: Graph, a: Tensor, b: Tensor) =>
      multiScaleL1Loss(g, a, b, { weights: [1, 0.5, 0.3] }),
  };
  for (const [name, build] of Object.entries(builds)) {
    it(`matches finite differences: ${name}`, async () => {
      const g = new Graph('lossgrad');
      const a = g.input('pred', 'float32', [2, 2, 7, 5]);
      const b = g.input('target', 'float32', [2, 2, 7, 5]);
      // The checker's random projection of a scalar loss is just a scale factor.
      const r = await gradCheck(g, build(g, a, b), [a]);
      expect(r.forward).toBeLessThan(TOLERANCE.forward);
      expect(Math.max(...r.elementwise, ...r.directional)).toBeLessThan(TOLERANCE.gradient);
    });
  }
});
