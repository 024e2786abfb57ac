// The `teacher-sample` job: N seeded samples of a teacher written as a synthetic dataset, resumable batch by batch.
import type { JobParams, JobResults } from '../../../shared/contract.ts';
import { DatasetStore } from '../../datasets/store.ts';
import { sampleToDataset, type SampleCheckpoint } from '../../teachers/render.ts';
import { TeacherStore } from '../../teachers/store.ts';
import type { JobRunner } from '../runtime.ts';

function isCheckpoint(value: unknown): value is SampleCheckpoint {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return Number.isSafeInteger(c['datasetId']) && Number.isSafeInteger(c['done']) && (c['done'] as number) >= 0;
}

/** Checkpoints after every batch; a resumed job continues after the last finished batch. */
export const runTeacherSample: JobRunner<JobParams['teacher-sample'], JobResults['teacher-sample']> = async (ctx) => {
  const { db, blobs } = ctx.open();
  const info = new TeacherStore(db, blobs).get(ctx.params.teacherId);
  return sampleToDataset(blobs, new DatasetStore(db, blobs), info, ctx.params, {
    signal: ctx.signal,
    progress: ctx.progress,
    saveCheckpoint: ctx.saveCheckpoint,
    resumeFrom: isCheckpoint(ctx.resumeFrom) ? ctx.resumeFrom : null,
  });
};
