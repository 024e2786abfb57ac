// Runs jobs in worker threads (one per running job, bounded concurrency), persists their state and pushes throttled changes.
import type { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';
import type { JobProgress } from '../../shared/contract.ts';
import { isFromWorkerMessage, type FromWorkerMessage, type ToWorkerMessage, type WorkerEnv } from '../worker/protocol.ts';
import { defaultJobWorkerUrl, spawnJobWorker } from './job-worker-entry.ts';
import { JobStore, type FinalJobStatus, type JobRecord } from './job-store.ts';

/** Options of {@link JobManager}. */
export interface JobManagerOptions {
  db: Database;
  /** Worker entry built on `runJobWorker`; the product worker when absent. */
  workerUrl?: URL | undefined;
  /** The data folder workers open (database and blob store) through `JobContext.open`; null when jobs need none. */
  dataDir?: string | null | undefined;
  /** Path of the Electron-ABI `better_sqlite3.node` workers load; Node's build when absent. */
  sqliteNativeBinding?: string | null | undefined;
  /** Jobs running at once; 1 by default because ML jobs already use every core. */
  concurrency?: number;
  /**
   * How long a cancelled job's worker may take to stop before it is terminated; 60 s by default, because a worker
   * terminated inside onnxruntime's session.run aborts the whole studio, and one run of a large teacher on a CPU can
   * take tens of seconds. Only a worker that truly hangs should ever meet the timer.
   */
  cancelGraceMs?: number;
  /**
   * Called once with the checkpoint a cancelled job leaves behind (nothing can resume a cancelled job), before it is
   * forgotten: what the checkpoint holds, such as blob references, can be released.
   */
  onCheckpointDiscarded?: (kind: string, checkpoint: unknown) => void;
  /** Minimum spacing of progress events per job; status changes are always delivered at once. */
  progressIntervalMs?: number;
  log?: (line: string) => void;
}

/** How long a settled job's worker may take to end on its own before it is terminated. */
const SETTLED_EXIT_GRACE_MS = 5000;
/** How long closing the manager (the studio quitting) waits for each running job's worker to stop. */
const CLOSE_GRACE_MS = 5000;

/** No job has this id. */
export class JobNotFoundError extends Error {
  override readonly name = 'JobNotFoundError';
  constructor(readonly jobId: string) {
    super(`No job with id ${jobId}`);
  }
}

/** The job is not in a state that allows the operation (e.g. resuming a job that succeeded). */
export class JobStateError extends Error {
  override readonly name = 'JobStateError';
}

interface RunningJob {
  readonly id: string;
  readonly worker: Worker;
  progress: JobProgress;
  hasUnsavedProgress: boolean;
  isCancelRequested: boolean;
  /** The stop was asked for by `pause`: the job ends interrupted (resumable), not cancelled. */
  isPauseRequested: boolean;
  isSettled: boolean;
  crashReason: string | null;
  graceTimer: NodeJS.Timeout | null;
}

/**
 * Queues, runs, cancels and resumes jobs. Each running job has its own worker thread, so a job that blocks
 * (ONNX Runtime's `session.run`) or crashes never takes the studio with it.
 */
export class JobManager {
  readonly #store: JobStore;
  readonly #workerUrl: URL;
  readonly #workerEnv: WorkerEnv;
  readonly #concurrency: number;
  readonly #cancelGraceMs: number;
  readonly #onCheckpointDiscarded: ((kind: string, checkpoint: unknown) => void) | null;
  readonly #closeGraceMs: number;
  readonly #progressIntervalMs: number;
  readonly #log: (line: string) => void;
  readonly #queue: string[] = [];
  readonly #running = new Map<string, RunningJob>();
  readonly #listeners = new Set<(job: JobRecord) => void>();
  readonly #lastEmitAt = new Map<string, number>();
  readonly #emitTimers = new Map<string, NodeJS.Timeout>();
  #isClosed = false;

  /** Marks jobs a previous run left running or queued as `interrupted`. */
  constructor(opts: JobManagerOptions) {
    this.#store = new JobStore(opts.db);
    this.#workerUrl = opts.workerUrl ?? defaultJobWorkerUrl();
    this.#workerEnv = { dataDir: opts.dataDir ?? null, sqliteNativeBinding: opts.sqliteNativeBinding ?? null };
    this.#concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
    this.#cancelGraceMs = opts.cancelGraceMs ?? 60_000;
    this.#onCheckpointDiscarded = opts.onCheckpointDiscarded ?? null;
    this.#closeGraceMs = Math.min(this.#cancelGraceMs, CLOSE_GRACE_MS);
    this.#progressIntervalMs = opts.progressIntervalMs ?? 100;
    this.#log = opts.log ?? ((line) => console.error(line));
    const interrupted = this.#store.interruptUnfinished();
    if (interrupted > 0) this.#log(`jobs: ${interrupted} job(s) were interrupted when the studio last stopped`);
  }

  /** Subscribes to job changes (creation, status, throttled progress); returns the unsubscribe function. */
  onChange(listener: (job: JobRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** One job (with the live progress of a running one), or null. */
  get(id: string): JobRecord | null {
    return this.#withLiveProgress(this.#store.get(id));
  }

  /** All jobs, newest first. */
  list(): JobRecord[] {
    return this.#store.list().map((job) => this.#withLiveProgress(job)!);
  }

  /** The most recent successful job of a kind, or null. */
  latestSucceeded(kind: string): JobRecord | null {
    return this.#store.latestSucceeded(kind);
  }

  /** Queues a job; it starts as soon as a slot is free. The kind must have a runner in the worker. */
  start(kind: string, params: unknown): JobRecord {
    this.#assertOpen();
    const job = this.#store.insert(kind, params);
    this.#queue.push(job.id);
    this.#changed(job.id, true);
    this.#pump();
    return this.get(job.id)!;
  }

  /**
   * Cancels a job: a queued or interrupted one at once; a running one is asked to stop (its AbortSignal fires)
   * and terminated if it has not stopped after the grace period. Answers the job's state right now.
   */
  cancel(id: string): JobRecord {
    this.#assertOpen();
    const job = this.#store.get(id);
    if (!job) throw new JobNotFoundError(id);
    const run = this.#running.get(id);
    // A settled run may still be in the map until its worker exits; it is finished, so it falls through.
    if (run && !run.isSettled) {
      run.isPauseRequested = false;
      this.#requestStop(run);
      return this.get(id)!;
    }
    if (!this.#store.cancelWaiting(id)) throw new JobStateError(`Job ${id} is ${job.status}; only queued, running or interrupted jobs can be cancelled`);
    this.#discardCheckpoint(id);
    this.#removeFromQueue(id);
    this.#changed(id, true);
    return this.get(id)!;
  }

  /**
   * Pauses a job: a running one is asked to stop as by `cancel` but ends `interrupted`, so `resume` continues it from
   * its last checkpoint; a queued one becomes interrupted at once. Answers the job's state right now.
   */
  pause(id: string): JobRecord {
    this.#assertOpen();
    const job = this.#store.get(id);
    if (!job) throw new JobNotFoundError(id);
    const run = this.#running.get(id);
    if (run && !run.isSettled) {
      if (!run.isCancelRequested) run.isPauseRequested = true;
      this.#requestStop(run);
      return this.get(id)!;
    }
    if (!this.#store.interruptQueued(id, 'paused before it started')) {
      throw new JobStateError(`Job ${id} is ${job.status}; only queued or running jobs can be paused`);
    }
    this.#removeFromQueue(id);
    this.#changed(id, true);
    return this.get(id)!;
  }

  // Asks a running job's worker to stop (its AbortSignal fires) and terminates it after the grace period.
  #requestStop(run: RunningJob): void {
    if (run.isCancelRequested) return;
    run.isCancelRequested = true;
    this.#post(run, { type: 'cancel' });
    run.graceTimer = setTimeout(() => {
      this.#log(`jobs: job ${run.id} did not stop within ${this.#cancelGraceMs} ms of being asked to; terminating its worker`);
      void run.worker.terminate();
    }, this.#cancelGraceMs);
  }

  /** Re-queues an interrupted job; its runner receives the last checkpoint it saved. */
  resume(id: string): JobRecord {
    this.#assertOpen();
    const job = this.#store.get(id);
    if (!job) throw new JobNotFoundError(id);
    if (!this.#store.requeue(id)) throw new JobStateError(`Job ${id} is ${job.status}; only interrupted jobs can be resumed`);
    this.#queue.push(id);
    this.#changed(id, true);
    this.#pump();
    return this.get(id)!;
  }

  /**
   * Stops every worker without finishing its job: running and queued jobs stay so in the database and are
   * marked interrupted by the next manager on this database.
   */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    for (const timer of this.#emitTimers.values()) clearTimeout(timer);
    this.#emitTimers.clear();
    this.#queue.length = 0;
    const runs = [...this.#running.values()];
    for (const run of runs) {
      if (run.graceTimer) clearTimeout(run.graceTimer);
      if (run.hasUnsavedProgress) this.#store.saveProgress(run.id, run.progress);
    }
    await Promise.all(runs.map((run) => this.#stopForClose(run)));
    this.#running.clear();
    this.#listeners.clear();
  }

  // Terminating a worker inside a native call (onnxruntime's session.run) aborts the whole process, so each worker is
  // asked to stop first, as by a cancel, and terminated only if it is still there after the grace period. Its job's
  // row stays running (messages are no longer read), so the next manager marks it interrupted.
  async #stopForClose(run: RunningJob): Promise<void> {
    if (run.worker.threadId === -1) return;
    const exited = new Promise<void>((resolve) => run.worker.once('exit', () => resolve()));
    if (!run.isSettled) this.#post(run, { type: 'cancel' });
    const timer = setTimeout(() => void run.worker.terminate(), run.isSettled ? 0 : this.#closeGraceMs);
    await exited;
    clearTimeout(timer);
  }

  #pump(): void {
    while (!this.#isClosed && this.#running.size < this.#concurrency && this.#queue.length > 0) {
      const id = this.#queue.shift()!;
      const job = this.#store.get(id);
      if (job?.status === 'queued') this.#launch(job);
    }
  }

  #launch(job: JobRecord): void {
    let worker: Worker;
    try {
      worker = spawnJobWorker(this.#workerUrl, `job ${job.kind} ${job.id}`);
    } catch (error) {
      this.#store.finish(job.id, 'failed', { progress: job.progress, error: `could not start a worker: ${messageOf(error)}` });
      this.#changed(job.id, true);
      return;
    }
    const run: RunningJob = {
      id: job.id,
      worker,
      progress: job.progress,
      hasUnsavedProgress: false,
      isCancelRequested: false,
      isPauseRequested: false,
      isSettled: false,
      crashReason: null,
      graceTimer: null,
    };
    this.#running.set(job.id, run);
    this.#store.markRunning(job.id);
    this.#changed(job.id, true);
    worker.on('message', (message: unknown) => this.#guard(() => this.#onMessage(run, message)));
    worker.on('error', (error) => {
      run.crashReason ??= messageOf(error);
    });
    worker.on('messageerror', (error) => {
      run.crashReason ??= `a message from the worker could not be read: ${messageOf(error)}`;
    });
    worker.on('exit', (code) => this.#guard(() => this.#onExit(run, code)));
    this.#post(run, { type: 'start', jobId: job.id, kind: job.kind, params: job.params, checkpoint: job.checkpoint, env: this.#workerEnv });
  }

  #onMessage(run: RunningJob, message: unknown): void {
    if (this.#isClosed || run.isSettled) return;
    if (!isFromWorkerMessage(message)) {
      this.#settle(run, 'failed', { error: 'the job worker sent a malformed message' });
      return;
    }
    const m: FromWorkerMessage = message;
    switch (m.type) {
      case 'progress':
        run.progress = { step: m.step, total: m.total, message: m.message };
        run.hasUnsavedProgress = true;
        this.#changed(run.id, false);
        return;
      case 'checkpoint':
        this.#store.saveCheckpoint(run.id, m.state);
        return;
      case 'succeeded':
        this.#settle(run, 'succeeded', { result: m.result });
        return;
      case 'failed':
        if (m.stack) this.#log(`jobs: job ${run.id} failed: ${m.stack}`);
        this.#settle(run, 'failed', { error: m.error });
        return;
      case 'cancelled':
        this.#settle(run, 'cancelled', {});
        return;
    }
  }

  #onExit(run: RunningJob, code: number): void {
    if (this.#isClosed) return;
    if (!run.isSettled) {
      if (run.isCancelRequested) {
        this.#settle(run, 'cancelled', {});
      } else {
        const reason = run.crashReason
          ? `the job's worker crashed: ${run.crashReason}`
          : `the job's worker exited unexpectedly (exit code ${code})`;
        this.#log(`jobs: job ${run.id} failed: ${reason}`);
        this.#settle(run, 'failed', { error: reason });
      }
    }
    this.#running.delete(run.id);
    this.#pump();
  }

  #settle(run: RunningJob, status: FinalJobStatus, outcome: { error?: string; result?: unknown }): void {
    run.isSettled = true;
    if (run.graceTimer) clearTimeout(run.graceTimer);
    try {
      if (status === 'cancelled' && run.isPauseRequested) this.#store.interrupt(run.id, run.progress, 'paused by the user');
      else this.#store.finish(run.id, status, { progress: run.progress, ...outcome });
    } catch (error) {
      // A result that is not JSON (a BigInt, a cycle) must not leave the job running forever.
      this.#store.finish(run.id, 'failed', { progress: run.progress, error: `the job's result could not be stored: ${messageOf(error)}` });
    }
    run.hasUnsavedProgress = false;
    if (status === 'cancelled' && !run.isPauseRequested) this.#discardCheckpoint(run.id);
    this.#changed(run.id, true);
    // The worker's exit frees the slot (see #onExit), so the next job never overlaps a worker still shutting down.
    // It closes its port after its last message and ends on its own; terminating it at once could land inside an
    // onnxruntime call still finishing (which aborts the studio), so only a worker that lingers is terminated.
    const timer = setTimeout(() => void run.worker.terminate(), SETTLED_EXIT_GRACE_MS).unref();
    run.worker.once('exit', () => clearTimeout(timer));
  }

  // A cancelled job is never resumed: its checkpoint is forgotten, and what it held is handed over once.
  #discardCheckpoint(id: string): void {
    const job = this.#store.get(id);
    if (job?.status !== 'cancelled' || job.checkpoint === null || !this.#store.dropCheckpoint(id)) return;
    try {
      this.#onCheckpointDiscarded?.(job.kind, job.checkpoint);
    } catch (error) {
      this.#log(`jobs: releasing what cancelled job ${id} held failed: ${messageOf(error)}`);
    }
  }

  // Emits at most one change per job per interval; `force` (status changes) flushes now, so the final state always arrives.
  #changed(id: string, force: boolean): void {
    const now = Date.now();
    const since = now - (this.#lastEmitAt.get(id) ?? 0);
    const timer = this.#emitTimers.get(id);
    if (force || since >= this.#progressIntervalMs) {
      if (timer) {
        clearTimeout(timer);
        this.#emitTimers.delete(id);
      }
      this.#emit(id);
    } else if (!timer) {
      this.#emitTimers.set(
        id,
        setTimeout(() => {
          this.#emitTimers.delete(id);
          this.#guard(() => this.#emit(id));
        }, this.#progressIntervalMs - since),
      );
    }
  }

  #emit(id: string): void {
    if (this.#isClosed) return;
    const run = this.#running.get(id);
    if (run?.hasUnsavedProgress && !run.isSettled) {
      this.#store.saveProgress(id, run.progress);
      run.hasUnsavedProgress = false;
    }
    const job = this.#store.get(id);
    this.#lastEmitAt.set(id, Date.now());
    if (job?.finishedAt) this.#lastEmitAt.delete(id);
    if (!job) return;
    for (const listener of this.#listeners) {
      try {
        listener(job);
      } catch (error) {
        this.#log(`jobs: a change listener threw: ${messageOf(error)}`);
      }
    }
  }

  #withLiveProgress(job: JobRecord | null): JobRecord | null {
    const run = job && this.#running.get(job.id);
    return run && job.status === 'running' ? { ...job, progress: run.progress } : job;
  }

  #post(run: RunningJob, message: ToWorkerMessage): void {
    run.worker.postMessage(message);
  }

  #removeFromQueue(id: string): void {
    const i = this.#queue.indexOf(id);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  #assertOpen(): void {
    if (this.#isClosed) throw new Error('The job manager is closed');
  }

  // Worker events arrive from the event loop: an exception here would crash the studio, so it is logged instead.
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#log(`jobs: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
