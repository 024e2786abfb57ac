// Vector-Jacobian rules of MatMul and Gemm, written as Gemm with transpose flags wherever operands are 2-D.
import type { Graph, Tensor } from '../graph/index.ts';
import { floatOf, gy0, inp, intOf, reduceTo, type VjpRule } from './rule.ts';

function swapLast(g: Graph, t: Tensor): Tensor {
  const perm = t.shape.map((_, i) => i);
  perm[t.rank - 2] = t.rank - 1;
  perm[t.rank - 1] = t.rank - 2;
  return g.transpose(t, perm);
}

const matmul: VjpRule = (ctx) => {
  const { g } = ctx;
  const gy = gy0(ctx);
  const a = inp(ctx, 0);
  const b = inp(ctx, 1);
  if (b.rank === 2) {
    // Fold a's batch axes into rows: one Gemm per gradient, no transposes.
    const k = a.shape[a.rank - 1]!;
    const n = b.shape[1]!;
    const a2 = a.rank === 2 ? a : g.reshape(a, [-1, k]);
    const gy2 = gy.rank === 2 ? gy : g.reshape(gy, [-1, n]);
    const ga = ctx.needs[0] ? g.gemm(gy2, b, null, { transB: true }) : null;
    return [
      ga && a.rank !== 2 ? g.reshape(ga, a.shape) : ga,
      ctx.needs[1] ? g.gemm(a2, gy2, null, { transA: true }) : null,
    ];
  }
  return [
    ctx.needs[0] ? reduceTo(g, g.matmul(gy, swapLast(g, b)), a.shape) : null,
    ctx.needs[1] ? reduceTo(g, g.matmul(swapLast(g, a), gy), b.shape) : null,
  ];
};

const gemm: VjpRule = (ctx) => {
  const { g, node } = ctx;
  const gy = gy0(ctx);
  const a = inp(ctx, 0);
  const b = inp(ctx, 1);
  const c = node.inputs[2] ?? null;
  const alpha = floatOf(node, 'alpha', 1);
  const beta = floatOf(node, 'beta', 1);
  const tA = intOf(node, 'transA', 0) === 1;
  const tB = intOf(node, 'transB', 0) === 1;
  // With A' = op(A), B' = op(B): dA' = α·gy·B'ᵀ and dB' = α·A'ᵀ·gy, transposed back where op transposed.
  const ga = !ctx.needs[0]
    ? null
    : tA
      ? g.gemm(b, gy, null, { alpha, transA: tB, transB: true })
      : g.gemm(gy, b, null, { alpha, transB: !tB });
  const gb = !ctx.needs[1]
    ? null
    : tB
      ? g.gemm(gy, a, null, { alpha, transA: true, transB: tA })
      : g.gemm(a, gy, null, { alpha, transA: !tA });
  let gc = null;
  if (c && ctx.needs[2]) {
    gc = reduceTo(g, gy, c.shape);
    if (beta !== 1) gc = g.mul(gc, beta);
  }
  return c ? [ga, gb, gc] : [ga, gb];
};

/** Rules of the matrix products by ONNX op type. */
export const linearRules: Readonly<Record<string, VjpRule>> = { MatMul: matmul, Gemm: gemm };
