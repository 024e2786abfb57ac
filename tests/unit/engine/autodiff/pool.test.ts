// VJP checks of the pooling and resampling ops against float64 finite differences.
import { describe, expect, it } from 'vitest';
import type { Graph, Tensor } from '../../../../src/main/engine/graph/index.ts';
import { TOLERANCE, worstErrors } from '../support/gradcheck.ts';

type Build = (g: Graph) => { out: Tensor; wrt: Tensor[] };

function on(shape: number[], f: (g: Graph, x: Tensor) => Tensor): Build {
  return (g) => {
    const x = g.input('x', 'float32', shape);
    return { out: f(g, x), wrt: [x] };
  };
}

const cases: Record<string, Build> = {
  'maxPool 2×2/2 even size': on([2, 3, 6, 4], (g, x) => g.maxPool(x, { kernel: 2 })),
  'maxPool 2×2/2 odd size (floor drops a row)': on([1, 2, 7, 5], (g, x) => g.maxPool(x, { kernel: 2 })),
  'maxPool 3×3/2 pad 1': on([2, 2, 7, 6], (g, x) => g.maxPool(x, { kernel: 3, strides: 2, pads: 1 })),
  'maxPool 3×3/1 pad 1 (overlapping windows)': on([1, 2, 5, 5], (g, x) => g.maxPool(x, { kernel: 3, strides: 1, pads: 1 })),
  'maxPool 2×3/(1,2) asymmetric pads': on([1, 2, 5, 7], (g, x) => g.maxPool(x, { kernel: [2, 3], strides: [1, 2], pads: [1, 0, 0, 2] })),
  'averagePool 2×2/2': on([2, 3, 6, 4], (g, x) => g.averagePool(x, { kernel: 2 })),
  'averagePool 2×2/2 odd size': on([1, 2, 5, 7], (g, x) => g.averagePool(x, { kernel: 2 })),
  'averagePool 3×3/2 pad 1 excluding pads': on([2, 2, 7, 6], (g, x) => g.averagePool(x, { kernel: 3, strides: 2, pads: 1 })),
  'averagePool 3×3/2 pad 1 including pads': on([1, 2, 6, 7], (g, x) =>
    g.averagePool(x, { kernel: 3, strides: 2, pads: 1, countIncludePad: true }),
  ),
  'averagePool 3×2/1 no pads': on([1, 2, 5, 4], (g, x) => g.averagePool(x, { kernel: [3, 2], strides: 1 })),
  'resize nearest ×2': on([2, 3, 3, 4], (g, x) => g.resize(x, { scales: [1, 1, 2, 2], mode: 'nearest' })),
  'resize nearest ×(3, 2)': on([1, 2, 2, 3], (g, x) => g.resize(x, { scales: [1, 1, 3, 2], mode: 'nearest' })),
  'resize bilinear ×2 (half_pixel)': on([2, 2, 4, 5], (g, x) => g.resize(x, { scales: [1, 1, 2, 2], mode: 'linear' })),
  'resize bilinear ×2 of a 1×1 map': on([1, 2, 1, 1], (g, x) => g.resize(x, { scales: [1, 1, 2, 2], mode: 'linear' })),
  'resize bilinear ×(1, 2)': on([1, 3, 3, 4], (g, x) => g.resize(x, { scales: [1, 1, 1, 2], mode: 'linear' })),
};

describe('pool and resize gradients', () => {
  for (const [name, build] of Object.entries(cases)) {
    it(`matches finite differences: ${name}`, async () => {
      const e = await worstErrors(build);
      expect(e.forward).toBeLessThan(TOLERANCE.forward);
      expect(e.gradient).toBeLessThan(TOLERANCE.gradient);
    });
  }
});
