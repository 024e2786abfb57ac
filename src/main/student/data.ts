// The student's data pipeline: pairs from a dataset, decoded with sharp, augmented identically on both sides, batched ahead.
import sharp from 'sharp';
import type { BlobStore } from '../core/blob-store.ts';
import { DatasetStore } from '../datasets/store.ts';
import type { ItemInfo } from '../datasets/types.ts';
import { Rng } from '../engine/graph/index.ts';

/** A pair's usable content: ids and blob hashes of both images. */
export interface PairRef {
  itemId: number;
  imageSha: string;
  targetSha: string;
}

/** The pairs of a dataset, split for training. */
export interface PairSplit {
  datasetName: string;
  train: PairRef[];
  validation: PairRef[];
  /** True when the dataset has no validation items and validation was taken from the training items. */
  validationFromTrain: boolean;
}

/** A dataset that cannot be trained on (wrong kind, empty, missing targets, mismatched pair sizes…); says which and why. */
export class TrainingDataError extends Error {
  override name = 'TrainingDataError';
}

/** Items read per page from the store. */
const PAGE = 1000;

/**
 * The pairs to train on: the dataset's accepted items when it has any, otherwise every item not rejected; each
 * must have a target image. Train/validation follow the dataset's split; with no validation item, up to
 * `fallbackValidation` training items serve as validation too.
 */
export function listPairs(store: DatasetStore, datasetId: number, fallbackValidation = 4): PairSplit {
  const dataset = store.getDataset(datasetId);
  if (dataset.kind === 'photos') {
    throw new TrainingDataError(`dataset "${dataset.name}" holds photos, not pairs: a student trains on a pairs dataset (imported or made by a teacher)`);
  }
  const all: ItemInfo[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = store.listItems({ datasetId, offset, limit: PAGE, sort: 'id' });
    all.push(...page.items);
    if (page.items.length < PAGE) break;
  }
  const accepted = all.filter((i) => i.status === 'accepted');
  const usable = accepted.length > 0 ? accepted : all.filter((i) => i.status !== 'rejected');
  if (usable.length === 0) throw new TrainingDataError(`dataset "${dataset.name}" has no items to train on (none accepted or pending)`);
  const noTarget = usable.filter((i) => i.targetSha === null);
  if (noTarget.length > 0) {
    throw new TrainingDataError(`dataset "${dataset.name}": ${noTarget.length} item(s) have no target image, e.g. item ${noTarget[0]!.id}`);
  }
  const ref = (i: ItemInfo): PairRef => ({ itemId: i.id, imageSha: i.imageSha, targetSha: i.targetSha! });
  const train = usable.filter((i) => i.split === 'train').map(ref);
  let validation = usable.filter((i) => i.split === 'validation').map(ref);
  if (train.length === 0) throw new TrainingDataError(`dataset "${dataset.name}" has no training items (all ${usable.length} are in validation)`);
  const validationFromTrain = validation.length === 0;
  if (validationFromTrain) validation = train.slice(0, fallbackValidation);
  return { datasetName: dataset.name, train, validation, validationFromTrain };
}

/** Size of an image with its EXIF orientation applied. */
async function orientedSize(bytes: Buffer): Promise<{ width: number; height: number }> {
  const meta = await sharp(bytes).metadata();
  const swap = (meta.orientation ?? 1) >= 5;
  return { width: (swap ? meta.height : meta.width) ?? 0, height: (swap ? meta.width : meta.height) ?? 0 };
}

/**
 * Reads every pair's headers and checks that input and target have the same size and are at least `minSide` on
 * the short side; all problems are reported in one error (first five listed). Runs before any training work.
 */
export async function checkPairs(blobs: BlobStore, pairs: readonly PairRef[], minSide: number, signal?: AbortSignal): Promise<void> {
  const problems: string[] = [];
  for (const p of pairs) {
    signal?.throwIfAborted();
    const [a, b] = await Promise.all([orientedSize(await blobs.read(p.imageSha)), orientedSize(await blobs.read(p.targetSha))]);
    if (a.width !== b.width || a.height !== b.height) {
      problems.push(`item ${p.itemId}: input is ${a.width}×${a.height} but target is ${b.width}×${b.height}`);
    } else if (Math.min(a.width, a.height) < minSide) {
      problems.push(`item ${p.itemId}: ${a.width}×${a.height} is smaller than the student's ${minSide}×${minSide}`);
    }
  }
  if (problems.length > 0) {
    const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
    throw new TrainingDataError(`${problems.length} pair(s) cannot be used: ${problems.slice(0, 5).join('; ')}${more}`);
  }
}

/** How samples are augmented; the same random draw is applied to input and target. */
export interface AugmentOptions {
  /** Random horizontal flips. */
  flip: boolean;
  /** Colour jitter strength: brightness, contrast and saturation factors drawn from [1 − j, 1 + j]. */
  jitter: number;
  /** Probability that a sample gets 1–3 synthetic occluders (rectangles, ellipses or patches copied from elsewhere). */
  occluders: number;
}

/** A batch ready for the trainer: planar float32 `[n, 3, size, size]` in [0, 1]. */
export interface PairBatch {
  input: Float32Array;
  target: Float32Array;
  itemIds: number[];
}

/** One decoded pair, resized so its short side is `base`, as interleaved RGB bytes. */
interface Decoded {
  width: number;
  height: number;
  input: Buffer;
  target: Buffer;
}

/** Random crops take a `size` window out of images whose short side is this much larger. */
const CROP_MARGIN = 1.15;

/** Options of {@link PairSampler}. */
export interface SamplerOptions {
  size: number;
  batch: number;
  augment: AugmentOptions;
  seed: number;
  /** Decoded pairs kept in memory (bytes); default 512 MiB. */
  cacheBytes?: number;
}

/**
 * Makes batches from pairs: decode (EXIF-oriented, resized to cover the crop with a margin, cached), then a random
 * crop, flip, colour jitter and occluders drawn once per sample and applied to both images alike.
 */
export class PairSampler {
  readonly #blobs: BlobStore;
  readonly #opts: SamplerOptions;
  readonly #cache = new Map<number, Promise<Decoded>>();
  readonly #cacheLimit: number;
  readonly #base: number;

  constructor(blobs: BlobStore, options: SamplerOptions) {
    this.#blobs = blobs;
    this.#opts = options;
    this.#base = Math.round(options.size * CROP_MARGIN);
    const perPair = this.#base * this.#base * 2 * 3 * 2;
    this.#cacheLimit = Math.max(1, Math.floor((options.cacheBytes ?? 512 * 2 ** 20) / perPair));
  }

  async #decode(p: PairRef, base: number): Promise<Decoded> {
    const one = async (sha: string): Promise<{ data: Buffer; width: number; height: number }> => {
      const { data, info } = await sharp(await this.#blobs.read(sha))
        .rotate()
        .resize(base, base, { fit: 'outside', kernel: 'lanczos3' })
        .removeAlpha()
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height };
    };
    const [a, b] = await Promise.all([one(p.imageSha), one(p.targetSha)]);
    if (a.width !== b.width || a.height !== b.height) {
      throw new TrainingDataError(`item ${p.itemId}: input and target decode to different sizes (${a.width}×${a.height} vs ${b.width}×${b.height})`);
    }
    return { width: a.width, height: a.height, input: a.data, target: b.data };
  }

  #decoded(p: PairRef, base: number): Promise<Decoded> {
    const key = base === this.#base ? p.itemId : -p.itemId;
    const hit = this.#cache.get(key);
    if (hit) return hit;
    const fresh = this.#decode(p, base);
    if (this.#cache.size < this.#cacheLimit) {
      this.#cache.set(key, fresh);
      fresh.catch(() => this.#cache.delete(key));
    }
    return fresh;
  }

  /** A training batch of randomly drawn, augmented pairs (the draw is fixed by the sampler's seed and `index`). */
  async trainBatch(pairs: readonly PairRef[], index: number): Promise<PairBatch> {
    const rng = new Rng(this.#opts.seed, `batch-${index}`);
    const chosen = Array.from({ length: this.#opts.batch }, () => pairs[Math.floor(rng.uniform() * pairs.length)]!);
    const decoded = await Promise.all(chosen.map((p) => this.#decoded(p, this.#base)));
    return this.#assemble(chosen, decoded, (d, i, input, target) => augmentInto(d, this.#opts.size, this.#opts.augment, rng, input, target, i));
  }

  /** Validation frames, un-augmented: the centre `size` square of each pair resized to cover it exactly. */
  async validationBatch(pairs: readonly PairRef[]): Promise<PairBatch> {
    const size = this.#opts.size;
    const decoded = await Promise.all(pairs.map((p) => this.#decoded(p, size)));
    return this.#assemble([...pairs], decoded, (d, i, input, target) => {
      const x0 = Math.floor((d.width - size) / 2);
      const y0 = Math.floor((d.height - size) / 2);
      cropInto(d, size, x0, y0, false, input, target, i);
    });
  }

  #assemble(pairs: PairRef[], decoded: Decoded[], fill: (d: Decoded, i: number, input: Float32Array, target: Float32Array) => void): PairBatch {
    const plane = 3 * this.#opts.size * this.#opts.size;
    const input = new Float32Array(decoded.length * plane);
    const target = new Float32Array(decoded.length * plane);
    decoded.forEach((d, i) => fill(d, i, input, target));
    return { input, target, itemIds: pairs.map((p) => p.itemId) };
  }
}

/** Copies a `size` square at (x0, y0), optionally mirrored, into frame `i` of planar float buffers. */
function cropInto(d: Decoded, size: number, x0: number, y0: number, flip: boolean, input: Float32Array, target: Float32Array, i: number): void {
  const plane = size * size;
  const base = i * 3 * plane;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = x0 + (flip ? size - 1 - x : x);
      const src = ((y0 + y) * d.width + sx) * 3;
      const dst = base + y * size + x;
      for (let c = 0; c < 3; c++) {
        input[dst + c * plane] = d.input[src + c]! / 255;
        target[dst + c * plane] = d.target[src + c]! / 255;
      }
    }
  }
}

/** A random crop/flip, colour jitter and occluders, the same on input and target, written into frame `i`. */
export function augmentInto(d: Decoded, size: number, aug: AugmentOptions, rng: Rng, input: Float32Array, target: Float32Array, i: number): void {
  const x0 = Math.floor(rng.uniform() * (d.width - size + 1));
  const y0 = Math.floor(rng.uniform() * (d.height - size + 1));
  cropInto(d, size, x0, y0, aug.flip && rng.uniform() < 0.5, input, target, i);
  const plane = size * size;
  const frameIn = input.subarray(i * 3 * plane, (i + 1) * 3 * plane);
  const frameTarget = target.subarray(i * 3 * plane, (i + 1) * 3 * plane);
  if (aug.jitter > 0) {
    const draw = (): number => 1 + aug.jitter * (2 * rng.uniform() - 1);
    const jitter = { brightness: draw(), contrast: draw(), saturation: draw() };
    colourJitter(frameIn, plane, jitter);
    colourJitter(frameTarget, plane, jitter);
  }
  if (aug.occluders > 0 && rng.uniform() < aug.occluders) {
    const count = 1 + Math.floor(rng.uniform() * 3);
    for (let k = 0; k < count; k++) occlude(frameIn, frameTarget, size, rng);
  }
}

/** Brightness, contrast (around the frame's mean grey) and saturation (around each pixel's grey), clamped to [0, 1]. */
export function colourJitter(frame: Float32Array, plane: number, j: { brightness: number; contrast: number; saturation: number }): void {
  let mean = 0;
  for (let p = 0; p < plane; p++) mean += 0.299 * frame[p]! + 0.587 * frame[p + plane]! + 0.114 * frame[p + 2 * plane]!;
  mean /= plane;
  for (let p = 0; p < plane; p++) {
    const r = frame[p]! * j.brightness;
    const g = frame[p + plane]! * j.brightness;
    const b = frame[p + 2 * plane]! * j.brightness;
    const grey = 0.299 * r + 0.587 * g + 0.114 * b;
    const rgb = [r, g, b];
    for (let c = 0; c < 3; c++) {
      const saturated = grey + (rgb[c]! - grey) * j.saturation;
      const contrasted = mean * j.brightness + (saturated - mean * j.brightness) * j.contrast;
      frame[p + c * plane] = Math.min(1, Math.max(0, contrasted));
    }
  }
}

/**
 * Pastes one synthetic occluder on both frames at the same place: a solid rectangle, a solid ellipse, or a patch
 * copied from elsewhere in the input (copied from the input into both, as a hand or glasses would cover both).
 */
function occlude(frameIn: Float32Array, frameTarget: Float32Array, size: number, rng: Rng): void {
  const plane = size * size;
  const w = Math.max(2, Math.floor(size * (0.1 + 0.25 * rng.uniform())));
  const h = Math.max(2, Math.floor(size * (0.1 + 0.25 * rng.uniform())));
  const x0 = Math.floor(rng.uniform() * (size - w));
  const y0 = Math.floor(rng.uniform() * (size - h));
  const shape = Math.floor(rng.uniform() * 3);
  const colour = [rng.uniform(), rng.uniform(), rng.uniform()];
  const sx = Math.floor(rng.uniform() * (size - w));
  const sy = Math.floor(rng.uniform() * (size - h));
  const source = Float32Array.from(frameIn);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (shape === 1) {
        const u = (x + 0.5) / w - 0.5;
        const v = (y + 0.5) / h - 0.5;
        if (u * u + v * v > 0.25) continue;
      }
      const dst = (y0 + y) * size + x0 + x;
      const src = (sy + y) * size + sx + x;
      for (let c = 0; c < 3; c++) {
        const value = shape === 2 ? source[src + c * plane]! : colour[c]!;
        frameIn[dst + c * plane] = value;
        frameTarget[dst + c * plane] = value;
      }
    }
  }
}

/**
 * Prepares training batches ahead of the trainer: keeps `depth` batches in flight (decoding runs on sharp's
 * threads while the session computes), handing them out in order.
 */
export class BatchQueue {
  readonly #ahead: Promise<PairBatch>[] = [];
  #next: number;

  constructor(
    readonly sampler: PairSampler,
    readonly pairs: readonly PairRef[],
    firstIndex: number,
    readonly depth = 3,
  ) {
    this.#next = firstIndex;
    this.#fill();
  }

  #fill(): void {
    while (this.#ahead.length < this.depth) {
      const batch = this.sampler.trainBatch(this.pairs, this.#next++);
      batch.catch(() => undefined);
      this.#ahead.push(batch);
    }
  }

  /** The next batch (batch `index` is the same whether the queue started at 0 or resumed at `index`). */
  async take(): Promise<PairBatch> {
    const batch = this.#ahead.shift()!;
    this.#fill();
    return batch;
  }
}
