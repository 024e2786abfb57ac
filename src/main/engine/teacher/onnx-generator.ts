// A plain ONNX generator (latent z or w → image) as a black-box teacher: its declared I/O checked, seeded sampling.
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { ProviderName } from '../../../shared/contract.ts';
import {
  MAX_ONNX_TEACHER_DIM,
  MAX_ONNX_TEACHER_RESOLUTION,
  type OnnxTeacherDeclaration,
  type OnnxTeacherIO,
} from '../../../shared/teachers/types.ts';
import { createSession, type Session, type SkippedProvider } from '../runtime/index.ts';
import { latentFromSeed } from './rng.ts';

const { onnx } = onnxProto;

/** An ONNX file that is no usable generator as declared; the message names the input or output and both shapes. */
export class OnnxGeneratorError extends Error {
  override readonly name = 'OnnxGeneratorError';
}

type Dim = number | string | null;

interface ValueSignature {
  name: string;
  elemType: number;
  /** null when the file declares no shape. */
  dims: Dim[] | null;
}

/** What the file itself says: graph inputs (initialisers excluded), outputs, and the size of its weights. */
export interface OnnxGeneratorSignature {
  inputs: ValueSignature[];
  outputs: ValueSignature[];
  /** Elements in all floating-point initialisers (the weights). */
  parameterCount: number;
}

const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 16: 'bfloat16',
};

function toNumber(v: number | { toNumber(): number }): number {
  return typeof v === 'number' ? v : v.toNumber();
}

function signatureOf(v: onnxProto.onnx.IValueInfoProto): ValueSignature {
  const tensor = v.type?.tensorType;
  const shape = tensor?.shape;
  return {
    name: v.name ?? '',
    elemType: tensor?.elemType ?? 0,
    dims:
      shape === undefined || shape === null
        ? null
        : (shape.dim ?? []).map((d): Dim => {
            if (d.dimParam) return d.dimParam;
            if (d.dimValue === undefined || d.dimValue === null) return null;
            const n = toNumber(d.dimValue);
            return n > 0 ? n : null;
          }),
  };
}

/** `z float32[1,64]` for messages; `?` marks a dimension the file leaves open. */
function describe(v: ValueSignature): string {
  const dims = v.dims === null ? '[shape not declared]' : `[${v.dims.map((d) => (typeof d === 'number' ? String(d) : '?')).join(',')}]`;
  return `"${v.name}" ${TYPE_NAMES[v.elemType] ?? `type ${v.elemType}`}${dims}`;
}

/** Reads a model's inputs, outputs and parameter count; throws {@link OnnxGeneratorError} when the bytes are no model. */
export function readOnnxGeneratorSignature(bytes: Uint8Array): OnnxGeneratorSignature {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new OnnxGeneratorError(`not an ONNX model: ${error instanceof Error ? error.message : String(error)}`);
  }
  const graph = model.graph;
  if (!graph) throw new OnnxGeneratorError('not an ONNX model: it has no graph');
  const initializers = graph.initializer ?? [];
  const external = initializers.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL).map((t) => t.name ?? '');
  if (external.length > 0) {
    throw new OnnxGeneratorError(
      `the model keeps weights in separate files (${external.slice(0, 3).join(', ')}${external.length > 3 ? ', …' : ''}); save it as one .onnx file`,
    );
  }
  const initNames = new Set(initializers.map((t) => t.name ?? ''));
  // Weights are the floating-point initialisers; integer ones are shapes and indices (a Reshape's target, say).
  const T = onnx.TensorProto.DataType;
  const floats = new Set<number>([T.FLOAT, T.FLOAT16, T.DOUBLE, T.BFLOAT16]);
  let parameterCount = 0;
  for (const t of initializers) {
    if (floats.has(t.dataType ?? 0)) parameterCount += (t.dims ?? []).reduce<number>((n, d) => n * toNumber(d), 1);
  }
  return {
    // Older exporters list initialisers among the inputs too; those are weights, not something a run feeds.
    inputs: (graph.input ?? []).filter((v) => !initNames.has(v.name ?? '')).map(signatureOf),
    outputs: (graph.output ?? []).map(signatureOf),
    parameterCount,
  };
}

/**
 * Checks a declaration against the model's own signature and completes it (resolution, channels, fixed batch) as far
 * as the file says; what the file leaves open is settled by the test run in {@link checkOnnxGenerator}.
 */
export function matchDeclaration(sig: OnnxGeneratorSignature, decl: OnnxTeacherDeclaration): { io: OnnxTeacherIO; channels: number | null } {
  if (!Number.isInteger(decl.dim) || decl.dim < 1 || decl.dim > MAX_ONNX_TEACHER_DIM) {
    throw new OnnxGeneratorError(`the declared latent dimension must be an integer from 1 to ${MAX_ONNX_TEACHER_DIM}, got ${decl.dim}`);
  }
  if (decl.resolution !== undefined && (!Number.isInteger(decl.resolution) || decl.resolution < 1 || decl.resolution > MAX_ONNX_TEACHER_RESOLUTION)) {
    throw new OnnxGeneratorError(`the declared resolution must be an integer from 1 to ${MAX_ONNX_TEACHER_RESOLUTION}, got ${decl.resolution}`);
  }
  const input = sig.inputs.find((v) => v.name === decl.inputName);
  if (input === undefined) {
    throw new OnnxGeneratorError(
      `the model has no input "${decl.inputName}"; its inputs are ${sig.inputs.map(describe).join(', ') || 'none'}`,
    );
  }
  const others = sig.inputs.filter((v) => v !== input);
  if (others.length > 0) {
    throw new OnnxGeneratorError(
      `the model needs inputs besides "${decl.inputName}" (${others.map(describe).join(', ')}); a black-box teacher is fed its one latent input only`,
    );
  }
  const expectedInput = `float32[batch,${decl.dim}]`;
  if (input.elemType !== onnx.TensorProto.DataType.FLOAT) {
    throw new OnnxGeneratorError(`input ${describe(input)} is not float32; expected ${expectedInput}`);
  }
  let batch: number | null = null;
  if (input.dims !== null) {
    const [b, d] = input.dims;
    if (input.dims.length !== 2 || (typeof d === 'number' && d !== decl.dim)) {
      throw new OnnxGeneratorError(`input ${describe(input)} does not match the declared latent: expected ${expectedInput}`);
    }
    batch = typeof b === 'number' ? b : null;
  }

  const output = sig.outputs.find((v) => v.name === decl.outputName);
  if (output === undefined) {
    throw new OnnxGeneratorError(
      `the model has no output "${decl.outputName}"; its outputs are ${sig.outputs.map(describe).join(', ') || 'none'}`,
    );
  }
  const expectedOutput = `an image float32[batch,3,height,width] (or 1 channel)`;
  if (output.elemType !== onnx.TensorProto.DataType.FLOAT) {
    throw new OnnxGeneratorError(`output ${describe(output)} is not float32; expected ${expectedOutput}`);
  }
  let channels: number | null = null;
  let side: number | null = null;
  if (output.dims !== null) {
    const [b, c, h, w] = output.dims;
    const isImage =
      output.dims.length === 4 &&
      (typeof c !== 'number' || c === 1 || c === 3) &&
      (typeof h !== 'number' || typeof w !== 'number' || h === w);
    if (!isImage) throw new OnnxGeneratorError(`output ${describe(output)} is not an image: expected ${expectedOutput}, square`);
    if (typeof b === 'number' && batch !== null && b !== batch) {
      throw new OnnxGeneratorError(`output ${describe(output)} has batch ${b} but input "${input.name}" has batch ${batch}`);
    }
    if (typeof b === 'number' && batch === null) batch = b;
    channels = typeof c === 'number' ? c : null;
    side = typeof h === 'number' ? h : typeof w === 'number' ? w : null;
  }
  if (side !== null && decl.resolution !== undefined && decl.resolution !== side) {
    throw new OnnxGeneratorError(`output ${describe(output)} is ${side}×${side}, but the declared resolution is ${decl.resolution}`);
  }
  const resolution = side ?? decl.resolution;
  if (resolution === undefined) {
    throw new OnnxGeneratorError(`output ${describe(output)} leaves its height and width open; declare the resolution`);
  }
  if (resolution > MAX_ONNX_TEACHER_RESOLUTION) throw new OnnxGeneratorError(`output ${describe(output)} is larger than ${MAX_ONNX_TEACHER_RESOLUTION}×${MAX_ONNX_TEACHER_RESOLUTION}`);
  return {
    io: { input: decl.input, inputName: decl.inputName, dim: decl.dim, outputName: decl.outputName, range: decl.range, resolution, imgChannels: channels ?? 3, batch },
    channels,
  };
}

/** Options of a black-box sampler: the batch wanted (a model with a fixed batch uses its own) and where it runs. */
export interface OnnxSamplerOptions {
  batch: number;
  providers?: readonly ProviderName[];
  threads?: number;
  shareCores?: boolean;
}

/** Images [n, C, R, R] mapped to [-1, 1] and the latents [n, dim] that made them. */
export interface OnnxSampleBatch {
  readonly count: number;
  readonly images: Float32Array;
  readonly latents: Float32Array;
}

/**
 * A session on a black-box generator. Each seed's latent is `latentFromSeed(seed, dim)`, the same seeded standard
 * normal vector the StyleGAN2 path uses for z; a w-input model is fed it as w. Partial batches are padded.
 */
export class OnnxGeneratorSampler {
  readonly #session: Session;
  readonly #io: OnnxTeacherIO;
  readonly #batch: number;

  private constructor(session: Session, io: OnnxTeacherIO, batch: number) {
    this.#session = session;
    this.#io = io;
    this.#batch = batch;
  }

  /** Opens an ORT session on the model bytes on the best provider available. */
  static async create(bytes: Uint8Array, io: OnnxTeacherIO, opts: OnnxSamplerOptions): Promise<OnnxGeneratorSampler> {
    const session = await createSession(bytes, {
      ...(opts.providers !== undefined ? { providers: opts.providers } : {}),
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      ...(opts.shareCores !== undefined ? { shareCores: opts.shareCores } : {}),
    });
    return new OnnxGeneratorSampler(session, io, io.batch ?? Math.max(1, opts.batch));
  }

  /** The provider the session runs on, and the better ones that were skipped with their reasons. */
  get provider(): { name: ProviderName; skipped: readonly SkippedProvider[] } {
    return { name: this.#session.provider, skipped: this.#session.skipped };
  }

  /** Latents per run. */
  get batch(): number {
    return this.#batch;
  }

  /** Runs the model on latents [n, dim] (n ≤ batch) and returns its raw output, checked to be [batch, C, R, R]. */
  async generateRaw(latents: Float32Array): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const { dim, inputName, outputName } = this.#io;
    const n = latents.length / dim;
    if (!Number.isInteger(n) || n < 1 || n > this.#batch) {
      throw new RangeError(`generate: ${latents.length} numbers are not 1 to ${this.#batch} latents of ${dim}`);
    }
    const full = new Float32Array(this.#batch * dim);
    full.set(latents);
    const out = await this.#session.run({ [inputName]: new ort.Tensor('float32', full, [this.#batch, dim]) }, [outputName]);
    const tensor = out[outputName]!;
    if (tensor.type !== 'float32') throw new OnnxGeneratorError(`output "${outputName}" gave ${tensor.type} values; expected float32`);
    return { data: tensor.data as Float32Array, dims: tensor.dims };
  }

  /** Images of the given latents (n ≤ batch), mapped from the declared range to [-1, 1]. */
  async generate(latents: Float32Array): Promise<OnnxSampleBatch> {
    const { dim, resolution: r, imgChannels: c, outputName, range } = this.#io;
    const n = latents.length / dim;
    const { data, dims } = await this.generateRaw(latents);
    const expected = [this.#batch, c, r, r];
    if (dims.length !== 4 || dims.some((d, i) => d !== expected[i])) {
      throw new OnnxGeneratorError(`output "${outputName}" has shape [${dims.join(',')}]; expected [${expected.join(',')}]`);
    }
    const images = data.slice(0, n * c * r * r);
    if (range === '0,1') for (let i = 0; i < images.length; i++) images[i] = images[i]! * 2 - 1;
    return { count: n, images, latents: latents.slice() };
  }

  /** Images of the given seeds, in batches of this sampler's size. */
  async render(seeds: readonly number[]): Promise<OnnxSampleBatch> {
    const { dim, resolution: r, imgChannels: c } = this.#io;
    const plane = c * r * r;
    const images = new Float32Array(seeds.length * plane);
    const latents = new Float32Array(seeds.length * dim);
    for (let start = 0; start < seeds.length; start += this.#batch) {
      const chunk = seeds.slice(start, start + this.#batch);
      const z = new Float32Array(chunk.length * dim);
      chunk.forEach((seed, i) => z.set(latentFromSeed(seed, dim), i * dim));
      const batch = await this.generate(z);
      images.set(batch.images, start * plane);
      latents.set(z, start * dim);
    }
    return { count: seeds.length, images, latents };
  }

  /** Frees the ORT session. */
  async release(): Promise<void> {
    await this.#session.release();
  }
}

/** What an import check found: the completed I/O, the parameter count and the provider the test run used. */
export interface OnnxGeneratorCheck {
  io: OnnxTeacherIO;
  parameterCount: number;
  provider: ProviderName;
}

/**
 * Checks that `bytes` are a generator as declared: the file's signature matches, the model loads in ONNX Runtime,
 * and one test run on seed 0 gives a finite image of the declared size. Throws {@link OnnxGeneratorError} naming the
 * input or output and the expected and actual shapes.
 */
export async function checkOnnxGenerator(
  bytes: Uint8Array,
  decl: OnnxTeacherDeclaration,
  opts: { providers?: readonly ProviderName[]; threads?: number } = {},
): Promise<OnnxGeneratorCheck> {
  const sig = readOnnxGeneratorSignature(bytes);
  const { io, channels } = matchDeclaration(sig, decl);
  let sampler: OnnxGeneratorSampler;
  try {
    sampler = await OnnxGeneratorSampler.create(bytes, io, { batch: 1, ...opts });
  } catch (error) {
    throw new OnnxGeneratorError(`ONNX Runtime cannot load the model: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    let raw: { data: Float32Array; dims: readonly number[] };
    try {
      raw = await sampler.generateRaw(latentFromSeed(0, io.dim));
    } catch (error) {
      if (error instanceof OnnxGeneratorError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new OnnxGeneratorError(`a test run with input "${io.inputName}" float32[${sampler.batch},${io.dim}] failed: ${message}`);
    }
    const c = channels ?? raw.dims[1];
    const expected = [sampler.batch, c ?? 3, io.resolution, io.resolution];
    if (raw.dims.length !== 4 || (c !== 1 && c !== 3) || raw.dims.some((d, i) => d !== expected[i])) {
      throw new OnnxGeneratorError(
        `a test run gave output "${io.outputName}" of shape [${raw.dims.join(',')}]; expected an image [${expected.join(',')}]`,
      );
    }
    const bad = raw.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new OnnxGeneratorError(`a test run gave output "${io.outputName}" a non-finite value (${raw.data[bad]}) at element ${bad}`);
    return { io: { ...io, imgChannels: c }, parameterCount: sig.parameterCount, provider: sampler.provider.name };
  } finally {
    await sampler.release();
  }
}
