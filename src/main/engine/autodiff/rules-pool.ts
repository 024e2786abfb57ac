// Vector-Jacobian rules of AveragePool, MaxPool (no Sign: Equal/Where against the max) and Resize.
import type { Graph, Tensor } from '../graph/index.ts';
import { kernelOffsets } from './conv-grad.ts';
import { AutodiffError, constNumbers, gy0, inp, intOf, intsOf, stringOf, type RuleContext, type VjpRule } from './rule.ts';

interface PoolWindow {
  kernel: number[];
  strides: number[];
  pads: number[];
}

function poolWindow(ctx: RuleContext): PoolWindow {
  const kernel = intsOf(ctx.node, 'kernel_shape', []);
  return {
    kernel,
    strides: intsOf(ctx.node, 'strides', kernel.map(() => 1)),
    pads: intsOf(ctx.node, 'pads', [...kernel, ...kernel].map(() => 0)),
  };
}

/** True when windows tile the input exactly in steps of the kernel (the common 2×2/2 pool). */
function isTiling(w: PoolWindow): boolean {
  return w.kernel.every((k, i) => k === w.strides[i]) && w.pads.every((p) => p === 0);
}

/** Pads the end of each spatial axis with zeros up to the input size (rows/cols the floor mode never pooled). */
function padToInput(g: Graph, t: Tensor, x: Tensor): Tensor {
  const extra = x.shape.map((d, i) => d - t.shape[i]!);
  return extra.some((e) => e !== 0) ? g.pad(t, [...extra.map(() => 0), ...extra]) : t;
}

/** Output padding that makes a ConvTranspose over the pooled size land exactly on the input size. */
function outputPadding(x: Tensor, w: PoolWindow): number[] {
  const nsp = w.kernel.length;
  return w.kernel.map((k, i) => (x.shape[i + 2]! + w.pads[i]! + w.pads[i + nsp]! - k) % w.strides[i]!);
}

/** Repeats each element `k` times along every spatial axis: `[N, C, h, w]` → `[N, C, h·k, w·k]` (Reshape + Expand). */
function repeatBlocks(g: Graph, t: Tensor, factors: readonly number[]): Tensor {
  const sp = t.shape.slice(2);
  const split = [t.shape[0]!, t.shape[1]!, ...sp.flatMap((d) => [d, 1])];
  const expanded = [t.shape[0]!, t.shape[1]!, ...sp.flatMap((d, i) => [d, factors[i]!])];
  const e = g.expand(g.reshape(t, split), expanded);
  return g.reshape(e, [t.shape[0]!, t.shape[1]!, ...sp.map((d, i) => d * factors[i]!)]);
}

const averagePool: VjpRule = (ctx) => {
  if (!ctx.needs[0]) return [null];
  const { g } = ctx;
  const x = inp(ctx, 0);
  const gy = gy0(ctx);
  const w = poolWindow(ctx);
  const nsp = w.kernel.length;
  const area = w.kernel.reduce((a, b) => a * b, 1);
  if (isTiling(w)) return [padToInput(g, repeatBlocks(g, g.mul(gy, 1 / area), w.kernel), x)];
  let scaled: Tensor;
  if (intOf(ctx.node, 'count_include_pad', 0) === 1 || w.pads.every((p) => p === 0)) scaled = g.mul(gy, 1 / area);
  else {
    // Border windows divide by their count of real elements: a constant map, known at build time.
    const outSp = gy.shape.slice(2);
    const perAxis = outSp.map((ho, i) =>
      Array.from({ length: ho }, (_, o) => {
        const start = o * w.strides[i]! - w.pads[i]!;
        return Math.min(start + w.kernel[i]!, x.shape[i + 2]!) - Math.max(start, 0);
      }),
    );
    const inv = kernelOffsets(outSp).map((o) => 1 / o.reduce((a, v, i) => a * perAxis[i]![v]!, 1));
    scaled = g.mul(gy, g.constant(inv, [1, 1, ...outSp], gy.dtype));
  }
  const c = x.shape[1]!;
  const ones = g.constant(new Array<number>(c * area).fill(1), [c, 1, ...w.kernel], gy.dtype);
  return [
    g.convTranspose(scaled, ones, null, {
      strides: w.strides,
      pads: w.pads.length ? w.pads : new Array<number>(2 * nsp).fill(0),
      group: c,
      outputPadding: outputPadding(x, w),
    }),
  ];
};

const maxPool: VjpRule = (ctx) => {
  if (!ctx.needs[0]) return [null];
  const { g } = ctx;
  const x = inp(ctx, 0);
  const y = ctx.node.outputs[0]!;
  const gy = gy0(ctx);
  const w = poolWindow(ctx);
  const nsp = w.kernel.length;
  const outSp = gy.shape.slice(2);
  const endNeed = outSp.map((ho, i) => w.kernel[i]! + w.strides[i]! * (ho - 1) - x.shape[i + 2]! - w.pads[i]!);
  const pads = [0, 0, ...w.pads.slice(0, nsp), 0, 0, ...endNeed.map((e) => Math.max(0, e))];
  const xp = pads.some((p) => p !== 0) ? g.pad(x, pads, { value: Number.NEGATIVE_INFINITY }) : x;
  const axes = outSp.map((_, i) => i + 2);
  const offsets = kernelOffsets(w.kernel);
  // Each output's gradient goes to the first window element equal to the max (PyTorch's tie rule): `remaining`
  // holds the gradient not yet routed and is cleared where an earlier offset took it.
  let remaining = gy;
  const parts = offsets.map((o, idx) => {
    const ends = o.map((v, i) => v + w.strides[i]! * (outSp[i]! - 1) + 1);
    const xs = g.slice(xp, { starts: o, ends, axes, steps: w.strides.some((s) => s !== 1) ? w.strides : undefined });
    const hit = g.equal(xs, y);
    const part = g.where(hit, remaining, 0);
    if (idx < offsets.length - 1) remaining = g.where(hit, 0, remaining);
    return part;
  });
  const c = x.shape[1]!;
  if (isTiling(w) && nsp === 2 && w.kernel[0] === w.kernel[1]) {
    const k = w.kernel[0]!;
    // Offset-major channel blocks are exactly DepthToSpace's DCR layout.
    const placed = parts.length === 1 ? parts[0]! : g.depthToSpace(g.concat(parts, 1), k, 'DCR');
    return [padToInput(g, placed, x)];
  }
  const kk = offsets.length;
  const stacked = g.reshape(
    g.concat(parts.map((t) => g.reshape(t, [t.shape[0]!, c, 1, ...outSp])), 2),
    [gy.shape[0]!, c * kk, ...outSp],
  );
  // A grouped ConvTranspose with one-hot kernels scatters each offset's part back to its input position.
  const onehot = new Array<number>(c * kk * kk).fill(0);
  for (let ch = 0; ch < c; ch++) for (let o = 0; o < kk; o++) onehot[(ch * kk + o) * kk + o] = 1;
  const kernelT = g.constant(onehot, [c * kk, 1, ...w.kernel], gy.dtype);
  return [
    g.convTranspose(stacked, kernelT, null, {
      strides: w.strides,
      pads: w.pads,
      group: c,
      outputPadding: outputPadding(x, w),
    }),
  ];
};

const resize: VjpRule = (ctx) => {
  const out = [null, null, null, null] as (Tensor | null)[];
  if (!ctx.needs[0]) return out.slice(0, ctx.node.inputs.length);
  const { g, node } = ctx;
  const x = inp(ctx, 0);
  const gy = gy0(ctx);
  const scales = constNumbers(g, node.inputs[2], `resize "${node.name}": scales`);
  const mode = stringOf(node, 'mode', 'nearest');
  const coord = stringOf(node, 'coordinate_transformation_mode', 'half_pixel');
  const unsupported = (): never => {
    throw new AutodiffError(
      `autodiff: resize "${node.name}": no gradient for mode ${mode}/${coord} with scales [${scales.join(',')}] ` +
        '(supported: nearest asymmetric/floor with integer scales, linear half_pixel ×2 on H/W)',
    );
  };
  let gx: Tensor;
  if (mode === 'nearest') {
    if (coord !== 'asymmetric' || stringOf(node, 'nearest_mode', 'round_prefer_floor') !== 'floor') unsupported();
    if (!scales.every((s) => Number.isInteger(s))) unsupported();
    // Each input element was copied into an s₁×s₂ block: sum the blocks (Reshape + ReduceSum).
    const split = x.shape.flatMap((d, i) => (scales[i]! > 1 ? [d, scales[i]!] : [d]));
    const axes: number[] = [];
    let pos = 0;
    x.shape.forEach((_, i) => {
      if (scales[i]! > 1) {
        axes.push(pos + 1);
        pos += 2;
      } else pos += 1;
    });
    gx = axes.length ? g.reduceSum(g.reshape(gy, split), { axes, keepdims: false }) : gy;
  } else if (mode === 'linear') {
    const ok =
      x.rank === 4 &&
      scales[0] === 1 &&
      scales[1] === 1 &&
      [scales[2], scales[3]].every((s) => s === 1 || s === 2) &&
      (coord === 'half_pixel' || coord === 'pytorch_half_pixel');
    if (!ok) unsupported();
    // The adjoint of half-pixel bilinear ×2 is a stride-2 depthwise conv with taps [¼, ¾, ¾, ¼] over the
    // edge-padded gradient (edge padding reproduces the clamping at the borders).
    const taps = (s: number): number[] => (s === 2 ? [0.25, 0.75, 0.75, 0.25] : [1]);
    const th = taps(scales[2]!);
    const tw = taps(scales[3]!);
    const c = x.shape[1]!;
    const kernel: number[] = [];
    for (let ch = 0; ch < c; ch++) for (const a of th) for (const b of tw) kernel.push(a * b);
    const ph = scales[2] === 2 ? 1 : 0;
    const pw = scales[3] === 2 ? 1 : 0;
    const padded = g.pad(gy, [0, 0, ph, pw, 0, 0, ph, pw], { mode: 'edge' });
    gx = g.conv(padded, g.constant(kernel, [c, 1, th.length, tw.length], gy.dtype), null, {
      strides: [scales[2]!, scales[3]!],
      group: c,
    });
  } else gx = unsupported();
  out[0] = gx;
  return out.slice(0, node.inputs.length);
};

/** Rules of the pooling and resampling ops by ONNX op type. */
export const poolRules: Readonly<Record<string, VjpRule>> = { AveragePool: averagePool, MaxPool: maxPool, Resize: resize };
