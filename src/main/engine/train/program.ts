// Compiles a forward graph + loss into a training program: one ONNX model whose single run is a whole training step.
import { gradients } from '../autodiff/index.ts';
import type { DType, Graph, Shape, Tensor } from '../graph/index.ts';
import { applyOptimizer, type OptimizerConfig, type ResolvedOptimizerConfig, type StateSlot } from '../optim/index.ts';

/** What to compile: a graph holding the forward net and its loss, and how to optimise it. */
export interface TrainProgramSpec {
  /** The graph: batch inputs, parameters, the forward net (its outputs declared) and the loss. */
  graph: Graph;
  /** The scalar loss to minimise. */
  loss: Tensor;
  /** Extra scalar values reported every step (loss terms, metrics), by name. */
  terms?: Readonly<Record<string, Tensor>>;
  /** Names of the graph's declared outputs that make up the deployable forward model. */
  forwardOutputs: readonly string[];
  optimizer: OptimizerConfig;
  /** Clip gradients to this global L2 norm before the update. */
  clipGradNorm?: number;
  /** Parameters to train (default all); the others are fed unchanged every step. */
  trainable?: readonly string[];
  /** Declared outputs also computed by every step and returned with it (e.g. the prediction, for a second program). */
  fetch?: readonly string[];
}

/** A graph input the caller feeds every step. */
export interface BatchInput {
  name: string;
  dtype: DType;
  shape: Shape;
}

/** A parameter of the program. */
export interface ProgramParam {
  name: string;
  shape: Shape;
  /** Whether the optimizer updates it. */
  isTrainable: boolean;
  /** Output name of its next value (null when frozen). */
  next: string | null;
}

/** A compiled training program (see `compileTrainProgram`). */
export interface TrainProgram {
  readonly graph: Graph;
  /** The training model (parameters and optimizer state as inputs, their next values as outputs). */
  readonly model: Uint8Array;
  readonly batch: readonly BatchInput[];
  readonly params: readonly ProgramParam[];
  readonly slots: readonly StateSlot[];
  readonly optimizer: ResolvedOptimizerConfig;
  readonly clipGradNorm: number | null;
  /** Output name of the loss. */
  readonly lossOutput: string;
  /** Output name of each extra term. */
  readonly termOutputs: Readonly<Record<string, string>>;
  /** Output name of the gradient norm (when clipping). */
  readonly gradNormOutput: string | null;
  readonly forwardOutputs: readonly string[];
  /** Declared outputs every step also returns (see `TrainProgramSpec.fetch`). */
  readonly fetchOutputs: readonly string[];
  /** The forward net alone, parameters as inputs (previews during training). */
  forwardModel(): Uint8Array;
  /** The forward net alone with `values` baked in as initializers: the deployable model. */
  exportForward(values: ReadonlyMap<string, Float32Array>): Uint8Array;
}

/** Output name of the loss in every training model. */
export const LOSS_OUTPUT = 'loss';

/** Output name of a reported term. */
export function termOutput(name: string): string {
  return `loss.${name}`;
}

const compiled = new WeakSet<Graph>();

function isScalar(t: Tensor): boolean {
  return t.shape.reduce((a, b) => a * b, 1) === 1;
}

/**
 * Appends the backward pass and the optimizer to `spec.graph` and emits the training model. A graph can be compiled
 * once (the backward pass is appended to it).
 */
export function compileTrainProgram(spec: TrainProgramSpec): TrainProgram {
  const { graph: g, loss } = spec;
  if (compiled.has(g)) throw new Error(`compileTrainProgram: graph "${g.name}" was already compiled`);
  if (!isScalar(loss) || loss.dtype !== 'float32') throw new Error(`compileTrainProgram: the loss ${loss} must be a float32 scalar`);
  for (const [name, t] of Object.entries(spec.terms ?? {})) {
    if (!isScalar(t)) throw new Error(`compileTrainProgram: term "${name}" ${t} must have one element`);
  }
  const declared = new Set(g.outputs.map((o) => o.name));
  const missing = spec.forwardOutputs.filter((n) => !declared.has(n));
  if (spec.forwardOutputs.length === 0 || missing.length > 0) {
    throw new Error(`compileTrainProgram: forward outputs ${JSON.stringify(missing)} are not declared outputs of graph "${g.name}"`);
  }
  const fetchOutputs = [...(spec.fetch ?? [])];
  const undeclared = fetchOutputs.filter((n) => !declared.has(n));
  if (undeclared.length > 0) throw new Error(`compileTrainProgram: fetched outputs ${JSON.stringify(undeclared)} are not declared outputs of graph "${g.name}"`);
  const known = new Set(g.params.map((p) => p.name));
  const unknown = (spec.trainable ?? []).filter((n) => !known.has(n));
  if (unknown.length > 0) throw new Error(`compileTrainProgram: no parameters named ${unknown.join(', ')}`);
  const trainable = new Set(spec.trainable ?? known);
  if (trainable.size === 0) throw new Error('compileTrainProgram: nothing to train');

  const batch: BatchInput[] = g.inputs.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape }));
  const trained = g.params.filter((p) => trainable.has(p.name));
  compiled.add(g);
  const grads = gradients(g, loss, trained.map((p) => p.tensor));
  const opt = applyOptimizer(
    g,
    trained.map((p, i) => ({ name: p.name, param: p.tensor, grad: grads[i]! })),
    spec.optimizer,
    spec.clipGradNorm === undefined ? {} : { clipGradNorm: spec.clipGradNorm },
  );
  g.output(LOSS_OUTPUT, loss);
  const termOutputs: Record<string, string> = {};
  for (const [name, t] of Object.entries(spec.terms ?? {})) {
    termOutputs[name] = termOutput(name);
    g.output(termOutput(name), t);
  }
  const trainingOutputs = [LOSS_OUTPUT, ...Object.values(termOutputs), ...fetchOutputs, ...opt.outputs];
  const model = g.toModelBytes({ params: 'inputs', outputs: trainingOutputs });
  const forwardOutputs = [...spec.forwardOutputs];
  return {
    graph: g,
    model,
    batch,
    params: g.params.map((p) => ({ name: p.name, shape: p.shape, isTrainable: trainable.has(p.name), next: opt.nextParam.get(p.name) ?? null })),
    slots: opt.slots,
    optimizer: opt.config,
    clipGradNorm: spec.clipGradNorm ?? null,
    lossOutput: LOSS_OUTPUT,
    termOutputs,
    gradNormOutput: opt.gradNorm,
    forwardOutputs,
    fetchOutputs,
    forwardModel: () => g.toModelBytes({ params: 'inputs', outputs: forwardOutputs }),
    exportForward: (values) => g.toModelBytes({ params: 'initializers', values, outputs: forwardOutputs }),
  };
}
