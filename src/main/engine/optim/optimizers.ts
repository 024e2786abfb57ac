// Optimizers written as graph ops (SGD with momentum, Adam, AdamW), with the learning rate and step as graph inputs.
import { type Graph, type Tensor } from '../graph/index.ts';
import { clipByGlobalNorm } from './clip.ts';

/** SGD as `torch.optim.SGD` computes it (dampening 0): `b' = μ·b + g`, `p' = p − lr·(nesterov ? g + μ·b' : b')`. */
export interface SgdConfig {
  kind: 'sgd';
  /** Momentum μ; 0 (the default) keeps no state. */
  momentum?: number;
  nesterov?: boolean;
  /** L2 penalty added to the gradient: `g + wd·p`. */
  weightDecay?: number;
}

/** Adam as `torch.optim.Adam` computes it; `weightDecay` is the L2 penalty `g + wd·p`. */
export interface AdamConfig {
  kind: 'adam';
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/** AdamW as `torch.optim.AdamW` computes it: decoupled decay `p·(1 − lr·wd)` before the Adam update (wd default 0.01). */
export interface AdamWConfig {
  kind: 'adamw';
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/** Any optimizer the engine builds. Defaults match PyTorch's. */
export type OptimizerConfig = SgdConfig | AdamConfig | AdamWConfig;

/** An optimizer configuration with every default filled in (what a checkpoint records). */
export type ResolvedOptimizerConfig =
  | Required<SgdConfig>
  | Required<AdamConfig>
  | Required<AdamWConfig>;

/** Fills in PyTorch's defaults and checks the ranges. */
export function resolveOptimizer(config: OptimizerConfig): ResolvedOptimizerConfig {
  const check = (what: string, v: number, ok: boolean): number => {
    if (!Number.isFinite(v) || !ok) throw new Error(`optimizer ${config.kind}: ${what} ${v} is out of range`);
    return v;
  };
  switch (config.kind) {
    case 'sgd': {
      const momentum = config.momentum ?? 0;
      const nesterov = config.nesterov ?? false;
      check('momentum', momentum, momentum >= 0 && momentum < 1);
      if (nesterov && momentum === 0) throw new Error('optimizer sgd: nesterov needs a momentum > 0');
      const weightDecay = config.weightDecay ?? 0;
      check('weightDecay', weightDecay, weightDecay >= 0);
      return { kind: 'sgd', momentum, nesterov, weightDecay };
    }
    case 'adam':
    case 'adamw': {
      const beta1 = config.beta1 ?? 0.9;
      const beta2 = config.beta2 ?? 0.999;
      const eps = config.eps ?? 1e-8;
      const weightDecay = config.weightDecay ?? (config.kind === 'adamw' ? 0.01 : 0);
      check('beta1', beta1, beta1 >= 0 && beta1 < 1);
      check('beta2', beta2, beta2 >= 0 && beta2 < 1);
      check('eps', eps, eps >= 0);
      check('weightDecay', weightDecay, weightDecay >= 0);
      return { kind: config.kind, beta1, beta2, eps, weightDecay };
    }
    default:
      throw new Error(`unknown optimizer kind ${JSON.stringify((config as { kind: unknown }).kind)}`);
  }
}

/** A parameter and the gradient of the loss with respect to it. */
export interface ParamGrad {
  /** The parameter's name (its graph input name). */
  name: string;
  param: Tensor;
  grad: Tensor;
}

/**
 * One optimizer state tensor: fed as the graph input `input` each step, its next value comes out as `output`.
 * The trainer feeds every output back as the matching input of the next step.
 */
export interface StateSlot {
  /** Parameter the slot belongs to. */
  param: string;
  /** Slot kind: Adam's first/second moments or SGD's momentum buffer. */
  kind: 'm' | 'v' | 'momentum';
  /** Graph input name (e.g. `optim.m/enc1.weight`). */
  input: string;
  /** Graph output name of its next value. */
  output: string;
  shape: readonly number[];
}

/** Names of the scalar graph inputs every optimizer takes. */
export const LR_INPUT = 'optim.lr';
/** The 1-based number of the step being taken (int64 scalar): Adam's bias correction uses it. */
export const STEP_INPUT = 'optim.step';
/** Output name of the global gradient norm (before clipping). */
export const GRAD_NORM_OUTPUT = 'optim.grad_norm';

/** What `applyOptimizer` added to the graph. */
export interface OptimizerGraph {
  config: ResolvedOptimizerConfig;
  /** The learning-rate input (float32 scalar). */
  lr: Tensor;
  /** The step input (int64 scalar, 1 on the first step). */
  step: Tensor;
  /** Graph output name of each parameter's next value, by parameter name. */
  nextParam: ReadonlyMap<string, string>;
  /** Every optimizer state slot (inputs and their next-value outputs). */
  slots: readonly StateSlot[];
  /** Output name of the global gradient norm, when clipping was asked for. */
  gradNorm: string | null;
  /** Every output the optimizer declared (next parameters, next slots, grad norm). */
  outputs: readonly string[];
}

/** Options of `applyOptimizer`. */
export interface ApplyOptions {
  /** Clip gradients to this global L2 norm first (`torch.nn.utils.clip_grad_norm_`). */
  clipGradNorm?: number;
}

/** Where `oneMinusPow` switches from the series to `1 − e^−x`: there the subtraction loses < 1e-7 relative. */
const SERIES_LIMIT = 0.5;
/** Terms of the series: the first one left out is below 1e-10 of the result for x < SERIES_LIMIT. */
const SERIES_TERMS = 9;

/**
 * `1 − βᵗ` for a constant β and a float32 step t, accurate to ~1e-7 relative in float32 — as PyTorch gets it in
 * float64. The naive `1 − Pow(β, t)` is not: float32(0.999) is off by 1.3e-8, i.e. 1.3e-5 of `1 − 0.999`, and the
 * subtraction cancels. With x = −t·ln β (ln β taken in float64), `1 − βᵗ = 1 − e^−x`, summed as a Taylor series for
 * small x and directly where no cancellation remains.
 */
export function oneMinusPow(g: Graph, beta: number, t: Tensor): Tensor {
  if (beta === 0) return g.add(g.mul(t, 0), 1);
  const x = g.mul(t, -Math.log(beta));
  // Horner form of x·(1 − x/2·(1 − x/3·(1 − …))) = x − x²/2! + x³/3! − …
  let acc: Tensor | null = null;
  for (let k = SERIES_TERMS; k >= 2; k--) {
    const term = g.mul(x, 1 / k);
    acc = g.sub(1, acc === null ? term : g.mul(term, acc));
  }
  const series = g.mul(x, acc!);
  const direct = g.sub(1, g.exp(g.neg(x)));
  return g.where(g.less(x, SERIES_LIMIT), series, direct);
}

/** Output name of a parameter's next value. */
export function nextName(name: string): string {
  return `${name}.next`;
}

/**
 * Appends one optimizer step to `g`: declares the `optim.lr`/`optim.step` inputs and one input per state slot, and
 * declares as outputs the next value of every parameter and slot (named `<input>.next`).
 */
export function applyOptimizer(g: Graph, pairs: readonly ParamGrad[], config: OptimizerConfig, options: ApplyOptions = {}): OptimizerGraph {
  const cfg = resolveOptimizer(config);
  if (pairs.length === 0) throw new Error('applyOptimizer: no parameters to update');
  for (const { name, param, grad } of pairs) {
    if (param.dtype !== 'float32' || grad.dtype !== 'float32') throw new Error(`applyOptimizer: "${name}" must be float32`);
    if (param.shape.join(',') !== grad.shape.join(',')) {
      throw new Error(`applyOptimizer: gradient of "${name}" has shape [${grad.shape.join(',')}], the parameter [${param.shape.join(',')}]`);
    }
  }
  const lr = g.input(LR_INPUT, 'float32', []);
  const step = g.input(STEP_INPUT, 'int64', []);
  const outputs: string[] = [];
  const slots: StateSlot[] = [];
  const nextParam = new Map<string, string>();

  let grads = pairs.map((p) => p.grad);
  let gradNorm: string | null = null;
  if (options.clipGradNorm !== undefined) {
    const clipped = g.scope('optim/clip', () => clipByGlobalNorm(g, grads, options.clipGradNorm!));
    grads = clipped.grads;
    gradNorm = GRAD_NORM_OUTPUT;
    g.output(GRAD_NORM_OUTPUT, clipped.norm);
    outputs.push(GRAD_NORM_OUTPUT);
  }

  const slot = (param: string, kind: StateSlot['kind'], shape: readonly number[]): Tensor => {
    const input = `optim.${kind}/${param}`;
    const s: StateSlot = { param, kind, input, output: nextName(input), shape: [...shape] };
    slots.push(s);
    return g.input(input, 'float32', shape);
  };
  const emit = (name: string, t: Tensor): void => {
    g.output(name, t);
    outputs.push(name);
  };

  g.scope('optim', () => {
    // Scalars shared by every parameter: PyTorch computes them once per step too.
    const t = g.cast(step, 'float32');
    let stepSize: Tensor | null = null;
    let bc2Sqrt: Tensor | null = null;
    if (cfg.kind !== 'sgd') {
      const bc1 = oneMinusPow(g, cfg.beta1, t);
      bc2Sqrt = g.sqrt(oneMinusPow(g, cfg.beta2, t));
      stepSize = g.div(lr, bc1);
    }
    const decayFactor = cfg.kind === 'adamw' && cfg.weightDecay > 0 ? g.sub(1, g.mul(lr, cfg.weightDecay)) : null;

    pairs.forEach(({ name, param }, i) => {
      let grad = grads[i]!;
      let p = param;
      if (cfg.kind === 'sgd') {
        if (cfg.weightDecay > 0) grad = g.add(grad, g.mul(p, cfg.weightDecay));
        let direction = grad;
        if (cfg.momentum > 0) {
          const buf = slot(name, 'momentum', param.shape);
          // A zero buffer makes the first step `b' = g` exactly, as PyTorch's clone-on-first-step does.
          const next = g.add(g.mul(buf, cfg.momentum), grad);
          emit(nextName(buf.name), next);
          direction = cfg.nesterov ? g.add(grad, g.mul(next, cfg.momentum)) : next;
        }
        nextParam.set(name, nextName(name));
        emit(nextName(name), g.sub(p, g.mul(direction, lr)));
        return;
      }
      if (cfg.kind === 'adam' && cfg.weightDecay > 0) grad = g.add(grad, g.mul(p, cfg.weightDecay));
      if (decayFactor) p = g.mul(p, decayFactor);
      const m = slot(name, 'm', param.shape);
      const v = slot(name, 'v', param.shape);
      const m2 = g.add(g.mul(m, cfg.beta1), g.mul(grad, 1 - cfg.beta1));
      const v2 = g.add(g.mul(v, cfg.beta2), g.mul(g.mul(grad, grad), 1 - cfg.beta2));
      const denom = g.add(g.div(g.sqrt(v2), bc2Sqrt!), cfg.eps);
      const next = g.sub(p, g.mul(stepSize!, g.div(m2, denom)));
      emit(nextName(m.name), m2);
      emit(nextName(v.name), v2);
      nextParam.set(name, nextName(name));
      emit(nextName(name), next);
    });
  });
  return { config: cfg, lr, step, nextParam, slots, gradNorm, outputs };
}
