// Training losses as graph ops (L1, MSE, Charbonnier, multi-scale L1, feature distance, LSGAN), differentiable scalars.
import { fmt, GraphBuildError, type Graph, type Tensor } from '../graph/index.ts';

function checkPair(loss: string, pred: Tensor, target: Tensor): void {
  if (pred.dtype !== target.dtype || pred.rank !== target.rank || pred.shape.some((d, i) => d !== target.shape[i])) {
    throw new GraphBuildError(
      `${loss}: prediction ${pred.dtype}${fmt(pred.shape)} and target ${target.dtype}${fmt(target.shape)} differ`,
    );
  }
}

function meanAll(g: Graph, t: Tensor): Tensor {
  return g.reduceMean(t, { keepdims: false });
}

/** Mean absolute error `mean(|pred − target|)`, a scalar (shape `[]`). */
export function l1Loss(g: Graph, pred: Tensor, target: Tensor, name = 'l1'): Tensor {
  checkPair(`l1Loss "${name}"`, pred, target);
  return g.scope(name, () => meanAll(g, g.abs(g.sub(pred, target))));
}

/** Mean squared error `mean((pred − target)²)`, a scalar (shape `[]`). */
export function mseLoss(g: Graph, pred: Tensor, target: Tensor, name = 'mse'): Tensor {
  checkPair(`mseLoss "${name}"`, pred, target);
  return g.scope(name, () => {
    const d = g.sub(pred, target);
    return meanAll(g, g.mul(d, d));
  });
}

/** Charbonnier (smooth L1) loss `mean(√((pred − target)² + ε²))`, a scalar; ε defaults to 1e-3. */
export function charbonnierLoss(g: Graph, pred: Tensor, target: Tensor, options: { eps?: number; name?: string } = {}): Tensor {
  const name = options.name ?? 'charbonnier';
  const eps = options.eps ?? 1e-3;
  checkPair(`charbonnierLoss "${name}"`, pred, target);
  if (!(eps > 0)) throw new GraphBuildError(`charbonnierLoss "${name}": eps ${eps} must be positive`);
  return g.scope(name, () => {
    const d = g.sub(pred, target);
    return meanAll(g, g.sqrt(g.add(g.mul(d, d), eps * eps)));
  });
}

/**
 * Multi-scale L1: `Σᵢ wᵢ·mean(|predᵢ − targetᵢ|)` over an image pyramid made by 2×2 average pooling
 * (scale 0 is full resolution). Inputs are `[N, C, H, W]`; each scale needs at least one pixel.
 */
export function multiScaleL1Loss(
  g: Graph,
  pred: Tensor,
  target: Tensor,
  options: { weights?: readonly number[]; name?: string } = {},
): Tensor {
  const name = options.name ?? 'ms_l1';
  const weights = options.weights ?? [1, 1, 1];
  checkPair(`multiScaleL1Loss "${name}"`, pred, target);
  const [, , h, w] = pred.shape;
  if (pred.rank !== 4 || weights.length === 0 || h! >> (weights.length - 1) < 1 || w! >> (weights.length - 1) < 1) {
    throw new GraphBuildError(
      `multiScaleL1Loss "${name}": ${weights.length} scales do not fit prediction ${fmt(pred.shape)} (need [N,C,H,W] with H, W ≥ 2^(scales−1))`,
    );
  }
  return g.scope(name, () => {
    let p = pred;
    let t = target;
    let total: Tensor | null = null;
    weights.forEach((wt, i) => {
      if (i > 0) {
        p = g.averagePool(p, { kernel: 2 });
        t = g.averagePool(t, { kernel: 2 });
      }
      const term = g.mul(meanAll(g, g.abs(g.sub(p, t))), wt);
      total = total ? g.add(total, term) : term;
    });
    return total!;
  });
}

/**
 * Feature-space distance `Σᵢ mean(|φᵢ(pred) − φᵢ(target)|)` (or squared with `distance: 'l2'`) over pairs of feature
 * maps of equal shape, e.g. the layers of a frozen network applied to the prediction and to the target.
 */
export function featureLoss(
  g: Graph,
  predFeatures: readonly Tensor[],
  targetFeatures: readonly Tensor[],
  options: { distance?: 'l1' | 'l2'; name?: string } = {},
): Tensor {
  const name = options.name ?? 'features';
  if (predFeatures.length === 0 || predFeatures.length !== targetFeatures.length) {
    throw new GraphBuildError(`featureLoss "${name}": ${predFeatures.length} prediction and ${targetFeatures.length} target feature maps (need the same number, at least one)`);
  }
  predFeatures.forEach((p, i) => checkPair(`featureLoss "${name}" map ${i}`, p, targetFeatures[i]!));
  return g.scope(name, () => {
    let total: Tensor | null = null;
    predFeatures.forEach((p, i) => {
      const d = g.sub(p, targetFeatures[i]!);
      const term = meanAll(g, options.distance === 'l2' ? g.mul(d, d) : g.abs(d));
      total = total ? g.add(total, term) : term;
    });
    return total!;
  });
}

/**
 * Least-squares GAN loss of a discriminator: `½·mean((D(real) − 1)²) + ½·mean(D(fake)²)` over patch maps, a scalar.
 * Written with Sub/Mul/ReduceMean only, so every execution provider runs it.
 */
export function lsganDiscriminatorLoss(g: Graph, realScores: Tensor, fakeScores: Tensor, name = 'd_lsgan'): Tensor {
  return g.scope(name, () => {
    const r = g.sub(realScores, 1);
    return g.mul(g.add(meanAll(g, g.mul(r, r)), meanAll(g, g.mul(fakeScores, fakeScores))), 0.5);
  });
}

/** Least-squares GAN loss of the generator: `mean((D(fake) − 1)²)`, a scalar. */
export function lsganGeneratorLoss(g: Graph, fakeScores: Tensor, name = 'g_lsgan'): Tensor {
  return g.scope(name, () => {
    const d = g.sub(fakeScores, 1);
    return meanAll(g, g.mul(d, d));
  });
}
