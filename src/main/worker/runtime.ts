// Runs inside a job worker thread: receives `start`/`cancel`, calls the kind's runner, reports progress, checkpoints and the outcome.
import { isMainThread, parentPort } from 'node:worker_threads';
import { BlobStore } from '../core/blob-store.ts';
import { dataDirPaths } from '../core/data-dir.ts';
import { openDatabase, type Database } from '../core/db/database.ts';
import type { FromWorkerMessage, ToWorkerMessage, WorkerEnv } from './protocol.ts';

/** The studio's data as a job worker sees it: its own connection to the same database and blob store. */
export interface WorkerData {
  readonly db: Database;
  readonly blobs: BlobStore;
  readonly dataDir: string;
}

/** What a runner gets: its parameters, the checkpoint it saved before an interruption, cancellation, reporting. */
export interface JobContext<P = unknown, C = unknown> {
  readonly jobId: string;
  readonly params: P;
  /** The last state passed to {@link saveCheckpoint} before the studio stopped, or null on a fresh start. */
  readonly resumeFrom: C | null;
  /** Aborted when the user cancels the job; a runner that ignores it is terminated after a grace period. */
  readonly signal: AbortSignal;
  progress(step: number, total: number, message: string): void;
  /** Persists JSON state from which a resumed run continues. */
  saveCheckpoint(state: C): void;
  /** Opens (once) this worker's connection to the studio's database and blob store; closed when the job ends. */
  open(): WorkerData;
}

/** The code behind one job kind; its result must be JSON. */
export type JobRunner<P = unknown, R = unknown, C = unknown> = (ctx: JobContext<P, C>) => Promise<R>;

/** Turns the current worker thread into a job worker serving the given kinds; call once from a worker entry. */
export function runJobWorker(runners: Readonly<Record<string, JobRunner<never, unknown, never>>>): void {
  const port = parentPort;
  if (isMainThread || !port) throw new Error('runJobWorker must be called from a worker thread');
  const controller = new AbortController();
  let hasStarted = false;
  const post = (message: FromWorkerMessage): void => port.postMessage(message);

  port.on('message', (message: ToWorkerMessage) => {
    if (message.type === 'cancel') {
      controller.abort(new Error('cancelled'));
      return;
    }
    if (message.type !== 'start' || hasStarted) return;
    hasStarted = true;
    void run(message).finally(() => port.close());
  });

  async function run(start: Extract<ToWorkerMessage, { type: 'start' }>): Promise<void> {
    const runner = runners[start.kind] as JobRunner | undefined;
    if (!runner) {
      post({ type: 'failed', error: `this worker has no runner for job kind "${start.kind}"` });
      return;
    }
    let data: WorkerData | null = null;
    const ctx: JobContext = {
      open: () => (data ??= openWorkerData(start.env)),
      jobId: start.jobId,
      params: start.params,
      resumeFrom: start.checkpoint ?? null,
      signal: controller.signal,
      progress: (step, total, message) => post({ type: 'progress', step, total, message }),
      saveCheckpoint: (state) => post({ type: 'checkpoint', state }),
    };
    try {
      const result = await runner(ctx);
      post({ type: 'succeeded', result });
    } catch (error) {
      if (controller.signal.aborted) {
        post({ type: 'cancelled' });
        return;
      }
      const e = error instanceof Error ? error : new Error(String(error));
      post({ type: 'failed', error: e.message, stack: e.stack });
    } finally {
      (data as WorkerData | null)?.db.close();
    }
  }
}

function openWorkerData(env: WorkerEnv): WorkerData {
  if (!env.dataDir) throw new Error('this job needs the studio data folder, but the job manager was started without one');
  const paths = dataDirPaths(env.dataDir);
  const db = openDatabase({ file: paths.database, nativeBinding: env.sqliteNativeBinding ?? undefined });
  return { db, blobs: new BlobStore(db, paths.blobs), dataDir: env.dataDir };
}
