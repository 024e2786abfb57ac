// Feature-distance and least-squares GAN losses: values against closed forms computed here, gradients against finite differences.
import { describe, expect, it } from 'vitest';
import { Graph, GraphBuildError, Rng } from '../../../../src/main/engine/graph/index.ts';
import { featureLoss, lsganDiscriminatorLoss, lsganGeneratorLoss } from '../../../../src/main/engine/losses/index.ts';
import { gradCheck, randomData, TOLERANCE } from '../support/gradcheck.ts';
import { runFloat, sessionFor } from '../support/ort.ts';

const rng = new Rng(31, 'feature-gan');
const a1 = randomData(rng, 2 * 4 * 6 * 6);
const b1 = randomData(rng, 2 * 4 * 6 * 6);
const a2 = randomData(rng, 2 * 8 * 3 * 3);
const b2 = randomData(rng, 2 * 8 * 3 * 3);

function meanOf(x: ArrayLike<number>, f: (v: number, i: number) => number): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += f(x[i]!, i);
  return s / x.length;
}

async function scalar(g: Graph, feeds: Map<string, Float32Array>): Promise<number> {
  const session = await sessionFor(g);
  const out = (await runFloat(session, g, feeds)).get('value')!.data[0]!;
  await session.release();
  return out;
}

describe('feature and GAN losses', () => {
  it.each(['l1', 'l2'] as const)('featureLoss (%s) sums the per-map mean distances', async (distance) => {
    const g = new Graph('features');
    const p = [g.input('p1', 'float32', [2, 4, 6, 6]), g.input('p2', 'float32', [2, 8, 3, 3])];
    const t = [g.input('t1', 'float32', [2, 4, 6, 6]), g.input('t2', 'float32', [2, 8, 3, 3])];
    g.output('value', featureLoss(g, p, t, { distance }));
    const got = await scalar(g, new Map([['p1', a1], ['p2', a2], ['t1', b1], ['t2', b2]]));
    const d = distance === 'l1' ? (x: number): number => Math.abs(x) : (x: number): number => x * x;
    const expected = meanOf(a1, (v, i) => d(v - b1[i]!)) + meanOf(a2, (v, i) => d(v - b2[i]!));
    expect(Math.abs(got - expected) / expected).toBeLessThan(1e-6);
  });

  it('LSGAN losses match ½·mean((r − 1)²) + ½·mean(f²) and mean((f − 1)²)', async () => {
    const g = new Graph('lsgan');
    const r = g.input('r', 'float32', [2, 1, 6, 6]);
    const f = g.input('f', 'float32', [2, 1, 6, 6]);
    g.output('value', lsganDiscriminatorLoss(g, r, f));
    g.output('gen', lsganGeneratorLoss(g, f));
    const rv = a1.subarray(0, 72);
    const fv = b1.subarray(0, 72);
    const session = await sessionFor(g);
    const out = await runFloat(session, g, new Map([['r', Float32Array.from(rv)], ['f', Float32Array.from(fv)]]));
    await session.release();
    const dExpected = 0.5 * meanOf(rv, (v) => (v - 1) ** 2) + 0.5 * meanOf(fv, (v) => v * v);
    const gExpected = meanOf(fv, (v) => (v - 1) ** 2);
    expect(Math.abs(out.get('value')!.data[0]! - dExpected) / dExpected).toBeLessThan(1e-6);
    expect(Math.abs(out.get('gen')!.data[0]! - gExpected) / gExpected).toBeLessThan(1e-6);
    expect([...g.nodes].some((n) => n.op === 'Sign')).toBe(false);
  });

  it('passes the finite-difference check through both losses', async () => {
    const g = new Graph('grad');
    const p = g.input('p', 'float32', [2, 4, 6, 6]);
    const t = g.input('t', 'float32', [2, 4, 6, 6]);
    const total = g.add(featureLoss(g, [p], [t], { distance: 'l2' }), g.add(lsganDiscriminatorLoss(g, p, t), lsganGeneratorLoss(g, p)));
    const res = await gradCheck(g, total, [p, t], { feeds: new Map([['p', a1], ['t', b1]]) });
    expect(res.forward).toBeLessThan(TOLERANCE.forward);
    for (const e of [...res.elementwise, ...res.directional]) expect(e).toBeLessThan(TOLERANCE.gradient);
  });

  it('refuses feature lists of different lengths or shapes', () => {
    const g = new Graph('bad');
    const x = g.input('x', 'float32', [1, 2, 3, 3]);
    const y = g.input('y', 'float32', [1, 2, 4, 4]);
    expect(() => featureLoss(g, [x], [])).toThrow(GraphBuildError);
    expect(() => featureLoss(g, [x], [y])).toThrow(/map 0/);
  });
});
