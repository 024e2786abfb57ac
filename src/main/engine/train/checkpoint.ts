// Training checkpoints as .safetensors: weights, optimizer state, step and configuration, checked on load.
import {
  readSafetensorsFile,
  type Safetensors,
  type TensorToWrite,
  writeSafetensorsFile,
} from '../safetensors/index.ts';
import type { ResolvedOptimizerConfig } from '../optim/index.ts';
import type { TrainProgram } from './program.ts';

/** `format` metadata value of every training checkpoint. */
export const CHECKPOINT_FORMAT = 'effects-studio.train-checkpoint';
/** Version of the checkpoint layout this code writes and reads. */
export const CHECKPOINT_VERSION = 1;

/** Everything a checkpoint holds. Weights and slots are keyed by their graph input names. */
export interface TrainCheckpoint {
  /** Steps taken so far (the next step is `step + 1`). */
  step: number;
  /** Graph name of the program that wrote it. */
  graph: string;
  optimizer: ResolvedOptimizerConfig;
  clipGradNorm: number | null;
  /** Parameter values by name. */
  weights: Map<string, Float32Array>;
  /** Optimizer state by slot input name (e.g. `optim.m/enc1.weight`). */
  slots: Map<string, Float32Array>;
  /** The caller's own configuration (training settings, dataset ids, …), stored as JSON. */
  config: unknown;
}

/** A checkpoint that cannot be used: missing, mis-shaped or unexpected tensors, or bad metadata. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** Writes a checkpoint atomically (temp file, then rename). */
export async function writeCheckpoint(path: string, ckpt: TrainCheckpoint, shapes: ReadonlyMap<string, readonly number[]>): Promise<void> {
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, data] of [...ckpt.weights, ...ckpt.slots]) {
    const shape = shapes.get(name);
    if (shape === undefined) throw new CheckpointError(`writeCheckpoint: no shape known for "${name}"`);
    tensors.set(name, { dtype: 'F32', shape, data });
  }
  await writeSafetensorsFile(path, tensors, {
    format: CHECKPOINT_FORMAT,
    version: String(CHECKPOINT_VERSION),
    step: String(ckpt.step),
    graph: ckpt.graph,
    optimizer: JSON.stringify(ckpt.optimizer),
    clip_grad_norm: ckpt.clipGradNorm === null ? '' : String(ckpt.clipGradNorm),
    config: JSON.stringify(ckpt.config ?? null),
  });
}

/**
 * Reads a checkpoint for `program` (and the `companions` saved with it), checking that it holds exactly their
 * parameters and optimizer state with the right shapes; every problem found is listed in one `CheckpointError`.
 */
export async function readCheckpoint(path: string, program: TrainProgram, companions: readonly TrainProgram[] = []): Promise<TrainCheckpoint> {
  let file: Safetensors;
  try {
    file = await readSafetensorsFile(path);
  } catch (error) {
    throw new CheckpointError(`checkpoint ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const meta = file.metadata;
  const fail = (why: string): never => {
    throw new CheckpointError(`checkpoint ${path}: ${why}`);
  };
  if (meta.format !== CHECKPOINT_FORMAT) fail(`not a training checkpoint (metadata format is ${JSON.stringify(meta.format ?? null)})`);
  if (meta.version !== String(CHECKPOINT_VERSION)) fail(`layout version ${meta.version ?? '(none)'} is not supported (expected ${CHECKPOINT_VERSION})`);
  const step = Number(meta.step);
  if (meta.step === undefined || !Number.isSafeInteger(step) || step < 0) fail(`step ${JSON.stringify(meta.step ?? null)} is not a step count`);
  const optimizer = parseJson(meta.optimizer, 'optimizer', fail) as ResolvedOptimizerConfig;
  if (optimizer === null || typeof optimizer !== 'object' || optimizer.kind !== program.optimizer.kind) {
    fail(`it was written by a ${JSON.stringify((optimizer as { kind?: unknown } | null)?.kind ?? null)} optimizer, this program uses ${program.optimizer.kind}`);
  }
  const clip = meta.clip_grad_norm === undefined || meta.clip_grad_norm === '' ? null : Number(meta.clip_grad_norm);

  const programs = [program, ...companions];
  const problems: string[] = [];
  const expected = new Map<string, readonly number[]>();
  const expect = (name: string, shape: readonly number[]): void => {
    const seen = expected.get(name);
    if (seen && seen.join(',') !== shape.join(',')) problems.push(`programs disagree on the shape of "${name}"`);
    expected.set(name, shape);
  };
  for (const p of programs) {
    for (const param of p.params) expect(param.name, param.shape);
    for (const s of p.slots) expect(s.input, s.shape);
  }
  const missing = [...expected.keys()].filter((n) => !file.has(n));
  if (missing.length > 0) problems.push(`missing tensors: ${missing.join(', ')}`);
  const unexpected = file.names().filter((n) => !expected.has(n));
  if (unexpected.length > 0) problems.push(`tensors the model does not have: ${unexpected.join(', ')}`);
  for (const [name, shape] of expected) {
    if (!file.has(name)) continue;
    const entry = file.entry(name);
    if (entry.dtype !== 'F32') problems.push(`"${name}" is ${entry.dtype}, expected F32`);
    if (entry.shape.join(',') !== shape.join(',')) problems.push(`"${name}" has shape [${entry.shape.join(',')}], the model needs [${shape.join(',')}]`);
  }
  if (problems.length > 0) fail(`does not fit graph "${program.graph.name}": ${problems.join('; ')}`);

  const weights = new Map(programs.flatMap((q) => q.params.map((p) => [p.name, file.float32(p.name)] as const)));
  const slots = new Map(programs.flatMap((q) => q.slots.map((s) => [s.input, file.float32(s.input)] as const)));
  return {
    step,
    graph: meta.graph ?? '',
    optimizer,
    clipGradNorm: clip,
    weights,
    slots,
    config: parseJson(meta.config, 'config', fail),
  };
}

function parseJson(text: string | undefined, what: string, fail: (why: string) => never): unknown {
  if (text === undefined) return fail(`metadata "${what}" is missing`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fail(`metadata "${what}" is not JSON`);
  }
}
