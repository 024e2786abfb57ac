// Runs a teacher on ONNX Runtime: images (and their ws) from seeds or latents, seeded noise, w_avg estimation.
import * as ort from 'onnxruntime-node';
import type { ProviderName } from '../../../shared/contract.ts';
import { createSession, type Session, type SkippedProvider } from '../runtime/index.ts';
import { noiseInputName, type NoiseMode } from './graph.ts';
import { importTeacherFile } from './import.ts';
import { latentFromSeed, SeededRandom, STREAM } from './rng.ts';
import { Teacher, type TeacherModelOptions } from './teacher.ts';
import type { TeacherConfig } from './weights.ts';

/** Options of a sampler: model options (batch, noise, truncation cutoff, clamp) and where it runs. */
export interface SamplerOptions extends TeacherModelOptions {
  providers?: readonly ProviderName[];
  threads?: number;
  /** Set when other ORT sessions run at the same time (see createSession). */
  shareCores?: boolean;
}

/** One batch of samples: images [n, C, R, R] in about [-1, 1] and the ws [n, numWs, wDim] that made them. */
export interface SampleBatch {
  readonly count: number;
  readonly images: Float32Array;
  readonly ws: Float32Array;
}

/**
 * The random noise maps of one seed, layer after layer in network order (each [1, 1, r, r]), drawn from the seed's
 * own noise stream so that re-rendering a sample in `random` noise mode gives the same image.
 */
export function noiseFromSeed(seed: number, config: TeacherConfig): Map<string, Float32Array> {
  const rng = new SeededRandom(seed, STREAM.noise);
  const out = new Map<string, Float32Array>();
  for (const layer of config.layers) {
    if (layer.kind === 'conv') out.set(layer.name, rng.fillGaussian(new Float32Array(layer.resolution * layer.resolution)));
  }
  return out;
}

/**
 * A z → image generator session for one batch size. Fewer latents than the batch are padded (and the padding
 * dropped from the result), so a job's last, partial batch needs no second model.
 */
export class TeacherSampler {
  readonly #session: Session;
  readonly #config: TeacherConfig;
  readonly #batch: number;
  readonly #noise: NoiseMode;

  private constructor(session: Session, config: TeacherConfig, batch: number, noise: NoiseMode) {
    this.#session = session;
    this.#config = config;
    this.#batch = batch;
    this.#noise = noise;
  }

  /** Builds the generator model and opens an ORT session on the best provider available. */
  static async create(teacher: Teacher, opts: SamplerOptions): Promise<TeacherSampler> {
    const model = teacher.buildGeneratorGraph({ ...opts, from: 'z' });
    const session = await createSession(model.bytes, {
      ...(opts.providers !== undefined ? { providers: opts.providers } : {}),
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      ...(opts.shareCores !== undefined ? { shareCores: opts.shareCores } : {}),
    });
    return new TeacherSampler(session, teacher.config, opts.batch, opts.noise ?? 'const');
  }

  /** The provider the session runs on, and the better ones that were skipped with their reasons. */
  get provider(): { name: ProviderName; skipped: readonly SkippedProvider[] } {
    return { name: this.#session.provider, skipped: this.#session.skipped };
  }

  /** Images per run. */
  get batch(): number {
    return this.#batch;
  }

  /**
   * Generates images from latents z ([n, zDim] row-major, n ≤ batch) with truncation ψ. In `random` noise mode
   * `seeds` (one per latent) choose the noise maps; otherwise they are not needed.
   */
  async generate(z: Float32Array, psi: number, seeds?: readonly number[]): Promise<SampleBatch> {
    const { zDim, numWs, wDim, resolution: res, imgChannels } = this.#config;
    const n = z.length / zDim;
    if (!Number.isInteger(n) || n < 1 || n > this.#batch) {
      throw new RangeError(`generate: z holds ${z.length} numbers; expected 1 to ${this.#batch} latents of ${zDim}`);
    }
    const zFull = new Float32Array(this.#batch * zDim);
    zFull.set(z);
    const feeds: Record<string, ort.Tensor> = {
      z: new ort.Tensor('float32', zFull, [this.#batch, zDim]),
      psi: new ort.Tensor('float32', Float32Array.of(psi), [1]),
    };
    if (this.#noise === 'random' && this.#config.hasNoise) {
      if (seeds === undefined || seeds.length !== n) throw new Error('generate: random noise needs one seed per latent');
      const maps = seeds.map((seed) => noiseFromSeed(seed, this.#config));
      for (const layer of this.#config.layers) {
        if (layer.kind !== 'conv') continue;
        const size = layer.resolution * layer.resolution;
        const data = new Float32Array(this.#batch * size);
        maps.forEach((m, i) => data.set(m.get(layer.name)!, i * size));
        feeds[noiseInputName(layer)] = new ort.Tensor('float32', data, [this.#batch, 1, layer.resolution, layer.resolution]);
      }
    }
    const out = await this.#session.run(feeds);
    const images = out.image!.data as Float32Array;
    const ws = out.ws!.data as Float32Array;
    return {
      count: n,
      images: images.slice(0, n * imgChannels * res * res),
      ws: ws.slice(0, n * numWs * wDim),
    };
  }

  /** Images of the given seeds (each seed's latent from `latentFromSeed`), in batches of this sampler's size. */
  async render(seeds: readonly number[], psi: number): Promise<SampleBatch> {
    const { zDim, numWs, wDim, resolution: res, imgChannels } = this.#config;
    const images = new Float32Array(seeds.length * imgChannels * res * res);
    const ws = new Float32Array(seeds.length * numWs * wDim);
    for (let start = 0; start < seeds.length; start += this.#batch) {
      const chunk = seeds.slice(start, start + this.#batch);
      const z = new Float32Array(chunk.length * zDim);
      chunk.forEach((seed, i) => z.set(latentFromSeed(seed, zDim), i * zDim));
      const batch = await this.generate(z, psi, chunk);
      images.set(batch.images, start * imgChannels * res * res);
      ws.set(batch.ws, start * numWs * wDim);
    }
    return { count: seeds.length, images, ws };
  }

  /** Frees the ORT session. */
  async release(): Promise<void> {
    await this.#session.release();
  }
}

/**
 * The mean of w over `samples` seeded latents (seeds 0 … samples−1), computed with the mapping model: what
 * rosinality's `mean_latent` does for checkpoints saved without `latent_avg`.
 */
export async function estimateWAvg(
  teacher: Teacher,
  opts: { samples?: number; batch?: number; providers?: readonly ProviderName[]; threads?: number } = {},
): Promise<Float32Array> {
  const samples = opts.samples ?? 10_000;
  const batch = Math.min(opts.batch ?? 500, samples);
  const { zDim, wDim } = teacher.config;
  const model = teacher.buildMappingGraph({ batch });
  // A few MLP layers: the CPU is as fast as any GPU once session start-up is counted.
  const session = await createSession(model.bytes, {
    providers: opts.providers ?? ['cpu'],
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
  });
  try {
    const acc = new Float64Array(wDim);
    for (let start = 0; start < samples; start += batch) {
      const count = Math.min(batch, samples - start);
      const z = new Float32Array(batch * zDim);
      for (let i = 0; i < count; i++) z.set(latentFromSeed(start + i, zDim), i * zDim);
      const out = await session.run({
        z: new ort.Tensor('float32', z, [batch, zDim]),
        psi: new ort.Tensor('float32', Float32Array.of(1), [1]),
      });
      const w = out.w!.data as Float32Array;
      for (let i = 0; i < count * wDim; i++) acc[i % wDim]! += w[i]!;
    }
    return Float32Array.from(acc, (v) => v / samples);
  } finally {
    await session.release();
  }
}

/**
 * Fills in w_avg when the weights file had none: estimated from 10,000 seeded latents so that truncation behaves
 * as in the original code. Teachers with a stored w_avg are returned unchanged.
 */
export async function completeTeacher(teacher: Teacher, opts: { providers?: readonly ProviderName[]; threads?: number } = {}): Promise<Teacher> {
  if (teacher.report?.wAvg !== 'missing') return teacher;
  const wAvg = await estimateWAvg(teacher, opts);
  return new Teacher({ ...teacher.weights, wAvg }, { ...teacher.report, wAvg: 'estimated' });
}

/** Reads a StyleGAN2 `.safetensors` (NVIDIA or rosinality naming, every tensor checked) and completes its w_avg. */
export async function loadTeacher(
  path: string,
  opts: { providers?: readonly ProviderName[]; threads?: number } = {},
): Promise<Teacher> {
  const { weights, report } = await importTeacherFile(path);
  return completeTeacher(new Teacher(weights, report), opts);
}
