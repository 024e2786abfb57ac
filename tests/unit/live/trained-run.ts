// Test helper: a real training run in a data folder — a small student trained a few steps towards inverted colours, checkpointed as the trainer does.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from '../../../src/main/core/blob-store.ts';
import { dataDirPaths } from '../../../src/main/core/data-dir.ts';
import { openDatabase, type Database } from '../../../src/main/core/db/database.ts';
import { DatasetStore } from '../../../src/main/datasets/store.ts';
import { Trainer } from '../../../src/main/engine/train/index.ts';
import { STUDENT_INPUT } from '../../../src/main/student/model.ts';
import { RunStore } from '../../../src/main/student/runs.ts';
import { compileStudentProgram, TARGET_INPUT } from '../../../src/main/student/train.ts';
import { DEFAULT_TRAIN_PARAMS } from '../../../src/shared/student/config.ts';
import type { StudentConfig, StudentTrainParams } from '../../../src/shared/student/types.ts';

/** What {@link makeTrainedRun} stored. */
export interface TrainedRun {
  runId: number;
  jobId: string;
  checkpointStep: number;
  checkpointSha: string;
  params: StudentTrainParams;
}

/**
 * Trains `student` for `steps` Adam steps (lr 0.05) on random frames whose target is the inverted frame, so the
 * residual is far from zero, and stores the checkpoint in the data folder's blob store as a run's checkpoint (the
 * way the `student-train` job does). Call it before a studio opens the folder.
 */
export async function makeTrainedRun(dataDir: string, student: StudentConfig, steps = 6, jobId = 'live-test-run'): Promise<TrainedRun> {
  return withStores(dataDir, async (db, blobs, runs) => {
    const dataset = new DatasetStore(db, blobs).createDataset({ name: `pairs for ${jobId}`, kind: 'pairs' });
    const params: StudentTrainParams = { ...DEFAULT_TRAIN_PARAMS, datasetId: dataset.id, student, batch: 2, steps, lr: 0.05, multiScaleWeight: 0 };
    const run = runs.runForJob(jobId, params);
    const stored = await trainAndStore(blobs, runs, run.id, params, steps, 12345);
    runs.setStatus(run.id, 'succeeded');
    return { runId: run.id, jobId, ...stored, params };
  });
}

/**
 * Writes a newer checkpoint (more steps, other random frames) to an existing run and marks it running, through
 * its own database connection as a training worker does while the studio is open.
 */
export async function addTrainedCheckpoint(dataDir: string, run: TrainedRun, steps: number): Promise<{ checkpointStep: number; checkpointSha: string }> {
  return withStores(dataDir, async (_db, blobs, runs) => {
    runs.setStatus(run.runId, 'running');
    return trainAndStore(blobs, runs, run.runId, run.params, steps, 777);
  });
}

async function withStores<T>(dataDir: string, body: (db: Database, blobs: BlobStore, runs: RunStore) => Promise<T>): Promise<T> {
  const paths = dataDirPaths(dataDir);
  const db = openDatabase({ file: paths.database });
  try {
    return await body(db, new BlobStore(db, paths.blobs), new RunStore(db));
  } finally {
    db.close();
  }
}

async function trainAndStore(blobs: BlobStore, runs: RunStore, runId: number, params: StudentTrainParams, steps: number, seed: number): Promise<{ checkpointStep: number; checkpointSha: string }> {
  const work = await mkdtemp(join(tmpdir(), 'studio-live-run-'));
  const trainer = await Trainer.create(compileStudentProgram(params));
  try {
    const { size } = params.student;
    const plane = 3 * size * size;
    let state = seed;
    const random = (): number => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let s = 0; s < steps; s++) {
      const input = Float32Array.from({ length: params.batch * plane }, random);
      await trainer.step({ [STUDENT_INPUT]: input, [TARGET_INPUT]: input.map((v) => 1 - v) }, params.lr);
    }
    const file = join(work, 'checkpoint.safetensors');
    await trainer.saveCheckpoint(file, { run: runId, params });
    const blob = await blobs.putFile(file, 'student-checkpoint');
    runs.addCheckpoint(runId, trainer.stepsDone, blob.sha256, blob.size, (sha) => blobs.release(sha));
    return { checkpointStep: trainer.stepsDone, checkpointSha: blob.sha256 };
  } finally {
    await trainer.release();
    await rm(work, { recursive: true, force: true });
  }
}
