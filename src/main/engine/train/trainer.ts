// The trainer: one session.run per training step, weights and optimizer state kept as ORT tensors between steps.
import * as ort from 'onnxruntime-node';
import { LR_INPUT, STEP_INPUT } from '../optim/index.ts';
import { createSession, type CreateSessionOptions, type Fetched, type Session } from '../runtime/index.ts';
import { readCheckpoint, writeCheckpoint, type TrainCheckpoint } from './checkpoint.ts';
import type { TrainProgram } from './program.ts';

/** A batch: one value per batch input, as an ORT tensor or the flat float32 data of the input's shape. */
export type Batch = Readonly<Record<string, ort.Tensor | Float32Array>>;

/** What one training step reports. */
export interface StepResult {
  /** Number of the step just taken (1 for the first). */
  step: number;
  /** The loss at the weights before this step's update. */
  loss: number;
  /** Each extra term, by name. */
  terms: Record<string, number>;
  /** Global gradient norm before clipping (when the program clips). */
  gradNorm: number | null;
  /** The program's fetched outputs (`TrainProgramSpec.fetch`), by name. */
  fetched: Record<string, ort.Tensor>;
  /** Wall time of the session run. */
  ms: number;
}

/** The loss came out NaN or infinite; the step was not applied, so the trainer still holds the previous weights. */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  constructor(readonly step: number, readonly loss: number) {
    super(`step ${step}: the loss is ${loss}; the update was not applied (lower the learning rate or clip gradients)`);
  }
}

function tensorOf(data: Float32Array, shape: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, [...shape]);
}

function scalarOf(t: ort.Tensor | undefined): number {
  const v = t?.data[0];
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

/**
 * Runs a compiled `TrainProgram`. Each `step()` is ONE `session.run` (batch + weights + optimizer state + lr + step
 * in; loss, terms, next weights and state out), and the outputs are fed straight back as the next step's inputs.
 *
 * @example
 * const trainer = await Trainer.create(program, { session: { threads: 2 } });
 * for (...) await trainer.step({ x, y }, 1e-3);
 * await trainer.saveCheckpoint('ckpt.safetensors', { dataset: 'faces' });
 * const onnxBytes = await trainer.exportForward();
 */
export class Trainer {
  readonly #state = new Map<string, ort.Tensor>();
  readonly #shapes = new Map<string, readonly number[]>();
  readonly #batchNames: readonly string[];
  readonly #sessionOptions: CreateSessionOptions;
  #forward: Session | null = null;
  #steps: number;

  private constructor(
    /** The compiled program this trainer runs. */
    readonly program: TrainProgram,
    /** The training session (its provider and timings). */
    readonly session: Session,
    sessionOptions: CreateSessionOptions,
    init: { step: number; weights: ReadonlyMap<string, Float32Array>; slots: ReadonlyMap<string, Float32Array> },
  ) {
    this.#sessionOptions = sessionOptions;
    this.#steps = init.step;
    for (const p of program.params) this.#shapes.set(p.name, p.shape);
    for (const s of program.slots) this.#shapes.set(s.input, s.shape);
    // A checkpoint shared with companion programs holds their tensors too: take this program's own.
    for (const p of program.params) this.#state.set(p.name, tensorOf(init.weights.get(p.name)!, p.shape));
    for (const s of program.slots) this.#state.set(s.input, tensorOf(init.slots.get(s.input)!, s.shape));
    const stateNames = new Set([...this.#state.keys(), LR_INPUT, STEP_INPUT]);
    this.#batchNames = session.inputNames.filter((n) => !stateNames.has(n));
    const known = new Set(program.batch.map((b) => b.name));
    const strange = this.#batchNames.filter((n) => !known.has(n));
    if (strange.length > 0) throw new Error(`Trainer: the training model wants inputs nobody feeds: ${strange.join(', ')}`);
  }

  /** Starts training from the graph's initial parameter values and zero optimizer state. */
  static async create(program: TrainProgram, options: { session?: CreateSessionOptions } = {}): Promise<Trainer> {
    const weights = program.graph.initialParamValues();
    const slots = new Map(program.slots.map((s) => [s.input, new Float32Array(s.shape.reduce((a, b) => a * b, 1))]));
    const sessionOptions = options.session ?? {};
    const session = await createSession(program.model, sessionOptions);
    return new Trainer(program, session, sessionOptions, { step: 0, weights, slots });
  }

  /**
   * Continues training from a checkpoint written by `saveCheckpoint` for the same program (and the same
   * `companions`, when it was saved with some; restore those from the returned checkpoint with {@link Trainer.restore}).
   */
  static async resume(
    program: TrainProgram,
    path: string,
    options: { session?: CreateSessionOptions; companions?: readonly TrainProgram[] } = {},
  ): Promise<{ trainer: Trainer; checkpoint: TrainCheckpoint }> {
    const checkpoint = await readCheckpoint(path, program, options.companions ?? []);
    return { trainer: await Trainer.restore(program, checkpoint, options), checkpoint };
  }

  /** A trainer for `program` at the step, weights and optimizer state of an already read checkpoint. */
  static async restore(program: TrainProgram, checkpoint: TrainCheckpoint, options: { session?: CreateSessionOptions } = {}): Promise<Trainer> {
    const sessionOptions = options.session ?? {};
    const session = await createSession(program.model, sessionOptions);
    return new Trainer(program, session, sessionOptions, checkpoint);
  }

  /** Steps taken so far. */
  get stepsDone(): number {
    return this.#steps;
  }

  /** Names of the batch inputs each step needs. */
  get batchInputs(): readonly string[] {
    return this.#batchNames;
  }

  /** Takes one optimizer step on `batch` with learning rate `lr`. */
  async step(batch: Batch, lr: number): Promise<StepResult> {
    if (!Number.isFinite(lr) || lr < 0) throw new Error(`Trainer.step: learning rate ${lr} must be a non-negative number`);
    const step = this.#steps + 1;
    const feeds: Record<string, ort.Tensor> = Object.fromEntries(this.#state);
    Object.assign(feeds, this.#batchFeeds(batch));
    feeds[LR_INPUT] = new ort.Tensor('float32', Float32Array.of(lr), []);
    feeds[STEP_INPUT] = new ort.Tensor('int64', BigInt64Array.of(BigInt(step)), []);
    const out = await this.session.run(feeds);
    const ms = this.session.timings().lastMs ?? 0;
    const loss = scalarOf(out[this.program.lossOutput]);
    if (!Number.isFinite(loss)) throw new NonFiniteLossError(step, loss);
    for (const p of this.program.params) if (p.next !== null) this.#state.set(p.name, out[p.next]!);
    for (const s of this.program.slots) this.#state.set(s.input, out[s.output]!);
    this.#steps = step;
    const terms = Object.fromEntries(Object.entries(this.program.termOutputs).map(([name, o]) => [name, scalarOf(out[o])]));
    const gradNorm = this.program.gradNormOutput === null ? null : scalarOf(out[this.program.gradNormOutput]);
    const fetched = Object.fromEntries(this.program.fetchOutputs.map((name) => [name, out[name]!]));
    return { step, loss, terms, gradNorm, fetched, ms };
  }

  /**
   * Replaces the values of frozen parameters (ones the optimizer does not update), e.g. a discriminator's weights
   * that a second trainer keeps training. Refuses trainable or unknown names and wrong sizes.
   */
  setFrozenParams(values: ReadonlyMap<string, Float32Array>): void {
    const params = new Map(this.program.params.map((p) => [p.name, p]));
    for (const [name, data] of values) {
      const p = params.get(name);
      if (!p || p.isTrainable) throw new Error(`Trainer.setFrozenParams: "${name}" is not a frozen parameter of graph "${this.program.graph.name}"`);
      if (data.length !== p.shape.reduce((a, b) => a * b, 1)) throw new Error(`Trainer.setFrozenParams: "${name}" has ${data.length} values for shape [${p.shape.join(',')}]`);
      this.#state.set(name, tensorOf(data, p.shape));
    }
  }

  /** Current parameter values by name (copies). */
  async weights(): Promise<Map<string, Float32Array>> {
    return this.#read(this.program.params.map((p) => p.name));
  }

  /** Current optimizer state by slot input name (copies). */
  async optimizerState(): Promise<Map<string, Float32Array>> {
    return this.#read(this.program.slots.map((s) => s.input));
  }

  /** Runs the forward net alone with the current weights (sample previews); returns the forward outputs. */
  async predict(inputs: Batch): Promise<Fetched> {
    this.#forward ??= await createSession(this.program.forwardModel(), this.#sessionOptions);
    const session = this.#forward;
    const feeds: Record<string, ort.Tensor> = {};
    const shapes = new Map(this.program.batch.map((b) => [b.name, b.shape]));
    for (const name of session.inputNames) {
      const value = this.#state.get(name) ?? inputs[name];
      if (value === undefined) throw new Error(`Trainer.predict: no value for input "${name}"`);
      feeds[name] = value instanceof Float32Array ? tensorOf(value, shapes.get(name)!) : value;
    }
    return session.run(feeds);
  }

  /** The deployable forward model with the current weights baked in (ONNX bytes). */
  async exportForward(): Promise<Uint8Array> {
    return this.program.exportForward(await this.weights());
  }

  /**
   * Writes weights, optimizer state, step and `config` (any JSON value) as a .safetensors checkpoint; the weights and
   * optimizer state of `companions` (trainers run in step with this one) go into the same file.
   */
  async saveCheckpoint(path: string, config: unknown = null, companions: readonly Trainer[] = []): Promise<void> {
    const weights = await this.weights();
    const slots = await this.optimizerState();
    const shapes = new Map(this.#shapes);
    for (const c of companions) {
      if (c.stepsDone !== this.#steps) throw new Error(`Trainer.saveCheckpoint: companion "${c.program.graph.name}" is at step ${c.stepsDone}, this trainer at ${this.#steps}`);
      for (const [name, data] of await c.weights()) weights.set(name, data);
      for (const [name, data] of await c.optimizerState()) slots.set(name, data);
      for (const [name, shape] of c.#shapes) shapes.set(name, shape);
    }
    await writeCheckpoint(
      path,
      {
        step: this.#steps,
        graph: this.program.graph.name,
        optimizer: this.program.optimizer,
        clipGradNorm: this.program.clipGradNorm,
        weights,
        slots,
        config,
      },
      shapes,
    );
  }

  /** Frees the sessions. */
  async release(): Promise<void> {
    await this.session.release();
    await this.#forward?.release();
    this.#forward = null;
  }

  #batchFeeds(batch: Batch): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    const specs = new Map(this.program.batch.map((b) => [b.name, b]));
    for (const name of this.#batchNames) {
      const spec = specs.get(name)!;
      const value = batch[name];
      if (value === undefined) throw new Error(`Trainer.step: the batch lacks "${name}" (${spec.dtype} [${spec.shape.join(',')}])`);
      const size = spec.shape.reduce((a, b) => a * b, 1);
      if (value instanceof Float32Array) {
        if (spec.dtype !== 'float32' || value.length !== size) {
          throw new Error(`Trainer.step: "${name}" has ${value.length} float32 values, the model needs ${spec.dtype} [${spec.shape.join(',')}]`);
        }
        feeds[name] = tensorOf(value, spec.shape);
      } else {
        if (value.type !== spec.dtype || value.dims.join(',') !== spec.shape.join(',')) {
          throw new Error(`Trainer.step: "${name}" is ${value.type} [${value.dims.join(',')}], the model needs ${spec.dtype} [${spec.shape.join(',')}]`);
        }
        feeds[name] = value;
      }
    }
    return feeds;
  }

  async #read(names: readonly string[]): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const name of names) {
      const data = (await this.#state.get(name)!.getData()) as Float32Array;
      out.set(name, Float32Array.from(data));
    }
    return out;
  }
}
