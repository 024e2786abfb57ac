// Imports images (or before/after pairs) into a dataset: bounded parallel processing, ordered batch commits, resumable.
import { createHash, randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { BlobStore } from '../core/blob-store.ts';
import type { FaceDetector } from '../faces/detector.ts';
import { enumeratePairs, enumeratePhotos } from './enumerate.ts';
import { ImageRejectedError, processImage, readImageFile, type ProcessedImage } from './process-image.ts';
import type { DatasetStore, ImportFile, ImportFileResult, NewItem } from './store.ts';
import type { FileOutcome, ImportReport } from './types.ts';

/** What to import. */
export interface ImportRequest {
  datasetId: number;
  /** Files and folders (photos), or one folder / two folders (pairs; see `enumeratePairs`). */
  paths: string[];
  /** Import before/after pairs instead of single photos. */
  pairs: boolean;
  /** Refuse images with more pixels than this (default 100 MP). */
  maxPixels?: number | undefined;
}

/** Everything an import runs with. */
export interface ImportContext {
  store: DatasetStore;
  blobs: BlobStore;
  /** Looks for faces in each photo (the "before" image of a pair); null imports without detection. */
  detector: FaceDetector | null;
}

/** Cancellation, progress and tuning of {@link runImport}. */
export interface ImportHooks {
  signal?: AbortSignal | undefined;
  /** Called after every committed batch. */
  onProgress?: ((done: number, total: number, message: string) => void) | undefined;
  /** Files processed at once (default: cores, 2 to 4); sharp and ONNX Runtime use their own threads beneath. */
  concurrency?: number | undefined;
  /** Entries committed per transaction (default 32). */
  batchSize?: number | undefined;
}

/** How many problems an import report lists inline; the rest are in the store. */
const REPORT_PROBLEMS = 50;
/** A batch smaller than `batchSize` is still committed after this long, so progress keeps moving on slow files. */
const COMMIT_INTERVAL_MS = 1000;

/**
 * Lists the files to import and records the work list, before anything is read; returns the import id that
 * {@link runImport} (and a resumed run) works through. Throws `ImportSourceError` when a path does not exist.
 */
export async function planImport(store: DatasetStore, request: ImportRequest, importId: string = randomUUID()): Promise<string> {
  const entries = request.pairs ? await enumeratePairs(request.paths) : await enumeratePhotos(request.paths);
  store.createImport(importId, request.datasetId, request, entries);
  return importId;
}

/**
 * Processes every pending entry of an import. Files run `concurrency` at a time; their results are committed in
 * work-list order, a batch per transaction, so a crash or cancel leaves each entry either fully imported or still
 * pending, and re-running the same import id resumes where it stopped. On cancel, in-flight files finish and are
 * committed, then the signal's reason is thrown.
 */
export async function runImport(
  ctx: ImportContext,
  importId: string,
  request: ImportRequest,
  hooks: ImportHooks = {},
): Promise<ImportReport> {
  const started = performance.now();
  const datasetId = ctx.store.importDataset(importId);
  if (datasetId === null) throw new Error(`No import with id ${importId}.`);
  const pending = ctx.store.pendingImportFiles(importId);
  const total = ctx.store.importCounts(importId).total;
  const concurrency = Math.max(1, Math.floor(hooks.concurrency ?? Math.min(4, Math.max(2, availableParallelism()))));
  const batchSize = Math.max(1, Math.floor(hooks.batchSize ?? 32));
  const signal = hooks.signal;

  const results = new Map<number, ImportFileResult>();
  let nextToStart = 0;
  let nextToCommit = 0;
  let lastCommitAt = Date.now();
  // Running totals: recounting the work list after every batch would cost O(files) each time.
  const counts = ctx.store.importCounts(importId);
  let done = total - pending.length;

  const commitReady = (force: boolean): void => {
    let ready = 0;
    while (results.has(nextToCommit + ready)) ready += 1;
    if (ready === 0 || (!force && ready < batchSize && Date.now() - lastCommitAt < COMMIT_INTERVAL_MS)) return;
    const batch: ImportFileResult[] = [];
    for (let i = 0; i < ready; i++) {
      batch.push(results.get(nextToCommit)!);
      results.delete(nextToCommit);
      nextToCommit += 1;
    }
    const outcomes = ctx.store.commitImportBatch(importId, batch);
    lastCommitAt = Date.now();
    done += batch.length;
    outcomes.forEach((outcome, i) => {
      counts[outcome] += 1;
      const r = batch[i]!;
      if (outcome === 'imported' && r.outcome === 'item' && (r.item.faces?.length ?? 0) > 0) counts.withFace += 1;
    });
    hooks.onProgress?.(done, total, `${counts.imported} imported, ${counts.duplicate} duplicate, ${counts.error} failed`);
  };

  const worker = async (): Promise<void> => {
    while (nextToStart < pending.length && !signal?.aborted) {
      const index = nextToStart++;
      results.set(index, await processEntry(ctx, datasetId, pending[index]!, request.maxPixels));
      commitReady(false);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, pending.length) }, worker));
  commitReady(true);
  if (signal?.aborted) throw signal.reason ?? new Error('cancelled');
  ctx.store.finishImport(importId);

  const problems: FileOutcome[] = ctx.store.importFiles(importId, { outcomes: ['error', 'duplicate'], limit: REPORT_PROBLEMS });
  const seconds = (performance.now() - started) / 1000;
  return {
    importId,
    datasetId,
    counts,
    problems,
    seconds,
    filesPerSecond: seconds > 0 ? pending.length / seconds : 0,
  };
}

/** One entry, start to finish; never throws for a problem with the file itself. */
async function processEntry(ctx: ImportContext, datasetId: number, entry: ImportFile, maxPixels: number | undefined): Promise<ImportFileResult> {
  const seq = entry.seq;
  try {
    const bytes = await readImageFile(entry.path);
    const targetBytes = entry.targetPath === null ? null : await readImageFile(entry.targetPath).catch(inTarget);
    const imageSha = sha256(bytes);
    const targetSha = targetBytes === null ? null : sha256(targetBytes);
    // Catching a re-import before decoding saves the work; the commit checks again for twins inside this import.
    const existing = ctx.store.findItemByContent(datasetId, imageSha, targetSha);
    if (existing !== null) return { seq, outcome: 'duplicate', duplicateOf: existing };

    const image = await processImage(bytes, { detector: ctx.detector, maxPixels });
    let target: ProcessedImage | null = null;
    if (targetBytes !== null) {
      target = await processImage(targetBytes, { detector: null, maxPixels }).catch(inTarget);
      if (Math.abs(target.width / target.height - image.width / image.height) > 0.01) {
        throw new ImageRejectedError(
          `the "before" image is ${image.width}×${image.height} but the "after" image is ${target.width}×${target.height}; their shapes must match`,
        );
      }
    }
    return { seq, outcome: 'item', item: await storeBlobs(ctx.blobs, datasetId, entry, bytes, image, targetBytes, target) };
  } catch (error) {
    if (error instanceof ImageRejectedError) return { seq, outcome: 'error', reason: error.message };
    // Anything else (disk full, a bug) is still this file's failure; the import goes on with the next one.
    return { seq, outcome: 'error', reason: `internal error: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Puts the image, thumbnail (and target) into the blob store; each put is one reference, handed to the item. */
async function storeBlobs(
  blobs: BlobStore,
  datasetId: number,
  entry: ImportFile,
  bytes: Buffer,
  image: ProcessedImage,
  targetBytes: Buffer | null,
  target: ProcessedImage | null,
): Promise<NewItem> {
  const held: string[] = [];
  const put = async (data: Buffer, kind: string): Promise<string> => {
    const { sha256: sha } = await blobs.put(data, kind);
    held.push(sha);
    return sha;
  };
  try {
    const imageSha = await put(bytes, 'image');
    const thumbSha = await put(image.thumbnail, 'thumbnail');
    const targetSha = targetBytes === null ? null : await put(targetBytes, 'image');
    const targetThumbSha = target === null ? null : await put(target.thumbnail, 'thumbnail');
    return {
      datasetId,
      width: image.width,
      height: image.height,
      faces: image.faces,
      sourcePath: entry.path,
      targetSourcePath: entry.targetPath,
      provenance: null,
      imageSha,
      thumbSha,
      targetSha,
      targetThumbSha,
      phash: image.phash,
    };
  } catch (error) {
    for (const sha of held) blobs.release(sha);
    throw error;
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// Says which half of a pair failed.
function inTarget(error: unknown): never {
  if (error instanceof ImageRejectedError) throw new ImageRejectedError(`"after" image: ${error.message}`);
  throw error;
}
