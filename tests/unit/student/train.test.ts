// Training a student: it learns a known effect, refuses bad input before any work, and survives pause, kill and resume.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorCode, JobInfo, Result } from '../../../src/shared/contract.ts';
import { DEFAULT_TRAIN_PARAMS } from '../../../src/shared/student/config.ts';
import type { CheckpointInfo, RunDetail, RunInfo, StudentDescription, StudentTrainParams, StudentTrainResult } from '../../../src/shared/student/types.ts';
import { Studio } from '../../../src/main/services/studio.ts';
import { imageMetrics } from '../../../src/main/student/metrics.ts';
import { RunStore } from '../../../src/main/student/runs.ts';
import { trainStudent } from '../../../src/main/student/train.ts';
import { makeTempDir } from '../core/temp-dir.ts';
import { makeWorkspace } from '../datasets/helpers.ts';
import { effectPair, insertPairsDataset, mismatchedPair } from './pairs-fixture.ts';

/** A 64×64 student and a schedule sized for a CPU test. */
function params(datasetId: number, overrides: Partial<StudentTrainParams> = {}): StudentTrainParams {
  return {
    ...DEFAULT_TRAIN_PARAMS,
    datasetId,
    student: { size: 64, width: 0.5, activation: 'relu6', residualScale: 1 },
    steps: 200,
    batch: 8,
    lr: 3e-3,
    warmupSteps: 20,
    validateEvery: 50,
    checkpointEvery: 100,
    earlyStopPatience: 0,
    validationItems: 8,
    augment: { flip: true, jitter: 0, occluders: 0 },
    ...overrides,
  };
}

async function planar(png: Buffer): Promise<Float32Array> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const plane = info.width * info.height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = data[p * 3 + c]! / 255;
  return out;
}

describe('student training on a known effect', () => {
  it('checks every pair itself before its first step, so a mismatch the request did not sample still stops it', async () => {
    const ws = makeWorkspace();
    try {
      const datasetId = await insertPairsDataset(ws.store, ws.blobs, { name: 'odd one', count: 3, size: 80, extra: [await mismatchedPair(80)] });
      const env = {
        db: ws.db,
        blobs: ws.blobs,
        tempDir: join(ws.dir, 'tmp'),
        jobId: 'mismatch-test',
        signal: new AbortController().signal,
        resumeFrom: null,
        progress: () => undefined,
        saveCheckpoint: () => undefined,
        threads: 1,
      };
      await expect(trainStudent(params(datasetId, { steps: 4 }), env)).rejects.toThrow(/input is 80×80 but target is 88×80/);
      expect(new RunStore(ws.db).list()).toEqual([]);
    } finally {
      ws.cleanup();
    }
  });

  it('reaches validation PSNR ≥ 30 dB at 64×64 where the untouched input is far below', async () => {
    const ws = makeWorkspace();
    try {
      const datasetId = await insertPairsDataset(ws.store, ws.blobs, { name: 'effect', count: 32, size: 80, validationFraction: 0.3 });
      // The identity (student output = input) on the same kind of frames: what the student has to improve on.
      const pair = await effectPair(64, 1);
      const frame = { n: 1, channels: 3, height: 64, width: 64 };
      const identity = imageMetrics({ ...frame, data: await planar(pair.input) }, { ...frame, data: await planar(pair.target) });
      expect(identity.psnr).toBeLessThan(25);

      const result = await trainStudent(params(datasetId, { steps: 120, validateEvery: 40, checkpointEvery: 60 }), {
        db: ws.db,
        blobs: ws.blobs,
        tempDir: join(ws.dir, 'tmp'),
        jobId: 'psnr-test',
        signal: new AbortController().signal,
        resumeFrom: null,
        progress: () => undefined,
        saveCheckpoint: () => undefined,
        threads: 2,
      });
      expect(result.steps).toBe(120);
      expect(result.best!.psnr).toBeGreaterThanOrEqual(30);
      const run = new RunStore(ws.db).get(result.runId);
      expect(run.status).toBe('succeeded');
      expect(run.metrics['validation/psnr']!.map((m) => m.step)).toEqual([40, 80, 120]);
      expect(run.metrics['validation/psnr']!.at(-1)!.value).toBeGreaterThanOrEqual(30);
      expect(run.checkpoints.map((c) => c.step)).toEqual([60, 120]);
      expect(run.checkpoints.at(-1)!.sha).toBe(result.checkpointSha);
      expect(run.previews.map((p) => p.step)).toEqual([40, 80, 120]);
      // A preview strip is input | target | student for each validation frame shown.
      const strip = await sharp(await ws.blobs.read(run.previews[0]!.sha)).metadata();
      expect([strip.width, strip.height]).toEqual([3 * 64, 4 * 64]);
    } finally {
      ws.cleanup();
    }
  }, 120_000);
});

const CLI = fileURLToPath(new URL('../../../bin/effects-studio.js', import.meta.url));

/** Runs `effects-studio train --resume JOB` and SIGKILLs it once it reports step `killAt`; answers the steps it reported. */
function resumeInChildAndKill(dataDir: string, jobId: string, killAt: number): Promise<number[]> {
  const child = spawn(process.execPath, [CLI, 'train', '--resume', jobId, '--data-dir', dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  const steps: number[] = [];
  const log: string[] = [];
  return new Promise((resolvePromise, reject) => {
    createInterface({ input: child.stderr }).on('line', (line) => {
      log.push(line);
      const m = /^\[(\d+)\/\d+\]/.exec(line);
      if (!m) return;
      steps.push(Number(m[1]));
      if (Number(m[1]) >= killAt && child.exitCode === null) child.kill('SIGKILL');
    });
    child.once('exit', (_, signal) => (signal === 'SIGKILL' ? resolvePromise(steps) : reject(new Error(`train --resume exited by itself:\n${log.join('\n')}`))));
  });
}

describe('student training through the studio', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let studio: Studio;
  const open = (): Promise<Studio> => Studio.open({ dataDir: temp.dir, host: 'browser', version: '0.0.0-test', log: () => undefined });

  beforeEach(async () => {
    temp = makeTempDir();
    studio = await open();
  });
  afterEach(async () => {
    await studio.close();
    temp.cleanup();
  });

  function value<T>(result: Result<unknown>): T {
    if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
    return result.value as T;
  }
  function expectError(result: Result<unknown>, code: ErrorCode, message: RegExp): void {
    expect(result.ok ? null : result.error.code).toBe(code);
    if (!result.ok) expect(result.error.message).toMatch(message);
  }
  /** Resolves with the first update of the job for which `until` holds. */
  function waitFor(id: string, until: (job: JobInfo) => boolean): Promise<JobInfo> {
    return new Promise((resolve) => {
      const off = studio.onEvent((_, job) => {
        if (job.id === id && until(job)) {
          off();
          resolve(job);
        }
      });
    });
  }
  const isFinal = (job: JobInfo): boolean => ['succeeded', 'failed', 'cancelled'].includes(job.status);

  it('refuses an empty dataset, mismatched pair sizes and out-of-range settings before queueing anything', async () => {
    const datasets = studio.datasets.store;
    const empty = datasets.createDataset({ name: 'empty', kind: 'pairs' });
    expectError(await studio.handle('runs:start', [params(empty.id)]), 'invalid-request', /"empty" has no items to train on/);

    const photos = datasets.createDataset({ name: 'faces', kind: 'photos' });
    expectError(await studio.handle('runs:start', [params(photos.id)]), 'invalid-request', /holds photos, not pairs/);

    const mismatched = await insertPairsDataset(datasets, studio.blobs, { name: 'mismatched', count: 3, size: 80, extra: [await mismatchedPair(80)] });
    expectError(await studio.handle('runs:start', [params(mismatched)]), 'invalid-request', /input is 80×80 but target is 88×80/);

    const small = await insertPairsDataset(datasets, studio.blobs, { name: 'small', count: 3, size: 48 });
    expectError(await studio.handle('runs:start', [params(small)]), 'invalid-request', /48×48 is smaller than the student's 64×64/);

    const good = await insertPairsDataset(datasets, studio.blobs, { name: 'good', count: 3, size: 80 });
    const base = params(good);
    expectError(await studio.handle('runs:start', [{ ...base, student: { ...base.student, size: 100 } }]), 'invalid-request', /params\[0\]\.student\.size/);
    expectError(await studio.handle('runs:start', [{ ...base, lr: 5 }]), 'invalid-request', /params\[0\]\.lr/);
    expectError(await studio.handle('runs:start', [{ ...base, steps: 0 }]), 'invalid-request', /params\[0\]\.steps/);
    expectError(await studio.handle('runs:start', [{ ...base, datasetId: 999 }]), 'not-found', /999/);

    expect(value<JobInfo[]>(await studio.handle('jobs:list', []))).toEqual([]);
    expect(value<RunInfo[]>(await studio.handle('runs:list', []))).toEqual([]);
  }, 60_000);

  it('estimates size and cost before training, with the discriminator when the adversarial term is on', async () => {
    const config = { size: 256, width: 1, activation: 'relu6', residualScale: 1 };
    const plain = { adversarial: null, perceptual: false };
    const d = value<StudentDescription>(await studio.handle('students:describe', [config, 8, plain]));
    expect(d.parameters).toBeGreaterThan(100_000);
    expect(d.macs).toBeGreaterThan(1e8);
    expect(d.trainingBytes).toBeGreaterThan(d.parameters * 4);
    expect(d).toMatchObject({ discriminatorBytes: 0, uncounted: [] });

    const adversarial = { weight: 0.05, discriminatorWidth: 64 };
    const withGan = value<StudentDescription>(await studio.handle('students:describe', [config, 8, { adversarial, perceptual: true }]));
    // A 64-wide PatchGAN at 256², batch 8: its first layer alone keeps 8 × 3 passes × 64 × 128² floats.
    expect(withGan.discriminatorBytes).toBeGreaterThan(8 * 3 * 64 * 128 * 128 * 4);
    expect(withGan.trainingBytes).toBe(d.trainingBytes + withGan.discriminatorBytes);
    expect(withGan.uncounted).toEqual(['the perceptual feature network']);
    const wider = value<StudentDescription>(await studio.handle('students:describe', [config, 8, { adversarial: { ...adversarial, discriminatorWidth: 128 }, perceptual: false }]));
    expect(wider.discriminatorBytes).toBeGreaterThan(withGan.discriminatorBytes);

    expectError(await studio.handle('students:describe', [{ ...config, width: 3 }, 8, plain]), 'invalid-request', /width/);
    expectError(await studio.handle('students:describe', [config, 8, { adversarial: { weight: 0.05, discriminatorWidth: 0 }, perceptual: false }]), 'invalid-request', /discriminatorWidth/);
  });

  it('pauses, survives a killed worker, resumes from the newest checkpoint and ends like an uninterrupted run', async () => {
    const datasetId = await insertPairsDataset(studio.datasets.store, studio.blobs, { name: 'effect', count: 12, size: 80 });
    const p = params(datasetId, { steps: 40, student: { size: 64, width: 0.25, activation: 'relu6', residualScale: 1 }, validateEvery: 10, checkpointEvery: 8 });

    // Reference: the same run without interruptions.
    const reference = value<JobInfo>(await studio.handle('runs:start', [p]));
    const refDone = await waitFor(reference.id, isFinal);
    expect(refDone.error).toBeNull();
    expect(refDone.status).toBe('succeeded');
    const refResult = refDone.result as StudentTrainResult;

    // Pause: the job stops resumable, keeping the weights of the step it had reached.
    const job = value<JobInfo>(await studio.handle('runs:start', [p]));
    await waitFor(job.id, (j) => j.progress.step >= 5);
    value(await studio.handle('jobs:pause', [job.id]));
    const paused = await waitFor(job.id, (j) => j.status === 'interrupted');
    expect(paused.error).toMatch(/paused/);
    const runs = value<RunInfo[]>(await studio.handle('runs:list', []));
    const runId = runs.find((r) => r.jobId === job.id)!.id;
    const pausedRun = value<RunDetail>(await studio.handle('runs:get', [runId]));
    expect(pausedRun.status).toBe('interrupted');
    const pausedAt = pausedRun.step;
    expect(value<CheckpointInfo[]>(await studio.handle('runs:checkpoints', [runId])).at(-1)!.step).toBe(pausedAt);

    // Resume from the command line in another process, and kill that process (SIGKILL) after the checkpoint at step 24.
    await studio.close();
    const steps = await resumeInChildAndKill(temp.dir, job.id, 26);
    expect(steps[0]).toBe(pausedAt + 1);

    studio = await open();
    const interrupted = value<JobInfo>(await studio.handle('jobs:get', [job.id]));
    expect(interrupted.status).toBe('interrupted');
    const killed = value<RunDetail>(await studio.handle('runs:get', [runId]));
    expect(killed.status).toBe('interrupted');
    const newest = killed.checkpoints.at(-1)!.step;
    expect(newest).toBeGreaterThanOrEqual(24);

    value(await studio.handle('jobs:resume', [job.id]));
    const firstAfterKill = await waitFor(job.id, (j) => j.status === 'running' && j.progress.step !== interrupted.progress.step);
    expect(firstAfterKill.progress.step).toBe(newest + 1);
    const done = await waitFor(job.id, isFinal);
    expect(done.status).toBe('succeeded');
    expect((done.result as StudentTrainResult).steps).toBe(40);

    const run = value<RunDetail>(await studio.handle('runs:get', [runId]));
    const ref = value<RunDetail>(await studio.handle('runs:get', [refResult.runId]));
    expect(run.status).toBe('succeeded');
    // Every step recorded exactly once, and the same losses as the uninterrupted run (same batches, restored Adam state).
    expect(run.metrics['train/loss']!.map((m) => m.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(run.metrics['validation/psnr']!.map((m) => m.step)).toEqual([10, 20, 30, 40]);
    const losses = run.metrics['train/loss']!.map((m) => m.value);
    const refLosses = ref.metrics['train/loss']!.map((m) => m.value);
    for (let i = 0; i < 40; i++) expect(losses[i]!, `step ${i + 1}`).toBeCloseTo(refLosses[i]!, 4);
    expect(run.metrics['validation/psnr']!.at(-1)!.value).toBeCloseTo(ref.metrics['validation/psnr']!.at(-1)!.value, 2);
  }, 180_000);
});
