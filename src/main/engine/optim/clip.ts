// Gradient clipping by global L2 norm, as graph ops (what torch.nn.utils.clip_grad_norm_ computes).
import type { Graph, Tensor } from '../graph/index.ts';

/**
 * Scales every gradient by `min(1, maxNorm / (‖g‖ + 1e-6))`, where ‖g‖ is the L2 norm of all gradients together.
 * Returns the scaled gradients and the norm before scaling (a useful training signal).
 */
export function clipByGlobalNorm(g: Graph, grads: readonly Tensor[], maxNorm: number): { grads: Tensor[]; norm: Tensor } {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) throw new Error(`clipByGlobalNorm: maxNorm must be positive, got ${maxNorm}`);
  if (grads.length === 0) throw new Error('clipByGlobalNorm: no gradients');
  const squares = grads.map((t) => g.reduceSum(g.mul(t, t), { keepdims: false }));
  let total = squares[0]!;
  for (const s of squares.slice(1)) total = g.add(total, s);
  const norm = g.sqrt(total);
  const coef = g.clip(g.div(g.scalar(maxNorm), g.add(norm, 1e-6)), undefined, 1);
  return { grads: grads.map((t) => g.mul(t, coef)), norm };
}
