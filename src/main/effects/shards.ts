// Pair shards: one machine's slice of a pairs run as a self-describing zip, and the checked merge of a run's shards into one pairs dataset.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import sharp, { type OutputInfo } from 'sharp';
import yazl from 'yazl';
import { z } from 'zod';
import type { ProviderName } from '../../shared/contract.ts';
import {
  ALPHA_RANGE,
  BETA_RANGE,
  MAX_EFFECT_PAIRS,
  MAX_PAIR_SHARDS,
  MAX_PROMPT_TEXT,
  type EffectPairProvenance,
  type EffectPairsParams,
  type PairShard,
} from '../../shared/effects/types.ts';
import type { TeacherInfo } from '../../shared/teachers/types.ts';
import type { BlobStore } from '../core/blob-store.ts';
import { DatasetExistsError, type DatasetStore, type NewItem } from '../datasets/store.ts';
import { forEachZipEntry, PackageRejectedError, type ReadLimits, type ZipRules } from '../export/reader.ts';
import type { TeacherStore } from '../teachers/store.ts';
import { checkShard, openEdit, pairItem, renderPairs, shardPairCount, shardPairIndex, type EffectHooks } from './edits.ts';
import type { EffectsStore, StoredClip } from './store.ts';

/** `format` of a shard's manifest. */
export const SHARD_FORMAT = 'effects-studio/pairs-shard';
/** Version of the shard layout this studio writes and reads. */
export const SHARD_VERSION = 1;
/** The manifest's name inside a shard. */
export const SHARD_MANIFEST = 'manifest.json';
/** Renders per generator run while writing a shard, as the pairs job uses. */
const RENDER_BATCH = 8;
/** Largest image side a shard may carry (the largest StyleGAN2 teachers are 1024²). */
const MAX_SHARD_RESOLUTION = 4096;
// Fixed entry times, so that the same pairs always make the same shard bytes.
const ENTRY_TIME = new Date('2020-01-01T00:00:00Z');

/** What a shard may hold: the manifest and two PNGs per pair, named by the pair's run-wide index. */
const SHARD_RULES: ZipRules = { allowedName: /^(manifest\.json|pairs\/[0-9]{7}-(original|edited)\.png)$/, folders: ['pairs/'] };
/** Bounds on an untrusted shard: a million pairs of 1024² images fit, a zip bomb does not. */
const SHARD_LIMITS: ReadLimits = {
  maxFileBytes: 256 * 1024 ** 3,
  maxTotalBytes: 256 * 1024 ** 3,
  maxEntryBytes: 256 * 1024 ** 2,
  maxEntries: 2 * MAX_EFFECT_PAIRS + 1,
  maxRatio: 100,
};

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 (64 lower-case hex digits)');
const count = (max: number): z.ZodNumber => z.number().int().min(0).max(max);
const text = z.string().trim().min(1).max(MAX_PROMPT_TEXT);
const fileRef = z.strictObject({ path: z.string().max(64), sha256, bytes: count(SHARD_LIMITS.maxEntryBytes) });

/** The run a shard belongs to: every shard of one run carries the same. */
const shardRun = z.strictObject({
  count: count(MAX_EFFECT_PAIRS).min(1),
  seed: count(Number.MAX_SAFE_INTEGER - MAX_EFFECT_PAIRS),
  psi: z.number().min(-2).max(2),
  alpha: z.number().min(ALPHA_RANGE[0]).max(ALPHA_RANGE[1]),
  beta: z.number().min(BETA_RANGE[0]).max(BETA_RANGE[1]),
  target: text,
  neutral: text,
  touched: count(1_000_000),
  resolution: count(MAX_SHARD_RESOLUTION).min(1),
  channels: z.union([z.literal(1), z.literal(3)]),
  teacher: z.strictObject({ name: z.string().max(200), weightsSha256: sha256 }),
  clip: z.strictObject({ name: z.string().max(200), identity: sha256 }),
  relevance: z.strictObject({ directionsSha256: sha256, statsSha256: sha256 }),
});

/** manifest.json of a shard. */
const shardManifest = z.strictObject({
  format: z.literal(SHARD_FORMAT),
  version: z.literal(SHARD_VERSION),
  shard: z.strictObject({ index: count(MAX_PAIR_SHARDS - 1), count: count(MAX_PAIR_SHARDS).min(1) }),
  run: shardRun,
  /** Where the shard was rendered (not part of the run's identity). */
  provider: z.string().min(1).max(40),
  pairs: z.array(z.strictObject({ index: count(MAX_EFFECT_PAIRS - 1), seed: count(Number.MAX_SAFE_INTEGER), original: fileRef, edited: fileRef })).max(MAX_EFFECT_PAIRS),
});

/** The manifest of a pairs shard. */
export type ShardManifest = z.infer<typeof shardManifest>;

/** A shard file, or a set of shards, refused; the message names the file and what is wrong. */
export class ShardRejectedError extends Error {
  override readonly name = 'ShardRejectedError';
}

/** The parameters of one shard: a pairs run without a dataset, and which slice of it. */
export type PairShardParams = Omit<EffectPairsParams, 'datasetName' | 'shard'> & { shard: PairShard };

/** What {@link writePairShard} wrote. */
export interface PairShardResult {
  file: string;
  shard: PairShard;
  /** Pairs in the shard. */
  pairs: number;
  /** Pairs of the whole run. */
  count: number;
  touched: number;
  /** Size and sha256 of the shard file. */
  bytes: number;
  sha256: string;
  provider: ProviderName;
}

/** What {@link mergePairShards} wrote. */
export interface ShardMergeResult {
  datasetId: number;
  datasetName: string;
  /** Pairs in the new dataset. */
  count: number;
  /** Pairs whose two images another pair of the run had already (not inserted twice). */
  duplicates: number;
  shards: number;
}

/** Name of pair k's image inside a shard. */
export function pairEntryName(index: number, role: 'original' | 'edited'): string {
  return `pairs/${String(index).padStart(7, '0')}-${role}.png`;
}

function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Renders one shard of a pairs run and writes it to `out` as a zip: both PNGs of every pair and a manifest with the
 * run's parameters, the teacher's weights hash, the CLIP identity, the relevance table's hashes and every file's
 * sha256. Written to a temporary sibling and renamed into place when complete.
 */
export async function writePairShard(
  blobs: BlobStore,
  store: EffectsStore,
  teacherInfo: TeacherInfo,
  params: PairShardParams,
  out: string,
  hooks: Omit<EffectHooks<never>, 'saveCheckpoint' | 'resumeFrom'> = {},
): Promise<PairShardResult> {
  checkShard(params.shard);
  const total = shardPairCount(params.count, params.shard);
  const clip = store.getClip(params.clipId);
  const open = await openEdit(blobs, store, teacherInfo, params, Math.max(1, Math.min(total, RENDER_BATCH)));
  const temp = `${out}.partial-${process.pid}`;
  try {
    const relevance = store.findRelevance(teacherInfo.id, clip.id)!;
    const zip = new yazl.ZipFile();
    const written = pipeline(zip.outputStream, createWriteStream(temp, { flags: 'wx' }));
    // A failed write surfaces when awaited below; until then it must not count as unhandled.
    written.catch(() => undefined);
    const pairs: ShardManifest['pairs'] = [];
    const label = `shard ${params.shard.index}/${params.shard.count}`;
    hooks.progress?.(0, total, `Generating ${total} pairs of ${label} on ${open.space.provider}`);
    await renderPairs(
      open,
      teacherInfo,
      params,
      0,
      async (batch, done) => {
        for (const pair of batch) {
          const ref = (role: 'original' | 'edited', png: Buffer): ShardManifest['pairs'][number]['original'] => {
            const path = pairEntryName(pair.index, role);
            zip.addBuffer(png, path, { mtime: ENTRY_TIME, mode: 0o100644, compress: false });
            return { path, sha256: sha256Of(png), bytes: png.length };
          };
          pairs.push({ index: pair.index, seed: pair.provenance.seed, original: ref('original', pair.original.png), edited: ref('edited', pair.edited.png) });
        }
        hooks.progress?.(done, total, `${done} of ${total} pairs of ${label}`);
      },
      hooks.signal,
    );
    const { config } = open.space;
    const manifest: ShardManifest = {
      format: SHARD_FORMAT,
      version: SHARD_VERSION,
      shard: params.shard,
      run: {
        count: params.count,
        seed: params.seed,
        psi: params.psi,
        alpha: params.alpha,
        beta: params.beta,
        target: params.target.trim(),
        neutral: params.neutral.trim(),
        touched: open.edit.touched,
        resolution: config.resolution,
        channels: config.imgChannels as 1 | 3,
        teacher: { name: teacherInfo.name, weightsSha256: teacherInfo.weightsSha256 },
        clip: { name: clip.name, identity: clip.config.identity },
        relevance: { directionsSha256: relevance.directionsSha, statsSha256: relevance.statsSha },
      },
      provider: open.space.provider,
      pairs,
    };
    zip.addBuffer(Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`), SHARD_MANIFEST, { mtime: ENTRY_TIME, mode: 0o100644, compress: true });
    zip.end();
    await written;
    await rename(temp, out);
    const bytes = (await stat(out)).size;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(out)) hash.update(chunk as Buffer);
    return { file: out, shard: params.shard, pairs: total, count: params.count, touched: open.edit.touched, bytes, sha256: hash.digest('hex'), provider: open.space.provider };
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  } finally {
    await open.release();
  }
}

/** A shard read and checked: its manifest, and one blob reference held on each image it carried. */
interface ReadShard {
  file: string;
  manifest: ShardManifest;
  held: string[];
}

/**
 * Reads one shard without trusting it: zip entries checked (names, no `..` or absolute paths, sizes, zip bombs), every
 * image hashed and put in the blob store as it streams, then the manifest checked against its schema, the shard's
 * pair list (exactly the indices k ≡ index mod count, seed = first seed + k) and every file's sha256 and size.
 * On refusal the blob references taken are released.
 */
async function readShard(blobs: BlobStore, file: string): Promise<ReadShard> {
  const name = basename(file);
  const files = new Map<string, { sha256: string; bytes: number }>();
  const held: string[] = [];
  let manifestBytes: Buffer | null = null;
  try {
    await forEachZipEntry(file, SHARD_LIMITS, SHARD_RULES, async (entry, bytes) => {
      if (entry === SHARD_MANIFEST) {
        manifestBytes = bytes;
        return;
      }
      const blob = await blobs.put(bytes, 'image');
      held.push(blob.sha256);
      files.set(entry, { sha256: blob.sha256, bytes: bytes.length });
    });
  } catch (error) {
    for (const sha of held) blobs.release(sha);
    if (error instanceof PackageRejectedError) throw new ShardRejectedError(`shard "${name}" is refused: ${error.message}`);
    if (isErrno(error, 'ENOENT')) throw new ShardRejectedError(`shard "${name}" does not exist (${file})`);
    throw error;
  }
  try {
    return { file, manifest: checkManifest(name, manifestBytes, files), held };
  } catch (error) {
    for (const sha of held) blobs.release(sha);
    throw error;
  }
}

function checkManifest(name: string, bytes: Buffer | null, files: ReadonlyMap<string, { sha256: string; bytes: number }>): ShardManifest {
  if (bytes === null) throw new ShardRejectedError(`shard "${name}" has no ${SHARD_MANIFEST}: it is not a pairs shard`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new ShardRejectedError(`shard "${name}": ${SHARD_MANIFEST} is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const parsed = shardManifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ShardRejectedError(`shard "${name}": ${SHARD_MANIFEST} is not a pairs shard manifest: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const manifest = parsed.data;
  const { shard, run } = manifest;
  const label = `shard "${name}" (${shard.index}/${shard.count})`;
  if (shard.index >= shard.count) throw new ShardRejectedError(`${label}: shard index ${shard.index} is not below the shard count ${shard.count}`);
  const expected = shardPairCount(run.count, shard);
  if (manifest.pairs.length !== expected) {
    throw new ShardRejectedError(`${label} lists ${manifest.pairs.length} pairs; shard ${shard.index} of ${shard.count} of a run of ${run.count} has ${expected}`);
  }
  const listed = new Set<string>();
  manifest.pairs.forEach((pair, j) => {
    const index = shardPairIndex(j, shard);
    if (pair.index !== index) throw new ShardRejectedError(`${label}: pair ${j} of the manifest has index ${pair.index}, expected ${index}`);
    if (pair.seed !== run.seed + index) throw new ShardRejectedError(`${label}: pair ${index} has seed ${pair.seed}, expected ${run.seed + index}`);
    for (const role of ['original', 'edited'] as const) {
      const ref = pair[role];
      const path = pairEntryName(index, role);
      if (ref.path !== path) throw new ShardRejectedError(`${label}: pair ${index}'s ${role} image is named "${ref.path}", expected "${path}"`);
      const entry = files.get(path);
      if (entry === undefined) throw new ShardRejectedError(`${label}: the ${role} image of pair ${index} (${path}) is missing`);
      if (entry.sha256 !== ref.sha256 || entry.bytes !== ref.bytes) {
        throw new ShardRejectedError(
          `${label}: the ${role} image of pair ${index} (${path}) has sha256 ${entry.sha256} (${entry.bytes} bytes); the manifest says ${ref.sha256} (${ref.bytes} bytes): the shard was changed or damaged`,
        );
      }
      listed.add(path);
    }
  });
  for (const path of files.keys()) {
    if (!listed.has(path)) throw new ShardRejectedError(`${label}: entry "${path}" is not listed in the manifest`);
  }
  return manifest;
}

/** The run fields two shards must agree on, flattened for a message that names the first difference. */
function runFields(run: ShardManifest['run']): [string, unknown][] {
  const { teacher, clip, relevance, ...plain } = run;
  return [
    ...Object.entries(plain),
    ['teacher weights sha256', teacher.weightsSha256],
    ['CLIP identity', clip.identity],
    ['relevance directions sha256', relevance.directionsSha256],
    ['relevance statistics sha256', relevance.statsSha256],
  ];
}

/** Refuses shards of different runs, of different shard counts, duplicate shard indices and missing shards. */
function checkShardSet(shards: readonly ReadShard[]): void {
  const first = shards[0]!;
  const firstName = basename(first.file);
  const reference = new Map(runFields(first.manifest.run));
  const byIndex = new Map<number, string>();
  for (const shard of shards) {
    const name = basename(shard.file);
    for (const [field, value] of runFields(shard.manifest.run)) {
      if (JSON.stringify(value) !== JSON.stringify(reference.get(field))) {
        throw new ShardRejectedError(
          `shard "${name}" is of another run than "${firstName}": ${field} is ${JSON.stringify(value)} there and ${JSON.stringify(reference.get(field))} in "${firstName}"`,
        );
      }
    }
    if (shard.manifest.shard.count !== first.manifest.shard.count) {
      throw new ShardRejectedError(`shard "${name}" is one of ${shard.manifest.shard.count} shards but "${firstName}" is one of ${first.manifest.shard.count}`);
    }
    const other = byIndex.get(shard.manifest.shard.index);
    if (other !== undefined) {
      throw new ShardRejectedError(`shards "${other}" and "${name}" are both shard ${shard.manifest.shard.index}/${shard.manifest.shard.count}: give each shard once`);
    }
    byIndex.set(shard.manifest.shard.index, name);
  }
  const n = first.manifest.shard.count;
  const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    const shown = missing.slice(0, 20).join(', ') + (missing.length > 20 ? `, … (${missing.length} in all)` : '');
    throw new ShardRejectedError(`the run is split into ${n} shards but shard${missing.length === 1 ? '' : 's'} ${shown} ${missing.length === 1 ? 'is' : 'are'} missing: give all ${n}`);
  }
}

/** The stores a merge reads and writes. */
export interface MergeStores {
  blobs: BlobStore;
  datasets: DatasetStore;
  teachers: TeacherStore;
  effects: EffectsStore;
}

/**
 * Merges every shard of one pairs run into a new `pairs` dataset named `datasetName`, pair k the k-th item as in an
 * unsharded run, with the same provenance (the teacher and CLIP model found in this studio by weights hash and
 * identity). Every shard is read and checked first; any refusal ({@link ShardRejectedError}) or a taken name
 * ({@link DatasetExistsError}: merging the same shards twice) writes nothing to any dataset. The dataset and its
 * items are inserted in one transaction.
 */
export async function mergePairShards(stores: MergeStores, files: readonly string[], datasetName: string, hooks: Pick<EffectHooks<never>, 'progress' | 'signal'> = {}): Promise<ShardMergeResult> {
  const { blobs, datasets } = stores;
  if (files.length === 0) throw new ShardRejectedError('no shard files given');
  if (datasets.findDataset(datasetName)) throw new DatasetExistsError(datasetName.trim());
  const shards: ReadShard[] = [];
  const items: Omit<NewItem, 'datasetId'>[] = [];
  try {
    for (const [i, file] of files.entries()) {
      hooks.signal?.throwIfAborted();
      hooks.progress?.(i, files.length, `Checking shard ${basename(file)}`);
      shards.push(await readShard(blobs, file));
    }
    checkShardSet(shards);
    const { run } = shards[0]!.manifest;
    const teacher = stores.teachers.list().find((t) => t.weightsSha256 === run.teacher.weightsSha256);
    if (teacher === undefined) {
      throw new ShardRejectedError(`this studio has no teacher with the shards' weights (sha256 ${run.teacher.weightsSha256}, "${run.teacher.name}" where they were made): import it first`);
    }
    const clip: StoredClip | undefined = stores.effects.listClips().find((c) => c.config.identity === run.clip.identity);
    if (clip === undefined) {
      throw new ShardRejectedError(`this studio has no CLIP model with the shards' identity (${run.clip.identity}, "${run.clip.name}" where they were made): import it first`);
    }
    const pairs = shards.flatMap((s) => s.manifest.pairs.map((pair) => ({ pair, file: s.file }))).sort((a, b) => a.pair.index - b.pair.index);
    for (const [done, { pair, file }] of pairs.entries()) {
      hooks.signal?.throwIfAborted();
      if (done % 100 === 0) hooks.progress?.(done, pairs.length, `${done} of ${pairs.length} pairs merged`);
      const provenance: EffectPairProvenance = {
        source: 'effect',
        teacherId: teacher.id,
        teacherName: teacher.name,
        clipId: clip.id,
        clipName: clip.name,
        seed: pair.seed,
        psi: run.psi,
        noise: 'const',
        target: run.target,
        neutral: run.neutral,
        alpha: run.alpha,
        beta: run.beta,
        touched: run.touched,
      };
      const original = await shardImage(blobs, file, pair.original, run);
      const edited = await shardImage(blobs, file, pair.edited, run);
      items.push(await pairItem(blobs, { original, edited, provenance }));
    }
    const { dataset, inserted } = datasets.createDatasetWithItems({ name: datasetName, kind: 'pairs' }, items);
    const count = inserted.filter((r) => r.itemId !== null).length;
    hooks.progress?.(pairs.length, pairs.length, `${count} pairs merged into "${dataset.name}"`);
    return { datasetId: dataset.id, datasetName: dataset.name, count, duplicates: inserted.length - count, shards: shards.length };
  } catch (error) {
    // Nothing was inserted: the references the items would have taken over go back.
    for (const item of items) for (const sha of [item.imageSha, item.thumbSha, item.targetSha, item.targetThumbSha]) if (sha !== null) blobs.release(sha);
    throw error;
  } finally {
    for (const shard of shards) for (const sha of shard.held) blobs.release(sha);
  }
}

/** Decodes a shard's image (already checked against its hash) and checks it is a PNG of the run's size. */
async function shardImage(blobs: BlobStore, file: string, ref: ShardManifest['pairs'][number]['original'], run: ShardManifest['run']): Promise<{ png: Buffer; pixels: { data: Buffer; width: number; height: number; channels: number } }> {
  const png = await blobs.read(ref.sha256);
  const where = `shard "${basename(file)}": ${ref.path}`;
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    const image = sharp(png, { limitInputPixels: MAX_SHARD_RESOLUTION ** 2, failOn: 'error' });
    const meta = await image.metadata();
    if (meta.format !== 'png') throw new Error(`it is ${meta.format ?? 'not an image'}, not a PNG`);
    decoded = await image.raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new ShardRejectedError(`${where} is not a readable PNG: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { width, height, channels } = decoded.info;
  if (width !== run.resolution || height !== run.resolution || channels !== run.channels) {
    throw new ShardRejectedError(`${where} is ${width}×${height}×${channels}; the run's images are ${run.resolution}×${run.resolution}×${run.channels}`);
  }
  return { png, pixels: { data: decoded.data, width, height, channels } };
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
