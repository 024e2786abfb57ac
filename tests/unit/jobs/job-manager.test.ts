// Job manager: jobs run in worker threads, progress is throttled but the final state always arrives, cancel, crashes, resume.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../../src/main/core/db/database.ts';
import { JobManager, JobNotFoundError, JobStateError, type JobManagerOptions } from '../../../src/main/jobs/job-manager.ts';
import type { JobRecord } from '../../../src/main/jobs/job-store.ts';
import { makeTempDir } from '../core/temp-dir.ts';
import { TEST_WORKER_URL, isFinal, waitForJob } from './helpers.ts';

let temp: ReturnType<typeof makeTempDir>;
let dbFile: string;
const open: { db: Database; manager: JobManager }[] = [];
const logs: string[] = [];

function openManager(opts: Partial<JobManagerOptions> = {}): JobManager {
  const db = openDatabase({ file: dbFile });
  const manager = new JobManager({ db, workerUrl: TEST_WORKER_URL, log: (line) => logs.push(line), ...opts });
  open.push({ db, manager });
  return manager;
}

beforeEach(() => {
  temp = makeTempDir();
  dbFile = join(temp.dir, 'studio.db');
  logs.length = 0;
});

afterEach(async () => {
  for (const { db, manager } of open.splice(0)) {
    await manager.close();
    db.close();
  }
  temp.cleanup();
});

describe('JobManager', () => {
  it('runs a job in a worker and stores its result', async () => {
    const manager = openManager();
    const job = manager.start('count', { steps: 3, delayMs: 1 });
    expect(['queued', 'running']).toContain(job.status);
    const done = await waitForJob(manager, job.id, isFinal);
    expect(done.status).toBe('succeeded');
    expect(done.result).toEqual({ startedFrom: 0, done: 3 });
    expect(done.progress).toEqual({ step: 3, total: 3, message: 'step 3' });
    expect(done.startedAt).not.toBeNull();
    expect(done.finishedAt).not.toBeNull();
    expect(manager.list().map((j) => j.id)).toEqual([job.id]);
  });

  it('throttles a burst of progress but always delivers the final state', async () => {
    const manager = openManager();
    const events: JobRecord[] = [];
    manager.onChange((job) => events.push(job));
    const job = manager.start('burst', { steps: 5000 });
    await waitForJob(manager, job.id, isFinal);
    // 5000 progress messages in well under a second: a handful of events, not thousands.
    expect(events.length).toBeLessThan(50);
    const last = events.at(-1)!;
    expect(last.status).toBe('succeeded');
    expect(last.progress.step).toBe(5000);
    expect(manager.get(job.id)!.progress.step).toBe(5000);
  });

  it('runs one job at a time by default, in the order they were queued', async () => {
    const manager = openManager();
    const a = manager.start('count', { steps: 2, delayMs: 5 });
    const b = manager.start('count', { steps: 1, delayMs: 1 });
    expect(manager.get(b.id)!.status).toBe('queued');
    const bRunning = await waitForJob(manager, b.id, (j) => j.status === 'running');
    expect(manager.get(a.id)!.status).toBe('succeeded');
    expect(bRunning.startedAt! >= manager.get(a.id)!.finishedAt!).toBe(true);
    expect((await waitForJob(manager, b.id, isFinal)).status).toBe('succeeded');
  });

  it('cancels a running job through its AbortSignal', async () => {
    const manager = openManager();
    const job = manager.start('count', { steps: 10_000, delayMs: 20 });
    await waitForJob(manager, job.id, (j) => j.progress.step >= 1);
    manager.cancel(job.id);
    const done = await waitForJob(manager, job.id, isFinal);
    expect(done.status).toBe('cancelled');
    expect(done.progress.step).toBeLessThan(10_000);
    expect(logs.join('\n')).not.toMatch(/terminating/);
  });

  it('cancels a queued job without ever starting it', async () => {
    const manager = openManager();
    const a = manager.start('count', { steps: 3, delayMs: 10 });
    const b = manager.start('count', { steps: 1, delayMs: 1 });
    expect(manager.cancel(b.id).status).toBe('cancelled');
    await waitForJob(manager, a.id, isFinal);
    expect(manager.get(b.id)).toMatchObject({ status: 'cancelled', startedAt: null });
    expect(() => manager.cancel(b.id)).toThrow(JobStateError);
    expect(() => manager.cancel('no-such-job')).toThrow(JobNotFoundError);
  });

  it('terminates a worker that blocks its thread and never sees the cancel, and then runs the next job', async () => {
    const manager = openManager({ cancelGraceMs: 200 });
    const job = manager.start('block', { ms: 60_000 });
    const next = manager.start('count', { steps: 1, delayMs: 1 });
    await waitForJob(manager, job.id, (j) => j.status === 'running' && j.progress.message === 'blocking');
    manager.cancel(job.id);
    expect((await waitForJob(manager, job.id, isFinal)).status).toBe('cancelled');
    expect(logs.join('\n')).toMatch(/did not stop within 200 ms/);
    expect((await waitForJob(manager, next.id, isFinal)).status).toBe('succeeded');
  });

  it('terminates a worker that sees the cancel but does not stop', async () => {
    const manager = openManager({ cancelGraceMs: 200 });
    const job = manager.start('ignore-cancel', {});
    await waitForJob(manager, job.id, (j) => j.progress.message === 'ignoring cancel');
    manager.cancel(job.id);
    expect((await waitForJob(manager, job.id, isFinal)).status).toBe('cancelled');
    expect(logs.join('\n')).toMatch(/terminating its worker/);
  });

  it.each([
    ['exit', { code: 7 }, /exited unexpectedly \(exit code 7\)/],
    ['throw-uncaught', {}, /crashed: boom from a timer/],
    ['fail', {}, /^the runner gave up$/],
    ['no-such-kind', {}, /no runner for job kind "no-such-kind"/],
  ])('fails a job whose worker dies (%s) with the reason, and the next job still runs', async (kind, params, reason) => {
    const manager = openManager();
    const bad = manager.start(kind, params);
    const next = manager.start('count', { steps: 2, delayMs: 1 });
    const failed = await waitForJob(manager, bad.id, isFinal);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(reason);
    expect((await waitForJob(manager, next.id, isFinal)).status).toBe('succeeded');
  });

  it('fails a job whose worker entry cannot be loaded', async () => {
    const manager = openManager({ workerUrl: new URL('./fixtures/missing-worker.ts', TEST_WORKER_URL) });
    const job = manager.start('count', { steps: 1, delayMs: 1 });
    const failed = await waitForJob(manager, job.id, isFinal);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/crashed: .*missing-worker/);
  });

  it('marks jobs left running by a killed studio as interrupted, and resumes them from their checkpoint', async () => {
    const first = openManager();
    const job = first.start('count', { steps: 10_000, delayMs: 10 });
    const queued = first.start('count', { steps: 1, delayMs: 1 });
    await waitForJob(first, job.id, (j) => j.progress.step >= 5);
    // Closing without finishing leaves the rows as a kill would: running and queued.
    await first.close();

    const second = openManager();
    const interrupted = second.get(job.id)!;
    expect(interrupted.status).toBe('interrupted');
    expect(interrupted.error).toBe('the studio stopped while this job ran');
    expect(second.get(queued.id)).toMatchObject({ status: 'interrupted', error: 'the studio stopped before this job started' });
    const saved = (interrupted.checkpoint as { done: number }).done;
    expect(saved).toBeGreaterThanOrEqual(5);

    expect(second.resume(job.id).status).toMatch(/queued|running/);
    const resumed = await waitForJob(second, job.id, (j) => j.status === 'running' && j.progress.step > saved);
    expect(resumed.error).toBeNull();
    second.cancel(job.id);
    expect((await waitForJob(second, job.id, isFinal)).status).toBe('cancelled');

    expect(() => second.resume(job.id)).toThrow(JobStateError);
    expect(second.cancel(queued.id).status).toBe('cancelled');
  });

  it('finishes a resumed job with a result that shows where it continued from', async () => {
    const first = openManager();
    const job = first.start('count', { steps: 40, delayMs: 15 });
    await waitForJob(first, job.id, (j) => j.progress.step >= 2);
    await first.close();
    const second = openManager();
    const saved = (second.get(job.id)!.checkpoint as { done: number }).done;
    second.resume(job.id);
    const done = await waitForJob(second, job.id, isFinal);
    expect(done.status).toBe('succeeded');
    expect(done.result).toEqual({ startedFrom: saved, done: 40 });
  });

  it('pauses a running job as interrupted (resumable from its checkpoint) and a queued one before it starts', async () => {
    const manager = openManager();
    const job = manager.start('count', { steps: 10_000, delayMs: 10 });
    const queued = manager.start('count', { steps: 1, delayMs: 1 });
    await waitForJob(manager, job.id, (j) => j.progress.step >= 3);
    expect(manager.pause(queued.id)).toMatchObject({ status: 'interrupted', error: 'paused before it started' });
    manager.pause(job.id);
    const paused = await waitForJob(manager, job.id, (j) => j.status === 'interrupted');
    expect(paused.error).toBe('paused by the user');
    expect(paused.finishedAt).toBeNull();
    const saved = (paused.checkpoint as { done: number }).done;
    expect(saved).toBeGreaterThanOrEqual(3);
    expect(() => manager.pause(job.id)).toThrow(JobStateError);

    manager.resume(job.id);
    const resumed = await waitForJob(manager, job.id, (j) => j.status === 'running' && j.progress.step > saved);
    expect(resumed.progress.step).toBe(saved + 1);
    manager.cancel(job.id);
    expect((await waitForJob(manager, job.id, isFinal)).status).toBe('cancelled');
    expect(manager.cancel(queued.id).status).toBe('cancelled');
  });

  it('hands over the checkpoint of a cancelled job once (running or paused), never that of a paused one', async () => {
    const discarded: { kind: string; checkpoint: unknown }[] = [];
    const manager = openManager({ onCheckpointDiscarded: (kind, checkpoint) => discarded.push({ kind, checkpoint }) });
    const running = manager.start('count', { steps: 10_000, delayMs: 10 });
    await waitForJob(manager, running.id, (j) => j.progress.step >= 2);
    manager.pause(running.id);
    const paused = await waitForJob(manager, running.id, (j) => j.status === 'interrupted');
    // Paused: the checkpoint is kept for the resume.
    expect(discarded).toEqual([]);
    expect(paused.checkpoint).not.toBeNull();

    // Cancelling the paused job hands its checkpoint over and forgets it.
    expect(manager.cancel(running.id).status).toBe('cancelled');
    expect(discarded).toEqual([{ kind: 'count', checkpoint: paused.checkpoint }]);
    expect(manager.get(running.id)!.checkpoint).toBeNull();

    // A running job cancelled mid-way: its last checkpoint, exactly once.
    const other = manager.start('count', { steps: 10_000, delayMs: 10 });
    await waitForJob(manager, other.id, (j) => j.progress.step >= 2);
    manager.cancel(other.id);
    await waitForJob(manager, other.id, isFinal);
    expect(discarded).toHaveLength(2);
    expect(discarded[1]).toMatchObject({ kind: 'count', checkpoint: { done: expect.any(Number) } });
    expect(manager.get(other.id)!.checkpoint).toBeNull();
  });
});
