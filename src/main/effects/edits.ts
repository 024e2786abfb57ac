// Effects on a stored teacher: the cached relevance table (a job), edits from prompts, preview grids and paired datasets.
import sharp, { type Sharp } from 'sharp';
import type { ProviderName } from '../../shared/contract.ts';
import type {
  EditSpec,
  EffectPairProvenance,
  EffectPairsParams,
  EffectPairsResult,
  EffectPreviewParams,
  EffectPreviewResult,
  PairShard,
  RelevanceParams,
  RelevanceResult,
} from '../../shared/effects/types.ts';
import { MAX_PAIR_SHARDS } from '../../shared/effects/types.ts';
import type { PixelImage } from '../../shared/faces/warp.ts';
import type { TeacherInfo } from '../../shared/teachers/types.ts';
import type { BlobStore } from '../core/blob-store.ts';
import { phashOfPixels } from '../datasets/phash.ts';
import type { DatasetStore, NewItem } from '../datasets/store.ts';
import type { ClipModel } from '../engine/clip/index.ts';
import type { Teacher } from '../engine/teacher/index.ts';
import { toPixels } from '../teachers/render.ts';
import { loadStoredTeacher } from '../teachers/weights.ts';
import { loadStoredClip } from './clip-store.ts';
import { applyEdit, normalize, styleEdit, textDirection, type StyleEdit } from './global-directions.ts';
import { computeRelevance } from './relevance.ts';
import { StyleSpace } from './style-space.ts';
import { relevanceInfo, type EffectsStore, type StoredClip } from './store.ts';

/** Truncation of the latents the style statistics and relevance images come from (StyleCLIP: ψ 0.7, cutoff 8). */
export const RELEVANCE_PSI = 0.7;
/** StyleCLIP truncates the first 8 ws when it measures the statistics. */
export const RELEVANCE_TRUNCATION_CUTOFF = 8;
/** First seed of the statistics latents; the relevance images use seeds 0, 1, … so they never overlap. */
export const STATS_FIRST_SEED = 1_000_000_000;
/** Renders per generator run in these jobs. */
const RENDER_BATCH = 8;
/** Longer side of dataset thumbnails, as the dataset importer makes them. */
const THUMB_SIDE = 256;

/** Cancellation, progress and checkpoints, as the job runtime gives them. */
export interface EffectHooks<C> {
  signal?: AbortSignal;
  progress?: (step: number, total: number, message: string) => void;
  saveCheckpoint?: (state: C) => void;
  resumeFrom?: C | null;
}

/** Where a relevance job stands: the statistics once taken, and directions finished so far. */
export interface RelevanceCheckpoint {
  /** Stats blob (float32 mean then σ over the flat style vector); the job holds one reference. */
  statsSha: string;
  /** Directions blob of the channels before `done` (float32 [channels, dim]); the job holds one reference. */
  partialSha: string | null;
  done: number;
}

/** Releases the blob references a relevance checkpoint holds (its job was cancelled, so nothing resumes it). */
export function releaseRelevanceCheckpoint(blobs: BlobStore, checkpoint: unknown): void {
  const c = checkpoint as Partial<RelevanceCheckpoint> | null;
  if (typeof c?.statsSha === 'string') blobs.release(c.statsSha);
  if (typeof c?.partialSha === 'string') blobs.release(c.partialSha);
}

function floats(bytes: Buffer): Float32Array {
  // Copied so the view is aligned whatever the Buffer's offset in its pool.
  return new Float32Array(Uint8Array.from(bytes).buffer);
}

function bytesOf(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Options of {@link computeRelevanceTable}. */
export interface RelevanceTableOptions {
  /** Seconds between saved partial tables (default 30). */
  saveEverySeconds?: number;
}

/**
 * Measures and stores the relevance table of a teacher under a CLIP model (StyleCLIP `SingleChannel`): per-channel
 * σ over `statsSamples` latents, then each editable channel's CLIP direction over `images` renders. Checkpoints
 * after the statistics and at most every `saveEverySeconds` while measuring; a resumed job continues there.
 */
export async function computeRelevanceTable(
  blobs: BlobStore,
  store: EffectsStore,
  teacherInfo: TeacherInfo,
  params: RelevanceParams,
  hooks: EffectHooks<RelevanceCheckpoint> = {},
  opts: RelevanceTableOptions = {},
): Promise<RelevanceResult> {
  const clipInfo = store.getClip(params.clipId);
  const teacher = await loadStoredTeacher(blobs, teacherInfo);
  const clip = await loadStoredClip(blobs, clipInfo, { shareCores: true });
  let space: StyleSpace | null = null;
  let state: RelevanceCheckpoint | null = hooks.resumeFrom ?? null;
  try {
    space = await StyleSpace.create(teacher, { batch: RENDER_BATCH, truncationCutoff: RELEVANCE_TRUNCATION_CUTOFF, shareCores: true });
    const channels = space.layout.channels.length;
    const total = space.layout.total;
    const work = params.statsSamples + channels;
    if (state === null) {
      hooks.progress?.(0, work, `Style statistics over ${params.statsSamples} latents on ${space.provider}`);
      let last = 0;
      const stats = await space.channelStats(params.statsSamples, RELEVANCE_PSI, {
        firstSeed: STATS_FIRST_SEED,
        signal: hooks.signal,
        onProgress: (done) => {
          if (Date.now() - last < 100) return;
          last = Date.now();
          hooks.progress?.(done, work, `Style statistics: ${done} of ${params.statsSamples} latents`);
        },
      });
      const packed = new Float32Array(2 * total);
      packed.set(stats.mean);
      packed.set(stats.std, total);
      state = { statsSha: (await blobs.put(bytesOf(packed), 'style-stats')).sha256, partialSha: null, done: 0 };
      hooks.saveCheckpoint?.(state);
    }
    const std = floats(await blobs.read(state.statsSha)).subarray(total, 2 * total);
    const directions = new Float32Array(channels * clip.dim);
    if (state.partialSha !== null) directions.set(floats(await blobs.read(state.partialSha)).subarray(0, state.done * clip.dim));
    const seeds = Array.from({ length: params.images }, (_, i) => i);
    const baseStyles = await space.stylesOfSeeds(seeds, RELEVANCE_PSI);
    const saveEvery = (opts.saveEverySeconds ?? 30) * 1000;
    let lastSave = Date.now();
    let lastProgress = 0;
    const provider = space.provider;
    hooks.progress?.(params.statsSamples + state.done, work, `Channel directions on ${provider}`);
    await computeRelevance(space, clip.image, {
      baseStyles,
      std,
      fromChannel: state.done,
      directions,
      signal: hooks.signal,
      onChunk: async (done) => {
        if (Date.now() - lastProgress >= 100 || done === channels) {
          lastProgress = Date.now();
          hooks.progress?.(params.statsSamples + done, work, `Channel directions: ${done} of ${channels} channels`);
        }
        if (Date.now() - lastSave < saveEvery || done === channels) return;
        lastSave = Date.now();
        const partial = await blobs.put(bytesOf(directions.subarray(0, done * clip.dim)), 'relevance-partial');
        const previous = state!.partialSha;
        state = { statsSha: state!.statsSha, partialSha: partial.sha256, done };
        hooks.saveCheckpoint?.(state);
        if (previous !== null) blobs.release(previous);
      },
    });
    const stored = (await blobs.put(bytesOf(directions), 'relevance')).sha256;
    const statsSha = state.statsSha;
    if (state.partialSha !== null) blobs.release(state.partialSha);
    state = null;
    const table = store.putRelevance(teacherInfo.id, clipInfo.id, params.images, stored, statsSha);
    return { ...relevanceInfo(table), provider };
  } catch (e) {
    // A failed job is never resumed: the blobs it held go. A stopped one (paused or cancelled: the worker cannot tell
    // which) and an interrupted one keep them, so that a resume continues from the checkpoint.
    if (state !== null && hooks.signal?.aborted !== true) {
      blobs.release(state.statsSha);
      if (state.partialSha !== null) blobs.release(state.partialSha);
    }
    throw e;
  } finally {
    await space?.release();
    await clip.release();
  }
}

/** An edit ready to apply: the teacher's style space, the style-space Δs and what it touches. */
export interface OpenEdit {
  readonly teacher: Teacher;
  readonly clip: StoredClip;
  readonly space: StyleSpace;
  readonly edit: StyleEdit;
  /** The text direction Δt the edit was made from. */
  readonly direction: Float32Array;
  release(): Promise<void>;
}

/** A request for an edit whose teacher has no relevance table under the CLIP model yet. */
export class RelevanceMissingError extends Error {
  override readonly name = 'RelevanceMissingError';
}

/**
 * Opens the edit of `spec` on a stored teacher: relevance table and statistics from the blob store, Δt from the
 * CLIP text tower over the 79 templates, Δs by StyleCLIP's `GetBoundary`. The style space renders with truncation
 * over every ws and the stored noise, as the teacher's own samples do, so seed n here is seed n on the Teacher page.
 */
export async function openEdit(blobs: BlobStore, store: EffectsStore, teacherInfo: TeacherInfo, spec: EditSpec & { direction?: number[] }, batch: number): Promise<OpenEdit> {
  const clipInfo = store.getClip(spec.clipId);
  const table = store.findRelevance(teacherInfo.id, clipInfo.id);
  if (table === null) {
    throw new RelevanceMissingError(`Teacher "${teacherInfo.name}" has no channel relevance under CLIP model "${clipInfo.name}" yet; compute it first.`);
  }
  const teacher = await loadStoredTeacher(blobs, teacherInfo);
  const dt = spec.direction === undefined ? await measureTextDirection(blobs, clipInfo, spec) : givenDirection(spec.direction, clipInfo);
  const space = await StyleSpace.create(teacher, { batch, truncationCutoff: null, shareCores: true });
  try {
    const directions = floats(await blobs.read(table.directionsSha));
    const stats = floats(await blobs.read(table.statsSha));
    const total = space.layout.total;
    if (stats.length !== 2 * total || directions.length !== space.layout.channels.length * clipInfo.dim) {
      throw new Error(`the relevance table of teacher "${teacherInfo.name}" does not fit its style space; compute it again`);
    }
    const sigma = Float32Array.from(space.layout.channels, (p) => stats[total + p]!);
    const edit = styleEdit(directions, dt, sigma, spec.beta);
    return { teacher, clip: clipInfo, space, edit, direction: dt, release: () => space.release() };
  } catch (e) {
    await space.release();
    throw e;
  }
}

async function measureTextDirection(blobs: BlobStore, clipInfo: StoredClip, spec: EditSpec): Promise<Float32Array> {
  const clip: ClipModel = await loadStoredClip(blobs, clipInfo, { shareCores: true });
  try {
    return await textDirection(clip.text, spec.target, spec.neutral);
  } finally {
    await clip.release();
  }
}

/** A Δt passed back by the renderer: checked against the CLIP model's size and renormalised. */
function givenDirection(direction: readonly number[], clipInfo: StoredClip): Float32Array {
  if (direction.length !== clipInfo.dim) {
    throw new RangeError(`the text direction has ${direction.length} values but CLIP model "${clipInfo.name}" embeds in ${clipInfo.dim}`);
  }
  const v = normalize(Float32Array.from(direction));
  if (v.every((x) => x === 0)) throw new RangeError('the text direction is all zeros');
  return v as Float32Array;
}

function rawImage(pixels: PixelImage): Sharp {
  return sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels as 1 | 3 } });
}

/** Renders the preview grid: each seed unedited and at every α (PNG blobs, released at once: kept until the next sweep). */
export async function renderEffectPreview(blobs: BlobStore, store: EffectsStore, teacherInfo: TeacherInfo, params: EffectPreviewParams, signal?: AbortSignal): Promise<EffectPreviewResult> {
  const open = await openEdit(blobs, store, teacherInfo, params, Math.min(params.seeds.length, RENDER_BATCH));
  try {
    const { space, edit } = open;
    const { config } = space;
    const n = params.seeds.length;
    const styles = await space.stylesOfSeeds(params.seeds, params.psi);
    const put = async (images: Float32Array, i: number): Promise<string> => {
      const { sha256 } = await blobs.put(await rawImage(toPixels(images, i, config)).png().toBuffer(), 'preview');
      blobs.release(sha256);
      return sha256;
    };
    const originals = await space.render(styles);
    const result = params.seeds.map((seed) => ({ seed, originalSha256: '', editedSha256: [] as string[] }));
    for (let i = 0; i < n; i++) result[i]!.originalSha256 = await put(originals, i);
    for (const alpha of params.alphas) {
      signal?.throwIfAborted();
      const edited = await space.render(applyEdit(styles, n, space.layout.channels, edit.delta, alpha));
      for (let i = 0; i < n; i++) result[i]!.editedSha256.push(await put(edited, i));
    }
    return {
      teacherId: teacherInfo.id,
      psi: params.psi,
      alphas: params.alphas,
      beta: params.beta,
      resolution: config.resolution,
      touched: edit.touched,
      channels: space.layout.channels.length,
      images: result,
      direction: Array.from(open.direction),
      provider: space.provider,
    };
  } finally {
    await open.release();
  }
}

/** Where a pairs job stands; saved after every batch. */
export interface PairsCheckpoint {
  datasetId: number;
  /** Pairs finished: the first `done` of the run's (or the shard's) pairs, in index order. */
  done: number;
}

/** How many pairs a run of `count` makes, or its shard `shard` (those k < count with k mod shard.count = shard.index). */
export function shardPairCount(count: number, shard?: PairShard): number {
  if (shard === undefined) return count;
  return shard.index >= count ? 0 : Math.floor((count - 1 - shard.index) / shard.count) + 1;
}

/** The run-wide index k of the shard's `j`-th pair (its seed is the run's first seed + k). */
export function shardPairIndex(j: number, shard?: PairShard): number {
  return shard === undefined ? j : shard.index + j * shard.count;
}

/** Refuses a shard that is not one of its run's slices. */
export function checkShard(shard: PairShard): void {
  if (!(Number.isSafeInteger(shard.count) && shard.count >= 1 && shard.count <= MAX_PAIR_SHARDS)) {
    throw new RangeError(`a run is split into 1 to ${MAX_PAIR_SHARDS} shards, got ${shard.count}`);
  }
  if (!(Number.isSafeInteger(shard.index) && shard.index >= 0 && shard.index < shard.count)) {
    throw new RangeError(`shard index must be from 0 to ${shard.count - 1} for ${shard.count} shards, got ${shard.index}`);
  }
}

/** One image of a pair: the PNG that is stored and its pixels. */
export interface PairImage {
  png: Buffer;
  pixels: PixelImage;
}

/** One rendered pair with its run-wide index. */
export interface RenderedPair {
  index: number;
  original: PairImage;
  edited: PairImage;
  provenance: EffectPairProvenance;
}

/**
 * Renders the run's (or the shard's) pairs from the `from`-th on, one batch at a time: both images of a pair from
 * the same latent and the stored noise, the edit the only difference. `onBatch` gets each batch and the number of
 * pairs finished with it, and is awaited before the next batch renders.
 */
export async function renderPairs(
  open: OpenEdit,
  teacherInfo: TeacherInfo,
  params: Omit<EffectPairsParams, 'datasetName'>,
  from: number,
  onBatch: (pairs: RenderedPair[], done: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const { space, edit } = open;
  const total = shardPairCount(params.count, params.shard);
  for (let done = from; done < total; ) {
    signal?.throwIfAborted();
    const n = Math.min(space.batch, total - done);
    const indices = Array.from({ length: n }, (_, i) => shardPairIndex(done + i, params.shard));
    const seeds = indices.map((k) => params.seed + k);
    const styles = await space.stylesOfSeeds(seeds, params.psi);
    const originals = await space.render(styles);
    const edited = await space.render(applyEdit(styles, n, space.layout.channels, edit.delta, params.alpha));
    const pairs: RenderedPair[] = [];
    for (let i = 0; i < n; i++) {
      const provenance: EffectPairProvenance = {
        source: 'effect',
        teacherId: teacherInfo.id,
        teacherName: teacherInfo.name,
        clipId: open.clip.id,
        clipName: open.clip.name,
        seed: seeds[i]!,
        psi: params.psi,
        noise: 'const',
        target: params.target.trim(),
        neutral: params.neutral.trim(),
        alpha: params.alpha,
        beta: params.beta,
        touched: edit.touched,
      };
      pairs.push({ index: indices[i]!, original: await pairImage(toPixels(originals, i, space.config)), edited: await pairImage(toPixels(edited, i, space.config)), provenance });
    }
    done += n;
    await onBatch(pairs, done);
  }
}

async function pairImage(pixels: PixelImage): Promise<PairImage> {
  return { png: await rawImage(pixels).png().toBuffer(), pixels };
}

/**
 * Writes the run's `count` pairs (or its shard's) as a new `pairs` dataset. Each item keeps both PNGs, thumbnails,
 * the original's pHash and provenance.
 */
export async function generatePairs(
  blobs: BlobStore,
  store: EffectsStore,
  datasets: DatasetStore,
  teacherInfo: TeacherInfo,
  params: EffectPairsParams,
  hooks: EffectHooks<PairsCheckpoint> = {},
): Promise<EffectPairsResult> {
  if (params.shard !== undefined) checkShard(params.shard);
  const total = shardPairCount(params.count, params.shard);
  let state: PairsCheckpoint;
  if (hooks.resumeFrom) {
    state = { ...hooks.resumeFrom };
    datasets.getDataset(state.datasetId);
  }
  const open = await openEdit(blobs, store, teacherInfo, params, Math.max(1, Math.min(total, RENDER_BATCH)));
  try {
    if (!hooks.resumeFrom) {
      state = { datasetId: datasets.createDataset({ name: params.datasetName, kind: 'pairs' }).id, done: 0 };
      hooks.saveCheckpoint?.(state);
    }
    const dataset = datasets.getDataset(state!.datasetId);
    const provider: ProviderName = open.space.provider;
    const of = params.shard === undefined ? '' : ` (shard ${params.shard.index}/${params.shard.count})`;
    hooks.progress?.(state!.done, total, `Generating pairs${of} on ${provider}`);
    await renderPairs(
      open,
      teacherInfo,
      params,
      state!.done,
      async (pairs, done) => {
        const items: NewItem[] = [];
        for (const pair of pairs) items.push({ ...(await pairItem(blobs, pair)), datasetId: dataset.id });
        datasets.insertItems(items);
        state = { datasetId: dataset.id, done };
        hooks.saveCheckpoint?.(state);
        hooks.progress?.(done, total, `${done} of ${total} pairs${of}`);
      },
      hooks.signal,
    );
    return { datasetId: dataset.id, datasetName: dataset.name, count: state!.done, touched: open.edit.touched, provider };
  } finally {
    await open.release();
  }
}

/**
 * A dataset item of a pair, for any dataset: both PNGs, their thumbnails and the original's pHash put in the blob
 * store (the item holds one reference on each) and the provenance.
 */
export async function pairItem(blobs: BlobStore, pair: Pick<RenderedPair, 'original' | 'edited' | 'provenance'>): Promise<Omit<NewItem, 'datasetId'>> {
  const thumb = (p: PixelImage): Promise<Buffer> =>
    rawImage(p).resize(THUMB_SIDE, THUMB_SIDE, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toBuffer();
  const { original, edited } = pair;
  const [imageThumb, targetThumb, phash] = await Promise.all([thumb(original.pixels), thumb(edited.pixels), phashOfPixels(original.pixels)]);
  const imageBlob = await blobs.put(original.png, 'image');
  const thumbBlob = await blobs.put(imageThumb, 'thumbnail');
  const targetBlob = await blobs.put(edited.png, 'image');
  const targetThumbBlob = await blobs.put(targetThumb, 'thumbnail');
  return {
    width: original.pixels.width,
    height: original.pixels.height,
    faces: null,
    sourcePath: null,
    targetSourcePath: null,
    provenance: pair.provenance,
    imageSha: imageBlob.sha256,
    thumbSha: thumbBlob.sha256,
    targetSha: targetBlob.sha256,
    targetThumbSha: targetThumbBlob.sha256,
    phash,
  };
}
