// 3×3 convs of nearest-upsampled maps at the low resolution: the same numbers as the plain form (dense, depthwise, after a concat) and correct gradients.
import { describe, expect, it } from 'vitest';
import { Graph, Rng, type Tensor } from '../../../../src/main/engine/graph/index.ts';
import { upsampledConcatConv3x3, upsampledConv3x3 } from '../../../../src/main/engine/layers/upsampled-conv.ts';
import { randomData, relInf, TOLERANCE, worstErrors } from '../support/gradcheck.ts';
import { runFloat, sessionFor } from '../support/ort.ts';

const up = (g: Graph, t: Tensor): Tensor => g.resize(t, { scales: [1, 1, 2, 2], mode: 'nearest' });

/** Runs both outputs on random inputs and returns their relative ∞-norm difference. */
async function difference(g: Graph, fast: Tensor, plain: Tensor): Promise<number> {
  g.output('fast', fast);
  g.output('plain', plain);
  const rng = new Rng(3, g.name);
  const feeds = new Map(g.inputs.map((t) => [t.name, randomData(rng, t.size)] as const));
  const out = await runFloat(await sessionFor(g), g, feeds);
  expect(out.get('fast')!.dims).toEqual(out.get('plain')!.dims);
  return relInf(out.get('fast')!.data, out.get('plain')!.data);
}

describe('upsampledConv3x3', () => {
  it('equals a 3×3 conv (padding 1) of the nearest-upsampled map, dense and depthwise, at odd sizes and at the borders', async () => {
    // M = 2 < C/2 takes all four phases and DepthToSpace; M = 4 and the depthwise conv take the row phases.
    for (const [group, m] of [[1, 2], [1, 4], [5, 5]] as const) {
      const g = new Graph(`up-conv-${group}-${m}`);
      const x = g.input('x', 'float32', [2, 5, 7, 6]);
      const w = g.input('w', 'float32', [m, 5 / group, 3, 3]);
      const b = g.input('b', 'float32', [w.shape[0]!]);
      const plain = g.conv(up(g, x), w, b, { pads: 1, group });
      expect(await difference(g, upsampledConv3x3(g, x, w, b, { group }), plain), `group ${group}, ${m} outputs`).toBeLessThan(1e-6);
    }
  });

  it('equals the plain conv of concat([up(low), high]) for dense, depthwise and other grouped convs', async () => {
    for (const [group, m] of [[1, 4], [6, 6], [2, 4]] as const) {
      const g = new Graph(`up-concat-${group}`);
      const low = g.input('low', 'float32', [2, 4, 5, 4]);
      const high = g.input('high', 'float32', [2, 2, 10, 8]);
      const w = g.input('w', 'float32', [m, 6 / group, 3, 3]);
      const b = g.input('b', 'float32', [m]);
      const plain = g.conv(g.concat([up(g, low), high], 1), w, b, { pads: 1, group });
      expect(await difference(g, upsampledConcatConv3x3(g, low, high, w, b, { group }), plain), `group ${group}`).toBeLessThan(1e-6);
    }
  });

  it('matches finite differences for the input, the weight and the bias, dense and depthwise', async () => {
    for (const [group, m] of [[1, 1], [1, 2], [3, 3]] as const) {
      const e = await worstErrors((g) => {
        const x = g.input('x', 'float32', [1, 3, 5, 4]);
        const w = g.input('w', 'float32', [m, 3 / group, 3, 3]);
        const b = g.input('b', 'float32', [w.shape[0]!]);
        return { out: upsampledConv3x3(g, x, w, b, { group }), wrt: [x, w, b] };
      });
      expect(e.forward, `group ${group}, ${m} outputs`).toBeLessThan(TOLERANCE.forward);
      expect(e.gradient, `group ${group}, ${m} outputs`).toBeLessThan(TOLERANCE.gradient);
    }
    const e = await worstErrors((g) => {
      const x = g.input('x', 'float32', [1, 3, 5, 4]);
      const w = g.input('w', 'float32', [3, 1, 3, 3]);
      const p = g.input('p', 'float32', [2, 3, 1, 1]);
      return { out: upsampledConv3x3(g, x, w, null, { group: 3, pixelwise: (t) => g.conv(g.tanh(t), p, null) }), wrt: [x, w, p] };
    });
    expect(e.forward, 'pixelwise').toBeLessThan(TOLERANCE.forward);
    expect(e.gradient, 'pixelwise').toBeLessThan(TOLERANCE.gradient);
  });

  it('applies a per-pixel function before the phases are interleaved: the same numbers as after them', async () => {
    // Both branches: all four phases (dense, 2 outputs) and row phases (depthwise).
    for (const [group, m] of [[1, 2], [5, 5]] as const) {
      const g = new Graph(`up-pixelwise-${group}`);
      const x = g.input('x', 'float32', [2, 5, 7, 6]);
      const w = g.input('w', 'float32', [m, 5 / group, 3, 3]);
      const b = g.input('b', 'float32', [m]);
      const p = g.input('p', 'float32', [3, m, 1, 1]);
      const pixelwise = (t: Tensor): Tensor => g.conv(g.relu(t), p, null);
      const plain = pixelwise(g.conv(up(g, x), w, b, { pads: 1, group }));
      expect(await difference(g, upsampledConv3x3(g, x, w, b, { group, pixelwise }), plain), `group ${group}`).toBeLessThan(1e-6);
    }
    const g = new Graph('up-pixelwise-bad');
    const x = g.input('x', 'float32', [1, 2, 4, 4]);
    const w = g.input('w', 'float32', [2, 1, 3, 3]);
    const pool = (t: Tensor): Tensor => g.averagePool(t, { kernel: 2, strides: 2 });
    expect(() => upsampledConv3x3(g, x, w, null, { group: 2, pixelwise: pool })).toThrow('pixelwise must keep [1, C, 8, 8], returned [1, 2, 4, 4]');
  });

  it('names the expected weight shape when it does not fit', () => {
    const g = new Graph('bad');
    const x = g.input('x', 'float32', [1, 3, 4, 4]);
    expect(() => upsampledConv3x3(g, x, g.input('w', 'float32', [2, 4, 3, 3]))).toThrow('weight [2, 4, 3, 3] is not [M, 3, 3, 3] for 1 group(s)');
  });
});
