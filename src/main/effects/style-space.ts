// A teacher seen through its style space S: z → S (one flat vector per sample), S → image, channel statistics.
//
// Two ORT sessions built from the teacher engine's graph pieces: `z, ψ → styles` (mapping + affines, every layer's
// style concatenated in network order) and `styles → image` (synthesis with the stored noise, so the same latent
// always renders the same image — an original and its edit differ only by the edit).
import * as ort from 'onnxruntime-node';
import type { ProviderName } from '../../shared/contract.ts';
import { Graph, type Tensor } from '../engine/graph/index.ts';
import { createSession, type Session } from '../engine/runtime/index.ts';
import { addMapping, addStyles, addSynthesis, latentFromSeed, type Teacher, type TeacherConfig } from '../engine/teacher/index.ts';

/** Where each styled layer's vector sits in the flat style vector. */
export interface StyleLayout {
  readonly layers: readonly { readonly name: string; readonly kind: 'conv' | 'torgb'; readonly offset: number; readonly size: number }[];
  /** Length of the flat style vector (toRGB styles included). */
  readonly total: number;
  /** Positions of the editable (conv) channels in the flat vector, in network order. */
  readonly channels: Int32Array;
}

/** The flat layout of a teacher's style space. */
export function styleLayout(config: TeacherConfig): StyleLayout {
  let offset = 0;
  const layers = config.layers.map((l) => {
    const entry = { name: l.name, kind: l.kind, offset, size: l.inChannels };
    offset += l.inChannels;
    return entry;
  });
  const channels: number[] = [];
  for (const l of layers) if (l.kind === 'conv') for (let i = 0; i < l.size; i++) channels.push(l.offset + i);
  return { layers, total: offset, channels: Int32Array.from(channels) };
}

/** Options of {@link StyleSpace.create}. */
export interface StyleSpaceOptions {
  /** Samples per run of either model. */
  batch: number;
  /** Truncate the first `truncationCutoff` ws (StyleCLIP: 8); null: all. */
  truncationCutoff?: number | null;
  providers?: readonly ProviderName[];
  threads?: number;
  shareCores?: boolean;
}

/** Per-channel mean and σ of the flat style vector. */
export interface StyleStats {
  readonly mean: Float32Array;
  readonly std: Float32Array;
  readonly samples: number;
}

/** A teacher's z → S and S → image models on ORT, batched with padding. */
export class StyleSpace {
  readonly layout: StyleLayout;
  readonly config: TeacherConfig;
  readonly batch: number;
  readonly #styles: Session;
  readonly #synthesis: Session;

  private constructor(config: TeacherConfig, batch: number, styles: Session, synthesis: Session) {
    this.config = config;
    this.layout = styleLayout(config);
    this.batch = batch;
    this.#styles = styles;
    this.#synthesis = synthesis;
  }

  /** Builds both models for `opts.batch` samples per run and opens their sessions. */
  static async create(teacher: Teacher, opts: StyleSpaceOptions): Promise<StyleSpace> {
    const { config, weights } = teacher;
    const b = opts.batch;
    if (!Number.isInteger(b) || b < 1) throw new RangeError(`batch must be a positive integer, got ${b}`);
    const layout = styleLayout(config);

    const gs = new Graph('style_space_styles');
    const z = gs.input('z', 'float32', [b, config.zDim]);
    const psi = gs.input('psi', 'float32', [1]);
    const { ws } = addMapping(gs, weights, z, psi, { truncationCutoff: opts.truncationCutoff === undefined ? 8 : opts.truncationCutoff });
    const styles = addStyles(gs, weights, ws);
    gs.output('styles', gs.concat(config.layers.map((l) => styles.get(l.name)!), 1, 'concat_styles'));

    const gx = new Graph('style_space_synthesis');
    const flat = gx.input('styles', 'float32', [b, layout.total]);
    const parts = gx.split(flat, layout.layers.map((l) => l.size), 1, 'split_styles');
    const byLayer = new Map<string, Tensor>(layout.layers.map((l, i) => [l.name, parts[i]!]));
    gx.output('image', addSynthesis(gx, weights, byLayer, null, { noise: 'const' }));

    const sessionOpts = {
      ...(opts.providers !== undefined ? { providers: opts.providers } : {}),
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      ...(opts.shareCores !== undefined ? { shareCores: opts.shareCores } : {}),
    };
    const stylesSession = await createSession(gs.toModelBytes({ params: 'initializers' }), sessionOpts);
    try {
      const synthesisSession = await createSession(gx.toModelBytes({ params: 'initializers' }), sessionOpts);
      return new StyleSpace(config, b, stylesSession, synthesisSession);
    } catch (e) {
      await stylesSession.release();
      throw e;
    }
  }

  /** The provider the renders run on. */
  get provider(): ProviderName {
    return this.#synthesis.provider;
  }

  /** Flat style vectors [n, total] of latents z [n, zDim] truncated with ψ. */
  async stylesOf(z: Float32Array, psi: number): Promise<Float32Array> {
    const { zDim } = this.config;
    const n = z.length / zDim;
    if (!Number.isInteger(n)) throw new RangeError(`stylesOf: ${z.length} values are not latents of ${zDim}`);
    const total = this.layout.total;
    const out = new Float32Array(n * total);
    for (let start = 0; start < n; start += this.batch) {
      const k = Math.min(this.batch, n - start);
      const zb = new Float32Array(this.batch * zDim);
      zb.set(z.subarray(start * zDim, (start + k) * zDim));
      const res = await this.#styles.run({
        z: new ort.Tensor('float32', zb, [this.batch, zDim]),
        psi: new ort.Tensor('float32', Float32Array.of(psi), [1]),
      });
      out.set((res.styles!.data as Float32Array).subarray(0, k * total), start * total);
    }
    return out;
  }

  /** Flat style vectors of seeded latents (`latentFromSeed`), as sampling the teacher would make them. */
  async stylesOfSeeds(seeds: readonly number[], psi: number): Promise<Float32Array> {
    const { zDim } = this.config;
    const z = new Float32Array(seeds.length * zDim);
    seeds.forEach((s, i) => z.set(latentFromSeed(s, zDim), i * zDim));
    return this.stylesOf(z, psi);
  }

  /** Images [n, C, R, R] (about −1…1) of flat style vectors [n, total]. */
  async render(styles: Float32Array): Promise<Float32Array> {
    const total = this.layout.total;
    const n = styles.length / total;
    if (!Number.isInteger(n)) throw new RangeError(`render: ${styles.length} values are not style vectors of ${total}`);
    const { resolution: r, imgChannels: c } = this.config;
    const per = c * r * r;
    const out = new Float32Array(n * per);
    for (let start = 0; start < n; start += this.batch) {
      const k = Math.min(this.batch, n - start);
      const sb = new Float32Array(this.batch * total);
      sb.set(styles.subarray(start * total, (start + k) * total));
      const res = await this.#synthesis.run({ styles: new ort.Tensor('float32', sb, [this.batch, total]) });
      out.set((res.image!.data as Float32Array).subarray(0, k * per), start * per);
    }
    return out;
  }

  /**
   * Mean and σ (population) of every style channel over the seeded latents `firstSeed … firstSeed + samples − 1`
   * (StyleCLIP: 100,000 latents, ψ 0.7). Sums in float64.
   */
  async channelStats(samples: number, psi: number, opts: { firstSeed?: number; onProgress?: (done: number) => void; signal?: AbortSignal } = {}): Promise<StyleStats> {
    const total = this.layout.total;
    const sum = new Float64Array(total);
    const sq = new Float64Array(total);
    const first = opts.firstSeed ?? 0;
    const chunk = this.batch * 8;
    for (let start = 0; start < samples; start += chunk) {
      opts.signal?.throwIfAborted();
      const k = Math.min(chunk, samples - start);
      const s = await this.stylesOfSeeds(Array.from({ length: k }, (_, i) => first + start + i), psi);
      for (let n = 0; n < k; n++) {
        for (let i = 0; i < total; i++) {
          const v = s[n * total + i]!;
          sum[i]! += v;
          sq[i]! += v * v;
        }
      }
      opts.onProgress?.(start + k);
    }
    const mean = Float32Array.from(sum, (v) => v / samples);
    const std = Float32Array.from(sq, (v, i) => Math.sqrt(Math.max(0, v / samples - (sum[i]! / samples) ** 2)));
    return { mean, std, samples };
  }

  /** Frees both sessions. */
  async release(): Promise<void> {
    await this.#styles.release();
    await this.#synthesis.release();
  }
}
