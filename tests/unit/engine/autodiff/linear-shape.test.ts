// VJP checks of MatMul, Gemm, the data-movement ops and the reductions against float64 finite differences.
import { describe, expect, it } from 'vitest';
import { INT64_MIN, type Graph, type Tensor } from '../../../../src/main/engine/graph/index.ts';
import { TOLERANCE, worstErrors } from '../support/gradcheck.ts';

type Build = (g: Graph) => { out: Tensor; wrt: Tensor[] };

const cases: Record<string, Build> = {
  'matmul 2-D': (g) => {
    const a = g.input('a', 'float32', [3, 4]);
    const b = g.input('b', 'float32', [4, 5]);
    return { out: g.matmul(a, b), wrt: [a, b] };
  },
  'matmul [2,3,4] @ [4,5] (batch folded into Gemm)': (g) => {
    const a = g.input('a', 'float32', [2, 3, 4]);
    const b = g.param('b', [4, 5], 'xavier');
    return { out: g.matmul(a, b), wrt: [a, b] };
  },
  'matmul with broadcast batch [2,1,3,4] @ [3,4,2]': (g) => {
    const a = g.input('a', 'float32', [2, 1, 3, 4]);
    const b = g.input('b', 'float32', [3, 4, 2]);
    return { out: g.matmul(a, b), wrt: [a, b] };
  },
  ...Object.fromEntries(
    [false, true].flatMap((transA) =>
      [false, true].map((transB): [string, Build] => [
        `gemm transA=${transA} transB=${transB} alpha 0.7 beta 1.3, bias [5]`,
        (g) => {
          const a = g.input('a', 'float32', transA ? [4, 3] : [3, 4]);
          const b = g.input('b', 'float32', transB ? [5, 4] : [4, 5]);
          const c = g.input('c', 'float32', [5]);
          return { out: g.gemm(a, b, c, { transA, transB, alpha: 0.7, beta: 1.3 }), wrt: [a, b, c] };
        },
      ]),
    ),
  ),
  'gemm without bias, alpha 1 (FLOAT)': (g) => {
    const a = g.input('a', 'float32', [2, 3]);
    const b = g.input('b', 'float32', [4, 3]);
    return { out: g.gemm(a, b, null, { transB: true, alpha: 1, beta: 2 }), wrt: [a, b] };
  },
  'reshape + transpose': (g) => {
    const x = g.input('x', 'float32', [2, 3, 4]);
    return { out: g.transpose(g.reshape(x, [4, -1, 2]), [2, 0, 1]), wrt: [x] };
  },
  'concat of three on axis 1 (one input used twice)': (g) => {
    const a = g.input('a', 'float32', [2, 2, 3]);
    const b = g.input('b', 'float32', [2, 1, 3]);
    return { out: g.concat([a, b, a], 1), wrt: [a, b] };
  },
  'split with an unused piece': (g) => {
    const x = g.input('x', 'float32', [2, 7]);
    const [p, , r] = g.split(x, [2, 3, 2], -1);
    return { out: g.mul(p!, r!), wrt: [x] };
  },
  'slice steps 1 with negative start': (g) => {
    const x = g.input('x', 'float32', [4, 6]);
    return { out: g.slice(x, { starts: [1, -4], ends: [3, 100], axes: [0, 1] }), wrt: [x] };
  },
  'slice step 2 and step 3': (g) => {
    const x = g.input('x', 'float32', [7, 8]);
    return { out: g.slice(x, { starts: [1, 0], ends: [7, 8], steps: [2, 3] }), wrt: [x] };
  },
  'slice flip (step -1, INT64_MIN end)': (g) => {
    const x = g.input('x', 'float32', [3, 5]);
    return { out: g.slice(x, { starts: [-2], ends: [INT64_MIN], axes: [1], steps: [-1] }), wrt: [x] };
  },
  'pad constant, asymmetric, with value': (g) => {
    const x = g.input('x', 'float32', [2, 3, 4]);
    return { out: g.mul(g.pad(x, [0, 1, 2, 0, 2, 1], { value: 0.5 }), g.pad(x, [0, 1, 2, 0, 2, 1])), wrt: [x] };
  },
  'pad with negative pads (crop)': (g) => {
    const x = g.input('x', 'float32', [3, 6]);
    return { out: g.pad(x, [1, -1, 0, -2]), wrt: [x] };
  },
  'expand [3,1] → [2,3,4]': (g) => {
    const x = g.input('x', 'float32', [3, 1]);
    return { out: g.expand(x, [2, 3, 4]), wrt: [x] };
  },
  'depthToSpace DCR and CRD': (g) => {
    const x = g.input('x', 'float32', [1, 8, 2, 3]);
    return { out: g.mul(g.depthToSpace(x, 2, 'DCR'), g.depthToSpace(x, 2, 'CRD')), wrt: [x] };
  },
  'reduceSum keepdims and not': (g) => {
    const x = g.input('x', 'float32', [2, 3, 4]);
    const a = g.reduceSum(x, { axes: [1], keepdims: false });
    const b = g.reduceSum(x, { axes: [0, -1], keepdims: true });
    return { out: g.mul(g.reshape(a, [2, 1, 4]), b), wrt: [x] };
  },
  'reduceMean over all and some axes': (g) => {
    const x = g.input('x', 'float32', [2, 3, 4]);
    return { out: g.add(g.reduceMean(g.mul(x, x), { axes: [2] }), g.reduceMean(x, { keepdims: false })), wrt: [x] };
  },
};

describe('linear-algebra and shape-op gradients', () => {
  for (const [name, build] of Object.entries(cases)) {
    it(`matches finite differences: ${name}`, async () => {
      const e = await worstErrors(build);
      expect(e.forward).toBeLessThan(TOLERANCE.forward);
      expect(e.gradient).toBeLessThan(TOLERANCE.gradient);
    });
  }
});
