// The `dataset-import` job: plans the work list once (keyed by the job id), then imports pending files; resumable.
import type { JobParams, JobResults } from '../../../shared/contract.ts';
import { planImport, runImport } from '../../datasets/importer.ts';
import { DatasetStore } from '../../datasets/store.ts';
import { FaceDetector } from '../../faces/detector.ts';
import type { JobRunner } from '../runtime.ts';

/** What a resumed import needs: the id of its work list in the store. */
export interface DatasetImportCheckpoint {
  importId: string;
}

function isCheckpoint(value: unknown): value is DatasetImportCheckpoint {
  return typeof value === 'object' && value !== null && typeof (value as { importId?: unknown }).importId === 'string';
}

/**
 * Imports in this worker: sharp decodes on its own thread pool, one BlazeFace session runs here. The work list is
 * recorded before any file is read, so after an interruption the resumed job only processes the entries still pending.
 */
export const runDatasetImport: JobRunner<JobParams['dataset-import'], JobResults['dataset-import']> = async (
  ctx,
) => {
  const { db, blobs } = ctx.open();
  const store = new DatasetStore(db, blobs);
  const request = {
    datasetId: ctx.params.datasetId,
    paths: ctx.params.paths,
    pairs: ctx.params.pairs,
    maxPixels: ctx.params.maxPixels,
  };
  // The checkpoint is JSON from the job store; the job id is the import id of every run planned by this runner.
  const importId = isCheckpoint(ctx.resumeFrom) ? ctx.resumeFrom.importId : ctx.jobId;
  if (store.importDataset(importId) === null) {
    ctx.progress(0, 0, 'listing files');
    await planImport(store, request, importId);
    const checkpoint: DatasetImportCheckpoint = { importId };
    ctx.saveCheckpoint(checkpoint);
  }
  const detector = ctx.params.detectFaces === false ? null : await FaceDetector.create();
  try {
    return await runImport({ store, blobs, detector }, importId, request, {
      signal: ctx.signal,
      onProgress: (done, total, message) => ctx.progress(done, total, message),
    });
  } finally {
    await detector?.release();
  }
};
