// The `effects-relevance` job: a teacher's per-channel CLIP directions under one CLIP model, measured once and cached.
import type { JobParams, JobResults } from '../../../shared/contract.ts';
import { computeRelevanceTable, type RelevanceCheckpoint } from '../../effects/edits.ts';
import { EffectsStore } from '../../effects/store.ts';
import { TeacherStore } from '../../teachers/store.ts';
import type { JobRunner } from '../runtime.ts';

const SHA = /^[0-9a-f]{64}$/;

function isCheckpoint(value: unknown): value is RelevanceCheckpoint {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  const partial = c['partialSha'];
  return typeof c['statsSha'] === 'string' && SHA.test(c['statsSha']) && (partial === null || (typeof partial === 'string' && SHA.test(partial))) && Number.isSafeInteger(c['done']) && (c['done'] as number) >= 0;
}

/** Checkpoints after the statistics and every 30 s of directions; a resumed job continues from there. */
export const runEffectsRelevance: JobRunner<JobParams['effects-relevance'], JobResults['effects-relevance']> = async (ctx) => {
  const { db, blobs } = ctx.open();
  const teacher = new TeacherStore(db, blobs).get(ctx.params.teacherId);
  return computeRelevanceTable(blobs, new EffectsStore(db, blobs), teacher, ctx.params, {
    signal: ctx.signal,
    progress: ctx.progress,
    saveCheckpoint: ctx.saveCheckpoint,
    resumeFrom: isCheckpoint(ctx.resumeFrom) ? ctx.resumeFrom : null,
  });
};
