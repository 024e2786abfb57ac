// Public entry of the optimizers: SGD/Adam/AdamW and global-norm clipping as graph ops.
export {
  applyOptimizer,
  GRAD_NORM_OUTPUT,
  LR_INPUT,
  nextName,
  oneMinusPow,
  resolveOptimizer,
  STEP_INPUT,
  type AdamConfig,
  type AdamWConfig,
  type ApplyOptions,
  type OptimizerConfig,
  type OptimizerGraph,
  type ParamGrad,
  type ResolvedOptimizerConfig,
  type SgdConfig,
  type StateSlot,
} from './optimizers.ts';
export { clipByGlobalNorm } from './clip.ts';
