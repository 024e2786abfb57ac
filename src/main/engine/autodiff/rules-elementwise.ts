// Vector-Jacobian rules of the elementwise ops: arithmetic with broadcasting, activations, Where and Cast.
import { type Graph, isFloat, type Tensor } from '../graph/index.ts';
import { AutodiffError, constNumbers, floatOf, gy0, inp, reduceTo, type RuleContext, type VjpRule } from './rule.ts';

function onlyInput(ctx: RuleContext, f: () => ReturnType<VjpRule>[number]): ReturnType<VjpRule> {
  return [ctx.needs[0] ? f() : null];
}

const add: VjpRule = (ctx) => {
  const { g } = ctx;
  const gy = gy0(ctx);
  return [
    ctx.needs[0] ? reduceTo(g, gy, inp(ctx, 0).shape) : null,
    ctx.needs[1] ? reduceTo(g, gy, inp(ctx, 1).shape) : null,
  ];
};

const sub: VjpRule = (ctx) => {
  const { g } = ctx;
  const gy = gy0(ctx);
  return [
    ctx.needs[0] ? reduceTo(g, gy, inp(ctx, 0).shape) : null,
    ctx.needs[1] ? g.neg(reduceTo(g, gy, inp(ctx, 1).shape)) : null,
  ];
};

const mul: VjpRule = (ctx) => {
  const { g } = ctx;
  const gy = gy0(ctx);
  const a = inp(ctx, 0);
  const b = inp(ctx, 1);
  return [ctx.needs[0] ? reduceTo(g, g.mul(gy, b), a.shape) : null, ctx.needs[1] ? reduceTo(g, g.mul(gy, a), b.shape) : null];
};

const div: VjpRule = (ctx) => {
  const { g } = ctx;
  const gy = gy0(ctx);
  const a = inp(ctx, 0);
  const b = inp(ctx, 1);
  const y = ctx.node.outputs[0]!;
  // d(a/b)/db = -y/b, which avoids squaring b.
  return [
    ctx.needs[0] ? reduceTo(g, g.div(gy, b), a.shape) : null,
    ctx.needs[1] ? g.neg(reduceTo(g, g.div(g.mul(gy, y), b), b.shape)) : null,
  ];
};

const pow: VjpRule = (ctx) => {
  const { g } = ctx;
  const gy = gy0(ctx);
  const a = inp(ctx, 0);
  const b = inp(ctx, 1);
  const y = ctx.node.outputs[0]!;
  let ga = null;
  if (ctx.needs[0]) {
    const data = g.constantData(b);
    const c = data && data.length === 1 ? constNumbers(g, b, 'exponent')[0]! : undefined;
    // Common constant exponents get cheaper, exact forms.
    if (c === 1) ga = gy;
    else if (c === 2) ga = g.mul(gy, g.mul(a, 2));
    else if (c !== undefined) ga = g.mul(gy, g.mul(g.pow(a, c - 1), c));
    else ga = reduceTo(g, g.mul(gy, g.mul(b, g.pow(a, g.sub(b, 1)))), a.shape);
  }
  const gb = ctx.needs[1] ? reduceTo(g, g.mul(gy, g.mul(y, g.log(a))), b.shape) : null;
  return [ga, gb];
};

const neg: VjpRule = (ctx) => onlyInput(ctx, () => ctx.g.neg(gy0(ctx)));

const identity: VjpRule = (ctx) => onlyInput(ctx, () => gy0(ctx));

/**
 * `gy` where `t > 0`, else 0, as `gy · clip(t·2¹²⁶, 0, 1)`: the mask is exactly 1 for every `t` of at least the
 * smallest normal float and 0 for `t ≤ 0` (a subnormal `t`, below 1.2·10⁻³⁸, would pass a scaled gradient). Three
 * float ops that ORT's CPU provider runs on all threads, where a Where, or a Greater's Cast to float, runs on one
 * (about a quarter faster); every execution provider has them.
 */
function passPositive(g: Graph, t: Tensor, gy: Tensor): Tensor {
  return g.mul(gy, g.clip(g.mul(t, 2 ** 126), 0, 1));
}

/** Whether `t` is a constant whose every element is 0. */
function isZeroConstant(g: RuleContext['g'], t: Tensor): boolean {
  const data = g.constantData(t);
  return data !== undefined && Array.from(data as ArrayLike<number | bigint>, Number).every((v) => v === 0);
}

/**
 * The mask reads the output (`relu(x) > 0` exactly when `x > 0`), so nothing but the Relu reads the pre-activation
 * and ORT fuses a producing Conv with it (FusedConv: one pass less over the map).
 */
const relu: VjpRule = (ctx) => onlyInput(ctx, () => passPositive(ctx.g, ctx.node.outputs[0]!, gy0(ctx)));

const leakyRelu: VjpRule = (ctx) =>
  onlyInput(ctx, () => {
    const { g } = ctx;
    const gy = gy0(ctx);
    const alpha = floatOf(ctx.node, 'alpha', 0.01);
    return g.where(g.greater(inp(ctx, 0), 0), gy, g.mul(gy, alpha));
  });

const clip: VjpRule = (ctx) => {
  const { g } = ctx;
  const x = inp(ctx, 0);
  if (ctx.needs[1] || ctx.needs[2]) throw new AutodiffError(`autodiff: clip "${ctx.node.name}": bounds must be constants`);
  if (!ctx.needs[0]) return [null, null, null];
  const lo = ctx.node.inputs[1];
  const hi = ctx.node.inputs[2];
  // PyTorch's hardtanh/relu6 rule: the gradient passes strictly inside (min, max).
  const gy = gy0(ctx);
  if (lo && hi) {
    // One mask instead of two: (x − lo)·(hi − x) > 0 exactly when lo < x < hi (a float difference is zero only for
    // equal operands, so each factor has the right sign). Saves a mask over the whole tensor.
    const above = isZeroConstant(g, lo) ? x : g.sub(x, lo);
    return [passPositive(g, g.mul(above, g.sub(hi, x)), gy), null, null];
  }
  if (hi) return [passPositive(g, g.sub(hi, x), gy), null, null];
  if (lo) return [passPositive(g, isZeroConstant(g, lo) ? x : g.sub(x, lo), gy), null, null];
  return [gy, null, null];
};

const hardSwish: VjpRule = (ctx) =>
  onlyInput(ctx, () => {
    const { g } = ctx;
    const x = inp(ctx, 0);
    const gy = gy0(ctx);
    // PyTorch: 0 below -3, gy·(x/3 + 1/2) on [-3, 3], gy above 3.
    const mid = g.mul(gy, g.add(g.mul(x, 1 / 3), 0.5));
    return g.where(g.less(x, -3), 0, g.where(g.greater(x, 3), gy, mid));
  });

const sigmoid: VjpRule = (ctx) =>
  onlyInput(ctx, () => {
    const { g } = ctx;
    const y = ctx.node.outputs[0]!;
    return g.mul(gy0(ctx), g.mul(y, g.sub(1, y)));
  });

const tanh: VjpRule = (ctx) =>
  onlyInput(ctx, () => {
    const { g } = ctx;
    const y = ctx.node.outputs[0]!;
    return g.mul(gy0(ctx), g.sub(1, g.mul(y, y)));
  });

const exp: VjpRule = (ctx) => onlyInput(ctx, () => ctx.g.mul(gy0(ctx), ctx.node.outputs[0]!));

const log: VjpRule = (ctx) => onlyInput(ctx, () => ctx.g.div(gy0(ctx), inp(ctx, 0)));

const sqrt: VjpRule = (ctx) => onlyInput(ctx, () => ctx.g.div(ctx.g.mul(gy0(ctx), 0.5), ctx.node.outputs[0]!));

const abs: VjpRule = (ctx) =>
  onlyInput(ctx, () => {
    const { g } = ctx;
    const x = inp(ctx, 0);
    const gy = gy0(ctx);
    // sign(x)·gy without the Sign op (missing on some GPU EPs), as clip(x·2¹²⁶, −1, 1): ±1 for every normal float,
    // 0 at x = 0 like PyTorch (a subnormal x would pass a scaled gradient); float ops that ORT runs on all threads,
    // where its Where runs on one.
    return g.mul(gy, g.clip(g.mul(x, 2 ** 126), -1, 1));
  });

const where: VjpRule = (ctx) => {
  const { g } = ctx;
  const cond = inp(ctx, 0);
  const gy = gy0(ctx);
  return [
    null,
    ctx.needs[1] ? reduceTo(g, g.where(cond, gy, 0), inp(ctx, 1).shape) : null,
    ctx.needs[2] ? reduceTo(g, g.where(cond, 0, gy), inp(ctx, 2).shape) : null,
  ];
};

const cast: VjpRule = (ctx) =>
  onlyInput(ctx, () => {
    const x = inp(ctx, 0);
    const gy = gy0(ctx);
    if (!isFloat(x.dtype) || !isFloat(gy.dtype)) return null;
    return x.dtype === gy.dtype ? gy : ctx.g.cast(gy, x.dtype);
  });

/** Rules of the elementwise ops by ONNX op type. */
export const elementwiseRules: Readonly<Record<string, VjpRule>> = {
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Pow: pow,
  Neg: neg,
  Identity: identity,
  Relu: relu,
  LeakyRelu: leakyRelu,
  Clip: clip,
  HardSwish: hardSwish,
  Sigmoid: sigmoid,
  Tanh: tanh,
  Exp: exp,
  Log: log,
  Sqrt: sqrt,
  Abs: abs,
  Where: where,
  Cast: cast,
};
