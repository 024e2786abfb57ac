// Vector-Jacobian rules of the data-movement ops (Reshape, Transpose, Concat, Split, Slice, Pad, Expand,
// DepthToSpace) and of the reductions.
import { sliceRange, type Tensor } from '../graph/index.ts';
import { AutodiffError, constNumbers, gy0, inp, intOf, intsOf, reduceTo, stringOf, zeros, type VjpRule } from './rule.ts';

const reshape: VjpRule = (ctx) => [ctx.needs[0] ? ctx.g.reshape(gy0(ctx), inp(ctx, 0).shape) : null, null];

const transpose: VjpRule = (ctx) => {
  if (!ctx.needs[0]) return [null];
  const x = inp(ctx, 0);
  const perm = intsOf(ctx.node, 'perm', x.shape.map((_, i) => x.rank - 1 - i));
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return [ctx.g.transpose(gy0(ctx), inverse)];
};

const concat: VjpRule = (ctx) => {
  const axis = intOf(ctx.node, 'axis', 0);
  const sizes = ctx.node.inputs.map((t) => t!.shape[axis]!);
  const pieces = ctx.g.split(gy0(ctx), sizes, axis);
  return pieces.map((p, i) => (ctx.needs[i] ? p : null));
};

const split: VjpRule = (ctx) => {
  if (!ctx.needs[0]) return [null, null];
  const { g } = ctx;
  const axis = intOf(ctx.node, 'axis', 0);
  const parts = ctx.node.outputs.map((o, i) => ctx.gys[i] ?? zeros(g, o.shape, o));
  return [parts.length === 1 ? parts[0]! : g.concat(parts, axis), null];
};

const slice: VjpRule = (ctx) => {
  const { g, node } = ctx;
  const none = node.inputs.map(() => null);
  if (!ctx.needs[0]) return none;
  const x = inp(ctx, 0);
  const what = `slice "${node.name}"`;
  const starts = constNumbers(g, node.inputs[1], `${what}: starts`);
  const ends = constNumbers(g, node.inputs[2], `${what}: ends`);
  const axes = node.inputs[3] ? constNumbers(g, node.inputs[3], `${what}: axes`) : starts.map((_, i) => i);
  const steps = node.inputs[4] ? constNumbers(g, node.inputs[4], `${what}: steps`) : starts.map(() => 1);
  let gx = gy0(ctx);
  const begin = x.shape.map(() => 0);
  const flips: number[] = [];
  axes.forEach((a0, i) => {
    const a = a0 < 0 ? a0 + x.rank : a0;
    const step = steps[i]!;
    const r = sliceRange(x.shape[a]!, starts[i]!, ends[i]!, step)!;
    if (step === -1) {
      flips.push(a);
      begin[a] = r.start - r.length + 1;
    } else if (step >= 1) begin[a] = r.start;
    else throw new AutodiffError(`autodiff: ${what}: no gradient for step ${step} (steps ≥ 1 and -1 are supported)`);
  });
  if (flips.length) {
    gx = g.slice(gx, {
      starts: flips.map(() => -1),
      ends: flips.map(() => -9223372036854775808),
      axes: flips,
      steps: flips.map(() => -1),
    });
  }
  axes.forEach((a0, i) => {
    const a = a0 < 0 ? a0 + x.rank : a0;
    const s = steps[i]!;
    if (s <= 1 || gx.shape[a] === 0) return;
    // Interleave s−1 zeros after every element: [.., m, ..] → [.., m, 1, ..] → pad → [.., m·s, ..].
    const m = gx.shape[a]!;
    const spread = [...gx.shape.slice(0, a + 1), 1, ...gx.shape.slice(a + 1)];
    const padsSpread = spread.map(() => 0).concat(spread.map((_, j) => (j === a + 1 ? s - 1 : 0)));
    gx = g.reshape(g.pad(g.reshape(gx, spread), padsSpread), gx.shape.map((d, j) => (j === a ? m * s : d)));
  });
  // Negative end pads crop where the interleaved zeros run past the input's end.
  const pads = [...begin, ...x.shape.map((d, a) => d - begin[a]! - gx.shape[a]!)];
  const out = pads.some((p) => p !== 0) ? g.pad(gx, pads) : gx;
  return [out, ...none.slice(1)];
};

const pad: VjpRule = (ctx) => {
  const { g, node } = ctx;
  const none = node.inputs.map(() => null);
  if (!ctx.needs[0]) return none;
  const mode = stringOf(node, 'mode', 'constant');
  if (mode !== 'constant') {
    throw new AutodiffError(`autodiff: pad "${node.name}": no gradient for mode ${mode} (only constant padding)`);
  }
  const x = inp(ctx, 0);
  const gy = gy0(ctx);
  const pads = constNumbers(g, node.inputs[1], `pad "${node.name}": pads`);
  let gx: Tensor;
  if (pads.every((p) => p >= 0)) {
    const axes = x.shape.map((_, i) => i).filter((i) => pads[i] !== 0 || pads[i + x.rank] !== 0);
    gx = g.slice(gy, { starts: axes.map((a) => pads[a]!), ends: axes.map((a) => pads[a]! + x.shape[a]!), axes });
  } else gx = g.pad(gy, pads.map((p) => -p));
  return [gx, ...none.slice(1)];
};

const expand: VjpRule = (ctx) => [ctx.needs[0] ? reduceTo(ctx.g, gy0(ctx), inp(ctx, 0).shape) : null, null];

const depthToSpace: VjpRule = (ctx) => {
  if (!ctx.needs[0]) return [null];
  const { g, node } = ctx;
  const x = inp(ctx, 0);
  const b = intOf(node, 'blocksize', 1);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const co = c / (b * b);
  const dcr = stringOf(node, 'mode', 'DCR') === 'DCR';
  // Undo the op's own reshape/transpose: y = reshape(transpose(reshape(x, blocks), perm)).
  const blocks = dcr ? [n, b, b, co, h, w] : [n, co, b, b, h, w];
  const perm = dcr ? [0, 3, 4, 1, 5, 2] : [0, 1, 4, 2, 5, 3];
  const permuted = perm.map((a) => blocks[a]!);
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return [g.reshape(g.transpose(g.reshape(gy0(ctx), permuted), inverse), x.shape)];
};

function reduceRule(mean: boolean): VjpRule {
  return (ctx) => {
    const { g, node } = ctx;
    const none = node.inputs.map(() => null);
    if (!ctx.needs[0]) return none;
    const x = inp(ctx, 0);
    const axes = mean ? intsOf(node, 'axes', x.shape.map((_, i) => i)) : constNumbers(g, node.inputs[1], `reduce "${node.name}": axes`);
    const norm = axes.map((a) => (a < 0 ? a + x.rank : a));
    const kept = x.shape.map((d, i) => (norm.includes(i) ? 1 : d));
    let gy = g.reshape(gy0(ctx), kept);
    if (mean) gy = g.mul(gy, 1 / norm.reduce((p, a) => p * x.shape[a]!, 1));
    return [g.expand(gy, x.shape), ...none.slice(1)];
  };
}

/** Rules of the data-movement ops and reductions by ONNX op type. */
export const shapeRules: Readonly<Record<string, VjpRule>> = {
  Reshape: reshape,
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Slice: slice,
  Pad: pad,
  Expand: expand,
  DepthToSpace: depthToSpace,
  ReduceSum: reduceRule(false),
  ReduceMean: reduceRule(true),
};
