// The `effects-pairs` job: N (original, edited) pairs of a prompt's edit written as a new pairs dataset, resumable batch by batch.
import type { JobParams, JobResults } from '../../../shared/contract.ts';
import { DatasetStore } from '../../datasets/store.ts';
import { generatePairs, type PairsCheckpoint } from '../../effects/edits.ts';
import { EffectsStore } from '../../effects/store.ts';
import { TeacherStore } from '../../teachers/store.ts';
import type { JobRunner } from '../runtime.ts';

function isCheckpoint(value: unknown): value is PairsCheckpoint {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return Number.isSafeInteger(c['datasetId']) && Number.isSafeInteger(c['done']) && (c['done'] as number) >= 0;
}

/** Checkpoints after every batch; a resumed job continues after the last finished batch. */
export const runEffectsPairs: JobRunner<JobParams['effects-pairs'], JobResults['effects-pairs']> = async (ctx) => {
  const { db, blobs } = ctx.open();
  const teacher = new TeacherStore(db, blobs).get(ctx.params.teacherId);
  return generatePairs(blobs, new EffectsStore(db, blobs), new DatasetStore(db, blobs), teacher, ctx.params, {
    signal: ctx.signal,
    progress: ctx.progress,
    saveCheckpoint: ctx.saveCheckpoint,
    resumeFrom: isCheckpoint(ctx.resumeFrom) ? ctx.resumeFrom : null,
  });
};
