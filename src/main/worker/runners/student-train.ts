// The `student-train` job: trains a student on a pairs dataset in this worker; a resumed job continues from its run's newest checkpoint.
import { join } from 'node:path';
import type { JobParams, JobResults } from '../../../shared/contract.ts';
import { trainStudent, type TrainResumeState } from '../../student/train.ts';
import type { JobRunner } from '../runtime.ts';

function isResumeState(value: unknown): value is TrainResumeState {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return Number.isSafeInteger(c['runId']) && Number.isSafeInteger(c['step']) && typeof c['sha'] === 'string';
}

/** Training owns this worker's thread (one ORT session); checkpoints go to the blob store through the data folder's tmp/. */
export const runStudentTrain: JobRunner<JobParams['student-train'], JobResults['student-train']> = async (ctx) => {
  const { db, blobs, dataDir } = ctx.open();
  return trainStudent(ctx.params, {
    db,
    blobs,
    tempDir: join(dataDir, 'tmp', 'student-train'),
    jobId: ctx.jobId,
    signal: ctx.signal,
    resumeFrom: isResumeState(ctx.resumeFrom) ? ctx.resumeFrom : null,
    progress: ctx.progress,
    saveCheckpoint: ctx.saveCheckpoint,
  });
};
