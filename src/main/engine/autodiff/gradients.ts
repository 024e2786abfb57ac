// Reverse-mode autodiff over a Graph: appends the backward pass as ordinary ONNX ops, one VJP rule per forward op.
import { isFloat, sizeOf, fmt, type Graph, type Tensor } from '../graph/index.ts';
import { convRules } from './rules-conv.ts';
import { elementwiseRules } from './rules-elementwise.ts';
import { linearRules } from './rules-linear.ts';
import { poolRules } from './rules-pool.ts';
import { shapeRules } from './rules-shape.ts';
import { AutodiffError, type VjpRule } from './rule.ts';

/** Every op the autodiff can differentiate, by ONNX op type. */
export const VJP_RULES: Readonly<Record<string, VjpRule>> = {
  ...elementwiseRules,
  ...linearRules,
  ...convRules,
  ...poolRules,
  ...shapeRules,
};

/** Ops whose outputs carry no gradient (comparisons); the autodiff stops at them. */
const NON_DIFFERENTIABLE = new Set(['Greater', 'Less', 'Equal']);

/** Options of {@link gradients}. */
export interface GradientOptions {
  /** Gradient of `loss` to start from (same shape); default: ones, which requires a one-element loss. */
  seed?: Tensor;
}

/**
 * Appends to `g` the backward pass of `loss` and returns d loss / d t for each `t` in `wrt` (same shapes, in order).
 * A `wrt` tensor that the loss does not depend on gets zeros. Gradients of values used several times are summed.
 * Throws an {@link AutodiffError} naming the node when an op on the path has no rule or an unsupported case.
 */
export function gradients(g: Graph, loss: Tensor, wrt: readonly Tensor[], options: GradientOptions = {}): Tensor[] {
  if (!isFloat(loss.dtype)) throw new AutodiffError(`gradients: loss ${loss} must be a float tensor`);
  if (options.seed) {
    const s = options.seed;
    if (s.dtype !== loss.dtype || s.shape.length !== loss.shape.length || s.shape.some((d, i) => d !== loss.shape[i])) {
      throw new AutodiffError(`gradients: seed ${s} does not match loss ${loss}`);
    }
  } else if (sizeOf(loss.shape) !== 1) {
    throw new AutodiffError(`gradients: loss ${loss} must have one element ${fmt(loss.shape)} (or pass a seed)`);
  }

  const nodes = [...g.nodes];
  // Forward: values that depend on a wrt tensor. Backward: values the loss depends on.
  const fromWrt = new Set(wrt.map((t) => t.name));
  for (const n of nodes) {
    if (NON_DIFFERENTIABLE.has(n.op)) continue;
    if (n.inputs.some((t) => t && fromWrt.has(t.name))) for (const o of n.outputs) if (isFloat(o.dtype)) fromWrt.add(o.name);
  }
  const toLoss = new Set([loss.name]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (n.outputs.some((o) => toLoss.has(o.name))) for (const t of n.inputs) if (t) toLoss.add(t.name);
  }

  const contributions = new Map<string, Tensor[]>();
  const push = (t: Tensor, grad: Tensor): void => {
    if (grad.shape.length !== t.shape.length || grad.shape.some((d, i) => d !== t.shape[i])) {
      throw new AutodiffError(`autodiff: gradient ${fmt(grad.shape)} of ${t} has the wrong shape`);
    }
    const list = contributions.get(t.name);
    if (list) list.push(grad);
    else contributions.set(t.name, [grad]);
  };
  const total = (t: Tensor): Tensor | null => {
    const list = contributions.get(t.name);
    if (!list) return null;
    // Fan-out: sum every contribution once, then keep only the sum.
    let sum = list[0]!;
    for (let i = 1; i < list.length; i++) sum = g.add(sum, list[i]!);
    contributions.set(t.name, [sum]);
    return sum;
  };

  g.scope('grad', () => {
    push(loss, options.seed ?? g.constant(new Array<number>(sizeOf(loss.shape)).fill(1), loss.shape, loss.dtype));
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i]!;
      if (!node.outputs.some((o) => fromWrt.has(o.name) && toLoss.has(o.name))) continue;
      const gys = node.outputs.map((o) => (fromWrt.has(o.name) ? total(o) : null));
      if (gys.every((x) => x === null)) continue;
      const needs = node.inputs.map((t) => !!t && isFloat(t.dtype) && fromWrt.has(t.name));
      if (!needs.some(Boolean)) continue;
      const rule = VJP_RULES[node.op];
      if (!rule) throw new AutodiffError(`autodiff: no gradient rule for ${node.op} "${node.name}"`);
      const grads = g.scope(node.name, () => rule({ g, node, gys, needs }));
      node.inputs.forEach((t, k) => {
        const gr = grads[k];
        if (t && needs[k] && gr) push(t, gr);
      });
    }
  });

  return wrt.map((t) => {
    const gr = total(t);
    if (gr) return gr;
    const z = g.scalar(0, t.dtype);
    return t.shape.length === 0 ? z : g.expand(z, t.shape);
  });
}
