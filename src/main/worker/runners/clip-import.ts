// The `clip-import` job: a CLIP ONNX export folder checked and copied into the blob store as a stored CLIP model.
import type { JobParams, JobResults } from '../../../shared/contract.ts';
import { importClip } from '../../effects/clip-store.ts';
import { EffectsStore } from '../../effects/store.ts';
import type { JobRunner } from '../runtime.ts';

/** Copying hundreds of MB and hashing them is too slow for a request, so it runs here. */
export const runClipImport: JobRunner<JobParams['clip-import'], JobResults['clip-import']> = async (ctx) => {
  const { db, blobs } = ctx.open();
  return importClip(new EffectsStore(db, blobs), blobs, ctx.params, ctx.progress);
};
