// Channel relevance (StyleCLIP `SingleChannel.GetFs`): one CLIP direction per editable style channel.
//
// For channel c and each of M images with styles s: render s − 5σ_c·e_c and s + 5σ_c·e_c (the original code's
// `EditOneC` + `MSCode`: the sample's own value moved by ±5σ), embed both with CLIP, and average the normalised
// differences (see `channelDirection`). Renders stream through the teacher and CLIP one batch at a time, so memory
// stays at one batch of images whatever the teacher's size.
import { generatorImageToRgb, type RgbImage } from '../engine/clip/index.ts';
import { channelDirection, RELEVANCE_SIGMAS } from './global-directions.ts';
import type { StyleSpace } from './style-space.ts';

/** Anything that embeds RGB images as unit rows (CLIP's image tower). */
export interface ImageEmbedder {
  readonly dim: number;
  encodeImages(images: readonly RgbImage[]): Promise<Float32Array>;
}

/** Images [n, C, R, R] of a StyleGAN batch as 8-bit RGB images. */
export function toRgbImages(images: Float32Array, count: number, resolution: number): RgbImage[] {
  return Array.from({ length: count }, (_, i) => generatorImageToRgb(images, i, resolution));
}

/** Options of {@link computeRelevance}. */
export interface RelevanceOptions {
  /** Flat style vectors [images, total] of the images the directions are measured on. */
  readonly baseStyles: Float32Array;
  /** Per flat-channel σ (from `StyleSpace.channelStats`). */
  readonly std: Float32Array;
  /** First editable channel to compute (resuming); 0 on a fresh start. */
  readonly fromChannel: number;
  /** Directions [channels, dim] already computed before `fromChannel` (resuming); filled in place. */
  readonly directions: Float32Array;
  /** Channels per chunk between `onChunk` calls (default 8). */
  readonly chunk?: number;
  /** Called after each chunk with the number of channels done (the directions before it are final). */
  readonly onChunk?: (done: number) => void | Promise<void>;
  readonly signal?: AbortSignal;
}

/** Fills `directions` [channels, dim] for the editable channels from `fromChannel` on; returns it. */
export async function computeRelevance(space: StyleSpace, clip: ImageEmbedder, opts: RelevanceOptions): Promise<Float32Array> {
  const { layout, config } = space;
  const total = layout.total;
  const channels = layout.channels.length;
  const dim = clip.dim;
  const m = opts.baseStyles.length / total;
  if (!Number.isInteger(m) || m < 1) throw new RangeError(`computeRelevance: base styles are not whole style vectors of ${total}`);
  if (opts.directions.length !== channels * dim) throw new RangeError(`computeRelevance: directions must hold ${channels}×${dim} values`);
  const chunk = opts.chunk ?? 8;
  for (let first = opts.fromChannel; first < channels; first += chunk) {
    opts.signal?.throwIfAborted();
    const last = Math.min(channels, first + chunk);
    // Items in the order channel, sign (−, +), image.
    const items = (last - first) * 2 * m;
    const embeds = new Float32Array(items * dim);
    for (let start = 0; start < items; start += space.batch) {
      const k = Math.min(space.batch, items - start);
      const styles = new Float32Array(k * total);
      for (let j = 0; j < k; j++) {
        const item = start + j;
        const image = item % m;
        const sign = Math.floor(item / m) % 2 === 0 ? -1 : 1;
        const c = first + Math.floor(item / (2 * m));
        styles.set(opts.baseStyles.subarray(image * total, (image + 1) * total), j * total);
        const pos = layout.channels[c]!;
        styles[j * total + pos]! += sign * RELEVANCE_SIGMAS * opts.std[pos]!;
      }
      const images = await space.render(styles);
      embeds.set(await clip.encodeImages(toRgbImages(images, k, config.resolution)), start * dim);
    }
    for (let c = first; c < last; c++) {
      const base = (c - first) * 2 * m * dim;
      const minus = embeds.subarray(base, base + m * dim);
      const plus = embeds.subarray(base + m * dim, base + 2 * m * dim);
      opts.directions.set(channelDirection(minus, plus, m, dim), c * dim);
    }
    await opts.onChunk?.(last);
  }
  return opts.directions;
}
