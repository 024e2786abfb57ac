// The vector-Jacobian rule interface and small helpers the rules share (broadcast reduction, zeros, axis moves).
import type { Graph, Node, Shape, Tensor } from '../graph/index.ts';
import { GraphBuildError, fmt } from '../graph/index.ts';

/** What a rule sees: the forward node, the gradients of its outputs, and which inputs need a gradient. */
export interface RuleContext {
  readonly g: Graph;
  readonly node: Node;
  /** Gradient of each output; null where nothing downstream depends on that output. */
  readonly gys: readonly (Tensor | null)[];
  /** Whether input i needs a gradient (float and downstream of a `wrt` tensor). */
  readonly needs: readonly boolean[];
}

/** A vector-Jacobian product: returns the gradient of each input (null where not needed or not differentiable). */
export type VjpRule = (ctx: RuleContext) => (Tensor | null)[];

/** Thrown when a graph cannot be differentiated (no rule, or a rule's unsupported case). */
export class AutodiffError extends GraphBuildError {
  override name = 'AutodiffError';
}

/** The single output gradient of a one-output node (rules run only when it exists). */
export function gy0(ctx: RuleContext): Tensor {
  const gy = ctx.gys[0];
  if (!gy) throw new AutodiffError(`autodiff: ${ctx.node.op} "${ctx.node.name}" has no output gradient`);
  return gy;
}

/** Input i of the node (must be present). */
export function inp(ctx: RuleContext, i: number): Tensor {
  const t = ctx.node.inputs[i];
  if (!t) throw new AutodiffError(`autodiff: ${ctx.node.op} "${ctx.node.name}" lacks input ${i}`);
  return t;
}

/** Integer-list attribute of the node, or a default. */
export function intsOf(node: Node, name: string, fallback: readonly number[]): number[] {
  const a = node.attrs[name];
  return a && a.type === 'ints' ? [...a.value] : [...fallback];
}

/** Integer attribute of the node, or a default. */
export function intOf(node: Node, name: string, fallback: number): number {
  const a = node.attrs[name];
  return a && a.type === 'int' ? a.value : fallback;
}

/** Float attribute of the node, or a default. */
export function floatOf(node: Node, name: string, fallback: number): number {
  const a = node.attrs[name];
  return a && a.type === 'float' ? a.value : fallback;
}

/** String attribute of the node, or a default. */
export function stringOf(node: Node, name: string, fallback: string): string {
  const a = node.attrs[name];
  return a && a.type === 'string' ? a.value : fallback;
}

/** Values of an int64 or float constant input, as numbers. */
export function constNumbers(g: Graph, t: Tensor | null | undefined, what: string): number[] {
  const data = t ? g.constantData(t) : undefined;
  if (!data) throw new AutodiffError(`autodiff: ${what} must be a constant`);
  return Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
}

/** Sums a broadcast gradient back to `shape` (numpy broadcasting in reverse). */
export function reduceTo(g: Graph, grad: Tensor, shape: Shape): Tensor {
  if (grad.rank === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad;
  const extra = grad.rank - shape.length;
  if (extra < 0) throw new AutodiffError(`autodiff: cannot reduce gradient ${fmt(grad.shape)} to ${fmt(shape)}`);
  const axes: number[] = [];
  grad.shape.forEach((d, i) => {
    if (i < extra || (shape[i - extra] === 1 && d !== 1)) axes.push(i);
  });
  const summed = axes.length ? g.reduceSum(grad, { axes, keepdims: true }) : grad;
  return summed.shape.every((d, i) => d === shape[i]) && summed.rank === shape.length ? summed : g.reshape(summed, shape);
}

/** A zero tensor of a shape (an Expand of a scalar, so no big constant is stored). */
export function zeros(g: Graph, shape: Shape, like: Tensor): Tensor {
  const z = g.scalar(0, like.dtype);
  return shape.length === 0 ? z : g.expand(z, shape);
}

/**
 * Transpose that degrades to a Reshape when only size-1 axes move (the element order is then unchanged),
 * which costs nothing at run time.
 */
export function permute(g: Graph, x: Tensor, perm: readonly number[]): Tensor {
  const order = perm.filter((a) => x.shape[a] !== 1);
  const sorted = order.every((a, i) => i === 0 || a > order[i - 1]!);
  const shape = perm.map((a) => x.shape[a]!);
  if (sorted) return g.reshape(x, shape);
  return g.transpose(x, perm);
}

/** Reshape that is skipped when the shape already matches. */
export function reshapeTo(g: Graph, x: Tensor, shape: Shape): Tensor {
  if (x.rank === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  return g.reshape(x, shape);
}
