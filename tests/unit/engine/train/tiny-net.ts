// Test helper: a tiny residual conv net on a fixed image-to-image mapping, compiled into a training program.
import { Graph } from '../../../../src/main/engine/graph/index.ts';
import type { OptimizerConfig } from '../../../../src/main/engine/optim/index.ts';
import { compileTrainProgram, type TrainProgram } from '../../../../src/main/engine/train/index.ts';

export const BATCH = 4;
export const SIZE = 12;
export const IMAGE_SHAPE = [BATCH, 3, SIZE, SIZE] as const;

/** Options of `tinyProgram`. */
export interface TinyOptions {
  optimizer?: OptimizerConfig;
  hidden?: number;
  clipGradNorm?: number;
  seed?: number;
}

/** out = x + conv3x3(relu(conv3x3(x))); loss = mean |out − y|; term `mse` = mean (out − y)². */
export function tinyProgram(options: TinyOptions = {}): TrainProgram {
  const hidden = options.hidden ?? 8;
  const g = new Graph('tiny-i2i', { seed: options.seed ?? 3 });
  const x = g.input('x', 'float32', IMAGE_SHAPE);
  const y = g.input('y', 'float32', IMAGE_SHAPE);
  const h = g.relu(g.conv(x, g.param('c1.weight', [hidden, 3, 3, 3], 'he'), g.param('c1.bias', [hidden], 'zeros'), { pads: 1 }));
  const r = g.conv(h, g.param('c2.weight', [3, hidden, 3, 3], { kind: 'normal', std: 0.01 }), g.param('c2.bias', [3], 'zeros'), { pads: 1 });
  const out = g.output('out', g.add(x, r));
  const diff = g.sub(out, y);
  const loss = g.reduceMean(g.abs(diff), { keepdims: false });
  const mse = g.reduceMean(g.mul(diff, diff), { keepdims: false });
  return compileTrainProgram({
    graph: g,
    loss,
    terms: { mse },
    forwardOutputs: ['out'],
    optimizer: options.optimizer ?? { kind: 'adam' },
    ...(options.clipGradNorm === undefined ? {} : { clipGradNorm: options.clipGradNorm }),
  });
}

/** Deterministic uniform numbers in [0, 1) from a seed (an LCG: reproducible, not good, randomness). */
export function uniform(seed: number, n: number): Float32Array {
  let s = (seed * 2654435761) >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

/** The mapping the net learns: a colour matrix plus an offset, then a blur of the green channel. */
export function target(x: Float32Array): Float32Array {
  const [n, c, h, w] = IMAGE_SHAPE;
  const M = [
    [0.6, 0.3, 0.1],
    [0.2, 0.5, 0.3],
    [0.1, 0.2, 0.7],
  ];
  const y = new Float32Array(x.length);
  // Zero outside the image, like the net's zero-padded convs.
  const at = (b: number, ch: number, i: number, j: number): number =>
    i < 0 || j < 0 || i >= h || j >= w ? 0 : x[((b * c + ch) * h + i) * w + j]!;
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++) {
          let v = 0.1;
          for (let k = 0; k < c; k++) v += M[ch]![k]! * at(b, k, i, j);
          if (ch === 1) v = 0.5 * v + 0.125 * (at(b, 1, i - 1, j) + at(b, 1, i + 1, j) + at(b, 1, i, j - 1) + at(b, 1, i, j + 1));
          y[((b * c + ch) * h + i) * w + j] = v;
        }
  return y;
}

/** Batch number `k` of the training stream: random images and their targets. */
export function batch(k: number): { x: Float32Array; y: Float32Array } {
  const x = uniform(1000 + k, IMAGE_SHAPE.reduce((a, b) => a * b, 1));
  return { x, y: target(x) };
}
