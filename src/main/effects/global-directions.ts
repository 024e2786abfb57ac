// StyleCLIP global directions as plain arithmetic: text direction Δt, per-channel directions, and the edit Δs.
//
// Follows orpatashnik/StyleCLIP `global_directions/`: `MapTS.GetDt` (templates), `SingleChannel.GetFs` (channel
// directions from ±5σ renders) and `GetBoundary` + `MSCode` (β threshold, max-|r| scaling, σ, s' = s + α·Δs).
import { templatedPrompts } from './templates.ts';

export { DEFAULT_ALPHA, DEFAULT_BETA } from '../../shared/effects/types.ts';
/** Perturbation of one channel, in channel σ, when measuring its CLIP direction. */
export const RELEVANCE_SIGMAS = 5;

/** Scales `v` to unit length in place (a zero vector stays zero) and returns it. */
export function normalize(v: Float32Array | Float64Array): typeof v {
  let sq = 0;
  for (const x of v) sq += x * x;
  const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}

/** The normalised mean of `count` rows of `dim` values, each normalised first (CLIP's template averaging). */
export function meanDirection(rows: Float32Array, count: number, dim: number): Float32Array {
  if (rows.length !== count * dim) throw new RangeError(`meanDirection: ${rows.length} values are not ${count} rows of ${dim}`);
  const acc = new Float64Array(dim);
  const row = new Float64Array(dim);
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < dim; i++) row[i] = rows[r * dim + i]!;
    normalize(row);
    for (let i = 0; i < dim; i++) acc[i]! += row[i]!;
  }
  return Float32Array.from(normalize(acc));
}

/** Anything that embeds texts as [n, dim] rows (CLIP's text tower). */
export interface TextEmbedder {
  readonly dim: number;
  encode(texts: readonly string[]): Promise<Float32Array>;
}

/** A phrase embedded through the 79 templates: each normalised, averaged, normalised. */
export async function phraseEmbedding(encoder: TextEmbedder, phrase: string): Promise<Float32Array> {
  const prompts = templatedPrompts(phrase);
  return meanDirection(await encoder.encode(prompts), prompts.length, encoder.dim);
}

/** Δt: the target phrase's embedding minus the neutral one's, normalised. */
export async function textDirection(encoder: TextEmbedder, target: string, neutral: string): Promise<Float32Array> {
  const [t, n] = [await phraseEmbedding(encoder, target), await phraseEmbedding(encoder, neutral)];
  return Float32Array.from(normalize(Float64Array.from(t, (v, i) => v - n[i]!)));
}

/**
 * One channel's CLIP direction from image embeddings with the channel pushed to −5σ (`minus`) and +5σ (`plus`),
 * `count` images of `dim` each: per image the difference of the normalised embeddings, normalised; then averaged
 * over images and normalised again.
 */
export function channelDirection(minus: Float32Array, plus: Float32Array, count: number, dim: number): Float32Array {
  if (minus.length !== count * dim || plus.length !== count * dim) throw new RangeError(`channelDirection: expected ${count} rows of ${dim}`);
  const acc = new Float64Array(dim);
  const a = new Float64Array(dim);
  const b = new Float64Array(dim);
  const d = new Float64Array(dim);
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < dim; i++) {
      a[i] = minus[r * dim + i]!;
      b[i] = plus[r * dim + i]!;
    }
    normalize(a);
    normalize(b);
    for (let i = 0; i < dim; i++) d[i] = b[i]! - a[i]!;
    normalize(d);
    for (let i = 0; i < dim; i++) acc[i]! += d[i]!;
  }
  return Float32Array.from(normalize(acc));
}

/** An edit in style space: per-channel Δs (already times σ) and what it touches. */
export interface StyleEdit {
  /** [channels] Δs for the edited (conv) channels; zero where the channel is not touched. */
  readonly delta: Float32Array;
  /** Number of channels with |relevance| ≥ β. */
  readonly touched: number;
  /** The largest |relevance| (0 when no channel passes β). */
  readonly maxRelevance: number;
}

/**
 * StyleCLIP's `GetBoundary`: relevance r = directions · Δt per channel (`directions` is [channels, dim]); channels
 * with |r| < β are zeroed, the rest divided by max |r| and multiplied by the channel's σ. Apply with
 * {@link applyEdit}: s' = s + α·Δs.
 */
export function styleEdit(directions: Float32Array, dt: Float32Array, sigma: Float32Array, beta: number): StyleEdit {
  const dim = dt.length;
  const channels = sigma.length;
  if (directions.length !== channels * dim) {
    throw new RangeError(`styleEdit: ${directions.length} direction values are not ${channels} channels of ${dim}`);
  }
  if (!Number.isFinite(beta) || beta < 0) throw new RangeError(`styleEdit: β must be a number ≥ 0, got ${beta}`);
  const r = new Float64Array(channels);
  let max = 0;
  let touched = 0;
  for (let c = 0; c < channels; c++) {
    let dot = 0;
    for (let i = 0; i < dim; i++) dot += directions[c * dim + i]! * dt[i]!;
    if (Math.abs(dot) < beta) continue;
    r[c] = dot;
    touched++;
    max = Math.max(max, Math.abs(dot));
  }
  const delta = new Float32Array(channels);
  if (max > 0) for (let c = 0; c < channels; c++) delta[c] = (r[c]! / max) * sigma[c]!;
  return { delta, touched, maxRelevance: max };
}

/**
 * s' = s + α·Δs for `count` style vectors laid out [count, total]; `channels[c]` is where edited channel c sits in
 * the full style vector (toRGB styles are never edited). Returns a new array.
 */
export function applyEdit(styles: Float32Array, count: number, channels: readonly number[] | Int32Array, delta: Float32Array, alpha: number): Float32Array {
  const total = styles.length / count;
  if (!Number.isInteger(total)) throw new RangeError(`applyEdit: ${styles.length} values are not ${count} style vectors`);
  if (channels.length !== delta.length) throw new RangeError(`applyEdit: ${delta.length} deltas for ${channels.length} channels`);
  const out = styles.slice();
  for (let n = 0; n < count; n++) {
    for (let c = 0; c < channels.length; c++) out[n * total + channels[c]!]! += alpha * delta[c]!;
  }
  return out;
}
