// The half-resolution form of conv3×3(nearest ×2 upsample): the same numbers as the plain form, and correct gradients.
import { describe, expect, it } from 'vitest';
import { Graph, Rng } from '../../../src/main/engine/graph/index.ts';
import { upsampledConv3x3 } from '../../../src/main/student/upsampled-conv.ts';
import { randomData, relInf, TOLERANCE, worstErrors } from '../engine/support/gradcheck.ts';
import { runFloat, sessionFor } from '../engine/support/ort.ts';

describe('upsampledConv3x3', () => {
  it('equals a 3×3 conv (padding 1) of the nearest-upsampled map, at odd sizes and at the borders', async () => {
    const g = new Graph('up-conv');
    const x = g.input('x', 'float32', [2, 5, 7, 6]);
    const w = g.input('w', 'float32', [4, 5, 3, 3]);
    g.output('fast', upsampledConv3x3(g, x, w));
    g.output('plain', g.conv(g.resize(x, { scales: [1, 1, 2, 2], mode: 'nearest' }), w, null, { pads: 1 }));
    const rng = new Rng(3, 'up-conv');
    const feeds = new Map([
      ['x', randomData(rng, 2 * 5 * 7 * 6)],
      ['w', randomData(rng, 4 * 5 * 9)],
    ]);
    const out = await runFloat(await sessionFor(g), g, feeds);
    expect(out.get('fast')!.dims).toEqual([2, 4, 14, 12]);
    expect(relInf(out.get('fast')!.data, out.get('plain')!.data)).toBeLessThan(1e-6);
  });

  it('matches finite differences for the input and the weight', async () => {
    const e = await worstErrors((g) => {
      const x = g.input('x', 'float32', [1, 3, 5, 4]);
      const w = g.input('w', 'float32', [2, 3, 3, 3]);
      return { out: upsampledConv3x3(g, x, w), wrt: [x, w] };
    });
    expect(e.forward).toBeLessThan(TOLERANCE.forward);
    expect(e.gradient).toBeLessThan(TOLERANCE.gradient);
  });

  it('names the expected weight shape when it is not [M, C, 3, 3]', () => {
    const g = new Graph('bad');
    const x = g.input('x', 'float32', [1, 3, 4, 4]);
    expect(() => upsampledConv3x3(g, x, g.input('w', 'float32', [2, 4, 3, 3]))).toThrow('weight [2, 4, 3, 3] is not [M, 3, 3, 3]');
  });
});
