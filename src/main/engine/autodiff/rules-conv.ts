// Vector-Jacobian rules of Conv and ConvTranspose (each is the other's adjoint in its input).
import { biasGrad, convInputGrad, convWeightGrad, type ConvParams } from './conv-grad.ts';
import { gy0, inp, intOf, intsOf, type RuleContext, type VjpRule } from './rule.ts';

function params(ctx: RuleContext, nsp: number): ConvParams {
  return {
    strides: intsOf(ctx.node, 'strides', new Array<number>(nsp).fill(1)),
    pads: intsOf(ctx.node, 'pads', new Array<number>(2 * nsp).fill(0)),
    dilations: intsOf(ctx.node, 'dilations', new Array<number>(nsp).fill(1)),
    group: intOf(ctx.node, 'group', 1),
  };
}

const conv: VjpRule = (ctx) => {
  const { g } = ctx;
  const x = inp(ctx, 0);
  const w = inp(ctx, 1);
  const gy = gy0(ctx);
  const p = params(ctx, x.rank - 2);
  const out = [
    ctx.needs[0] ? convInputGrad(g, gy, w, x.shape, p) : null,
    ctx.needs[1] ? convWeightGrad(g, x, gy, w.shape, p) : null,
  ];
  if (ctx.node.inputs[2]) out.push(ctx.needs[2] ? biasGrad(g, gy) : null);
  return out;
};

const convTranspose: VjpRule = (ctx) => {
  const { g } = ctx;
  const x = inp(ctx, 0);
  const w = inp(ctx, 1);
  const gy = gy0(ctx);
  const p = params(ctx, x.rank - 2);
  // ConvTranspose(x, w) is the adjoint of Conv(·, w) with the same hyper-parameters, so its input gradient is that
  // Conv, and its weight gradient is the Conv's weight gradient with the roles of input and output swapped.
  const out = [
    ctx.needs[0] ? g.conv(gy, w, null, p) : null,
    ctx.needs[1] ? convWeightGrad(g, gy, x, w.shape, p) : null,
  ];
  if (ctx.node.inputs[2]) out.push(ctx.needs[2] ? biasGrad(g, gy) : null);
  return out;
};

/** Rules of the convolutions by ONNX op type. */
export const convRules: Readonly<Record<string, VjpRule>> = { Conv: conv, ConvTranspose: convTranspose };
