// Public entry point of the reverse-mode autodiff: `gradients(graph, loss, wrt)` appends the backward pass as ONNX ops.
export { gradients, VJP_RULES, type GradientOptions } from './gradients.ts';
export { AutodiffError, reduceTo, type VjpRule, type RuleContext } from './rule.ts';
export { convWeightGrad, convInputGrad, biasGrad, kernelOffsets, type ConvParams } from './conv-grad.ts';
