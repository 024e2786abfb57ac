// VJP checks of the elementwise ops (broadcasting arithmetic, activations, Where) against float64 finite differences.
import { describe, expect, it } from 'vitest';
import { gradients } from '../../../../src/main/engine/autodiff/index.ts';
import { Graph, Rng, type Tensor } from '../../../../src/main/engine/graph/index.ts';
import { TOLERANCE, worstErrors } from '../support/gradcheck.ts';
import { runFloat, sessionFor } from '../support/ort.ts';

type Build = (g: Graph) => { out: Tensor; wrt: Tensor[]; feeds?: ReadonlyMap<string, Float32Array> };

/** Inputs whose values are positive (for Log, Sqrt, fractional Pow). */
function positive(name: string, n: number): ReadonlyMap<string, Float32Array> {
  const rng = new Rng(5, name);
  return new Map([[name, Float32Array.from({ length: n }, () => 0.3 + 2 * rng.uniform())]]);
}

/** A unary op on x [2,3,5] scaled so that its kinks and saturations are crossed. */
function unary(f: (g: Graph, x: Tensor) => Tensor, scale = 1): Build {
  return (g) => {
    const x = g.input('x', 'float32', [2, 3, 5]);
    return { out: f(g, g.mul(x, scale)), wrt: [x] };
  };
}

const cases: Record<string, Build> = {
  'add, broadcast [2,3,4] + [3,1]': (g) => {
    const a = g.input('a', 'float32', [2, 3, 4]);
    const b = g.input('b', 'float32', [3, 1]);
    return { out: g.add(a, b), wrt: [a, b] };
  },
  'sub, broadcast [4] - [2,3,4]': (g) => {
    const a = g.input('a', 'float32', [4]);
    const b = g.input('b', 'float32', [2, 3, 4]);
    return { out: g.sub(a, b), wrt: [a, b] };
  },
  'mul, broadcast [2,1,4] * [3,1] and a scalar': (g) => {
    const a = g.input('a', 'float32', [2, 1, 4]);
    const b = g.input('b', 'float32', [3, 1]);
    return { out: g.mul(g.mul(a, b), 1.5), wrt: [a, b] };
  },
  'div, broadcast [2,3] / [1] (positive divisor)': (g) => {
    const a = g.input('a', 'float32', [2, 3]);
    const b = g.input('b', 'float32', [1]);
    return { out: g.div(a, b), wrt: [a, b], feeds: positive('b', 1) };
  },
  'pow with constant exponents 2, 3, 0.5': (g) => {
    const x = g.input('x', 'float32', [2, 4]);
    return { out: g.add(g.add(g.pow(x, 2), g.pow(x, 3)), g.pow(x, 0.5)), wrt: [x], feeds: positive('x', 8) };
  },
  'pow with a tensor exponent': (g) => {
    const x = g.input('x', 'float32', [2, 3]);
    const e = g.input('e', 'float32', [3]);
    return { out: g.pow(x, e), wrt: [x, e], feeds: positive('x', 6) };
  },
  'fan-out: x used three times': (g) => {
    const x = g.input('x', 'float32', [3, 4]);
    return { out: g.mul(g.add(x, g.tanh(x)), x), wrt: [x] };
  },
  neg: unary((g, x) => g.neg(x)),
  relu: unary((g, x) => g.relu(x)),
  'leakyRelu 0.2': unary((g, x) => g.leakyRelu(x, 0.2)),
  'leakyRelu alpha 1 (FLOAT attribute)': unary((g, x) => g.leakyRelu(x, 1)),
  'relu6 over [-8, 8]': unary((g, x) => g.relu6(x), 4),
  'clip with only a max': unary((g, x) => g.clip(x, undefined, 0.5)),
  'hardSwish over [-8, 8]': unary((g, x) => g.hardSwish(x), 4),
  sigmoid: unary((g, x) => g.sigmoid(x), 2),
  tanh: unary((g, x) => g.tanh(x), 2),
  exp: unary((g, x) => g.exp(x)),
  abs: unary((g, x) => g.abs(x)),
  identity: unary((g, x) => g.identity(x)),
  log: (g) => {
    const x = g.input('x', 'float32', [2, 5]);
    return { out: g.log(x), wrt: [x], feeds: positive('x', 10) };
  },
  sqrt: (g) => {
    const x = g.input('x', 'float32', [2, 5]);
    return { out: g.sqrt(x), wrt: [x], feeds: positive('x', 10) };
  },
  'where(greater(a, b), a, b) with broadcasting': (g) => {
    const a = g.input('a', 'float32', [2, 3, 4]);
    const b = g.input('b', 'float32', [3, 1]);
    return { out: g.where(g.greater(a, b), a, g.mul(b, 2)), wrt: [a, b] };
  },
  'where(less(...)) with a scalar branch': (g) => {
    const a = g.input('a', 'float32', [4, 3]);
    return { out: g.where(g.less(a, 0.1), 0.5, g.exp(a)), wrt: [a] };
  },
  'cast float32 → float32 passes the gradient': unary((g, x) => g.cast(g.tanh(x), 'float32')),
};

describe('elementwise gradients', () => {
  for (const [name, build] of Object.entries(cases)) {
    it(`matches finite differences: ${name}`, async () => {
      const e = await worstErrors(build);
      expect(e.forward).toBeLessThan(TOLERANCE.forward);
      expect(e.gradient).toBeLessThan(TOLERANCE.gradient);
    });
  }
});

describe('clip gradient at its kinks', () => {
  it('passes the gradient strictly inside (min, max) as PyTorch does, also for values a hair from a bound', async () => {
    const below6 = Math.fround(6 - 2 ** -21); // the float just under 6
    const xs = [-1, 0, 1e-30, 1e-7, 3, below6, 6, 6.5, -1e-30];
    const expected = [0, 0, 1, 1, 1, 1, 0, 0, 0];
    for (const [lo, hi] of [[0, 6], [-2, 6]] as const) {
      const g = new Graph('clip-kinks');
      const x = g.input('x', 'float32', [xs.length]);
      const y = g.clip(x, lo, hi);
      const [gx] = gradients(g, g.reduceSum(y, { keepdims: false }), [x]);
      g.output('gx', gx!);
      const out = await runFloat(await sessionFor(g), g, new Map([['x', Float32Array.from(xs)]]));
      const want = lo === 0 ? expected : xs.map((v) => (v > lo && v < hi ? 1 : 0));
      expect([...out.get('gx')!.data], `clip(${lo}, ${hi})`).toEqual(want);
    }
  });
});

describe('abs gradient at its kink', () => {
  it('is ±1 for every normal input and 0 at 0, as PyTorch does', async () => {
    const xs = [-3e38, -2, -(2 ** -126), 0, 2 ** -126, 1e-30, 5];
    const g = new Graph('abs-kink');
    const x = g.input('x', 'float32', [xs.length]);
    const [gx] = gradients(g, g.reduceSum(g.abs(x), { keepdims: false }), [x]);
    g.output('gx', gx!);
    const out = await runFloat(await sessionFor(g), g, new Map([['x', Float32Array.from(xs)]]));
    expect([...out.get('gx')!.data].map((v) => v + 0)).toEqual(xs.map((v) => (v > 0 ? 1 : v < 0 ? -1 : 0)));
  });
});

describe('relu gradient at its kink', () => {
  it('passes the whole gradient for every positive normal output and none at 0, as PyTorch does', async () => {
    const xs = [-3, -1e-30, 0, 2 ** -126, 1e-30, 1e-7, 2, 3e38];
    const g = new Graph('relu-kink');
    const x = g.input('x', 'float32', [xs.length]);
    const up = g.input('up', 'float32', [xs.length]);
    const [gx] = gradients(g, g.reduceSum(g.mul(g.relu(x), up), { keepdims: false }), [x]);
    g.output('gx', gx!);
    const ups = xs.map((_, i) => 1.5 - i);
    const out = await runFloat(await sessionFor(g), g, new Map([['x', Float32Array.from(xs)], ['up', Float32Array.from(ups)]]));
    // (+ 0 makes a −0, a negative gradient times a zero mask, compare equal to 0.)
    expect([...out.get('gx')!.data].map((v) => v + 0)).toEqual(xs.map((v, i) => (v > 0 ? Math.fround(ups[i]!) : 0)));
  });
});
