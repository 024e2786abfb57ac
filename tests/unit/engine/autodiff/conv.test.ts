// VJP checks of Conv and ConvTranspose: ORT backward graphs against float64 finite differences.
import { describe, expect, it } from 'vitest';
import { Graph } from '../../../../src/main/engine/graph/index.ts';
import { gradCheck } from '../support/gradcheck.ts';

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  strides?: number[];
  pads?: number[];
  dilations?: number[];
  group?: number;
  bias?: boolean;
}

const convCases: ConvCase[] = [
  { name: '3×3 same, odd size', x: [2, 3, 7, 5], w: [4, 3, 3, 3], pads: [1, 1, 1, 1], bias: true },
  { name: '3×3 stride 2, odd size', x: [2, 3, 7, 7], w: [5, 3, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1], bias: true },
  { name: '3×3 stride 2, even size', x: [2, 2, 8, 6], w: [3, 2, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  { name: 'asymmetric pads', x: [1, 3, 6, 7], w: [2, 3, 3, 2], pads: [0, 2, 1, 0] },
  { name: 'dilation 2', x: [2, 2, 9, 8], w: [3, 2, 3, 3], dilations: [2, 2], pads: [2, 2, 2, 2] },
  { name: 'stride 2 + dilation 2 + asym pads', x: [1, 2, 10, 9], w: [2, 2, 3, 3], strides: [2, 2], dilations: [2, 2], pads: [1, 2, 2, 0] },
  { name: 'groups 2', x: [2, 4, 6, 6], w: [6, 2, 3, 3], group: 2, pads: [1, 1, 1, 1], bias: true },
  { name: 'depthwise', x: [2, 4, 7, 6], w: [4, 1, 3, 3], group: 4, pads: [1, 1, 1, 1], bias: true },
  { name: 'depthwise stride 2', x: [2, 3, 8, 7], w: [3, 1, 3, 3], group: 3, strides: [2, 2], pads: [1, 1, 1, 1] },
  { name: 'depthwise multiplier 2', x: [1, 3, 6, 5], w: [6, 1, 3, 3], group: 3, pads: [1, 1, 1, 1] },
  // Stride-1 convs with one input channel per group take the row-window weight gradient (no im2col).
  { name: 'depthwise 5×2 dilation 2, asymmetric pads', x: [2, 3, 9, 8], w: [3, 1, 5, 2], group: 3, dilations: [2, 2], pads: [3, 0, 1, 2] },
  { name: 'depthwise multiplier 3, no padding', x: [2, 2, 6, 7], w: [6, 1, 3, 2], group: 2, bias: true },
  { name: 'depthwise, pads beyond kernel extent', x: [1, 2, 4, 5], w: [2, 1, 3, 3], group: 2, pads: [3, 2, 1, 3] },
  { name: 'depthwise 3×1, no column shift at all', x: [2, 2, 6, 4], w: [2, 1, 3, 1], group: 2, pads: [1, 0, 1, 0] },
  // Strided: row windows at the stride, the output gradient zero-stuffed between columns.
  { name: 'depthwise stride 2, even size, no padding (a floor drops a column)', x: [2, 2, 10, 10], w: [2, 1, 3, 3], group: 2, strides: [2, 2] },
  { name: 'depthwise stride 3×2 + dilation 2 + asym pads', x: [1, 3, 11, 9], w: [3, 1, 3, 2], group: 3, strides: [3, 2], dilations: [2, 2], pads: [1, 2, 0, 1] },
  { name: 'depthwise 2×2 stride 4 (stuffing beyond the reach)', x: [2, 2, 9, 11], w: [4, 1, 2, 2], group: 2, strides: [4, 4], pads: [1, 0, 1, 1] },
  { name: '1×1 pointwise', x: [2, 5, 4, 3], w: [3, 5, 1, 1], bias: true },
  // Above 32 im2col rows the weight gradient takes one Gemm per kernel offset instead of one over the concatenation.
  { name: '3×3, 5 input channels', x: [2, 5, 6, 5], w: [3, 5, 3, 3], pads: [1, 1, 1, 1] },
  { name: '3×3 stride 2, 4 input channels', x: [1, 4, 7, 6], w: [2, 4, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  { name: '1×1 stride 2', x: [2, 3, 5, 5], w: [4, 3, 1, 1], strides: [2, 2] },
  { name: 'pads beyond kernel extent', x: [1, 2, 4, 4], w: [2, 2, 2, 2], pads: [2, 1, 3, 2] },
  { name: '4×4 stride 3', x: [1, 2, 11, 10], w: [2, 2, 4, 4], strides: [3, 3], pads: [1, 0, 2, 1] },
  { name: '1-D conv', x: [2, 3, 9], w: [2, 3, 3], strides: [2], pads: [1, 1] },
];

describe('conv gradients', () => {
  for (const c of convCases) {
    it(`matches finite differences: ${c.name}`, async () => {
      const g = new Graph('conv', { seed: 3 });
      const x = g.input('x', 'float32', c.x);
      const w = g.param('w', c.w, { kind: 'normal', std: 0.5 });
      const b = c.bias ? g.param('b', [c.w[0]!], { kind: 'normal', std: 0.5 }) : null;
      const opts = { strides: c.strides, pads: c.pads, dilations: c.dilations, group: c.group };
      const y = g.conv(x, w, b, opts);
      const wrt = b ? [x, w, b] : [x, w];
      const r = await gradCheck(g, y, wrt);
      expect(r.forward).toBeLessThan(1e-5);
      for (const e of [...r.elementwise, ...r.directional]) expect(e).toBeLessThan(1e-4);
    });
  }
});

interface ConvTCase {
  name: string;
  x: number[];
  w: number[];
  strides?: number[];
  pads?: number[];
  dilations?: number[];
  group?: number;
  outputPadding?: number[];
}

const convTCases: ConvTCase[] = [
  { name: '4×4 stride 2 (×2 upsample)', x: [2, 3, 4, 5], w: [3, 2, 4, 4], strides: [2, 2], pads: [1, 1, 1, 1] },
  { name: '3×3 stride 2 output padding', x: [1, 2, 3, 4], w: [2, 3, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1], outputPadding: [1, 1] },
  { name: 'grouped', x: [2, 4, 3, 3], w: [4, 1, 3, 3], strides: [2, 2], group: 2 },
  { name: 'depthwise stride 1 dilation 2', x: [1, 3, 5, 4], w: [3, 1, 3, 3], group: 3, dilations: [2, 2], pads: [1, 2, 0, 1] },
];

describe('convTranspose gradients', () => {
  for (const c of convTCases) {
    it(`matches finite differences: ${c.name}`, async () => {
      const g = new Graph('convT', { seed: 4 });
      const x = g.input('x', 'float32', c.x);
      const w = g.param('w', c.w, { kind: 'normal', std: 0.5 });
      const b = g.param('b', [c.w[1]! * (c.group ?? 1)], { kind: 'normal', std: 0.5 });
      const y = g.convTranspose(x, w, b, { strides: c.strides, pads: c.pads, dilations: c.dilations, group: c.group, outputPadding: c.outputPadding });
      const r = await gradCheck(g, y, [x, w, b]);
      expect(r.forward).toBeLessThan(1e-5);
      for (const e of [...r.elementwise, ...r.directional]) expect(e).toBeLessThan(1e-4);
    });
  }
});
