// Persistence of jobs in SQLite: every state change of every job, with prepared statements.
import { randomUUID } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import type { JobProgress, JobStatus } from '../../shared/contract.ts';

/** A job as stored: the contract's `JobInfo` plus its checkpoint; `kind` is any kind a worker knows. */
export interface JobRecord {
  id: string;
  kind: string;
  params: unknown;
  status: JobStatus;
  progress: JobProgress;
  error: string | null;
  result: unknown;
  /** JSON state the runner saved to continue from after an interruption; null when none. */
  checkpoint: unknown;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

interface JobRow {
  id: string;
  kind: string;
  params: string;
  status: JobStatus;
  progress_step: number;
  progress_total: number;
  progress_message: string;
  error: string | null;
  result: string | null;
  checkpoint: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/** The final states a job can reach. */
export type FinalJobStatus = Extract<JobStatus, 'succeeded' | 'failed' | 'cancelled'>;

const COLUMNS = `id, kind, params, status, progress_step, progress_total, progress_message, error, result, checkpoint,
  created_at, started_at, finished_at`;

/** The `jobs` table. */
export class JobStore {
  readonly #db: Database;
  readonly #sql: {
    insert: Statement<[string, string, string, number]>;
    get: Statement<[string], JobRow>;
    list: Statement<[], JobRow>;
    latestSucceeded: Statement<[string], JobRow>;
    markRunning: Statement<[number, string]>;
    saveProgress: Statement<[number, number, string, string]>;
    saveCheckpoint: Statement<[string, string]>;
    dropCheckpoint: Statement<[string]>;
    finish: Statement<[string, number, number, string, string | null, string | null, number, string]>;
    cancelWaiting: Statement<[number, string]>;
    requeue: Statement<[string]>;
    interrupt: Statement<[number, number, string, string, string]>;
    interruptQueued: Statement<[string, string]>;
    interruptUnfinished: Statement<[string, string]>;
  };

  constructor(db: Database) {
    this.#db = db;
    this.#sql = {
      insert: db.prepare(`INSERT INTO jobs (id, kind, params, status, created_at) VALUES (?, ?, ?, 'queued', ?)`),
      get: db.prepare(`SELECT ${COLUMNS} FROM jobs WHERE id = ?`),
      list: db.prepare(`SELECT ${COLUMNS} FROM jobs ORDER BY created_at DESC, rowid DESC`),
      latestSucceeded: db.prepare(
        `SELECT ${COLUMNS} FROM jobs WHERE kind = ? AND status = 'succeeded' ORDER BY finished_at DESC, rowid DESC LIMIT 1`,
      ),
      markRunning: db.prepare(`UPDATE jobs SET status = 'running', error = NULL, started_at = ? WHERE id = ?`),
      saveProgress: db.prepare(
        `UPDATE jobs SET progress_step = ?, progress_total = ?, progress_message = ? WHERE id = ? AND status = 'running'`,
      ),
      saveCheckpoint: db.prepare(`UPDATE jobs SET checkpoint = ? WHERE id = ? AND status = 'running'`),
      dropCheckpoint: db.prepare(`UPDATE jobs SET checkpoint = NULL WHERE id = ? AND status = 'cancelled' AND checkpoint IS NOT NULL`),
      finish: db.prepare(
        `UPDATE jobs SET status = ?, progress_step = ?, progress_total = ?, progress_message = ?, error = ?, result = ?,
           finished_at = ? WHERE id = ?`,
      ),
      cancelWaiting: db.prepare(
        `UPDATE jobs SET status = 'cancelled', finished_at = ? WHERE id = ? AND status IN ('queued', 'interrupted')`,
      ),
      requeue: db.prepare(
        `UPDATE jobs SET status = 'queued', error = NULL, finished_at = NULL WHERE id = ? AND status = 'interrupted'`,
      ),
      interrupt: db.prepare(
        `UPDATE jobs SET status = 'interrupted', progress_step = ?, progress_total = ?, progress_message = ?, error = ?,
           finished_at = NULL WHERE id = ? AND status = 'running'`,
      ),
      interruptQueued: db.prepare(`UPDATE jobs SET status = 'interrupted', error = ? WHERE id = ? AND status = 'queued'`),
      interruptUnfinished: db.prepare(
        `UPDATE jobs SET status = 'interrupted', finished_at = NULL,
           error = CASE status WHEN 'running' THEN ? ELSE ? END
         WHERE status IN ('running', 'queued')`,
      ),
    };
  }

  /** Records a new queued job. */
  insert(kind: string, params: unknown): JobRecord {
    const id = randomUUID();
    this.#sql.insert.run(id, kind, JSON.stringify(params ?? null), Date.now());
    return this.get(id)!;
  }

  /** One job, or null when no job has this id. */
  get(id: string): JobRecord | null {
    const row = this.#sql.get.get(id);
    return row ? toRecord(row) : null;
  }

  /** All jobs, newest first. */
  list(): JobRecord[] {
    return this.#sql.list.all().map(toRecord);
  }

  /** The most recently finished successful job of a kind. */
  latestSucceeded(kind: string): JobRecord | null {
    const row = this.#sql.latestSucceeded.get(kind);
    return row ? toRecord(row) : null;
  }

  /** A worker took the job: `running`, started now. */
  markRunning(id: string): void {
    this.#sql.markRunning.run(Date.now(), id);
  }

  /** Records the progress of a running job. */
  saveProgress(id: string, progress: JobProgress): void {
    this.#sql.saveProgress.run(progress.step, progress.total, progress.message, id);
  }

  /** Records the JSON state a running job can resume from. */
  saveCheckpoint(id: string, state: unknown): void {
    this.#sql.saveCheckpoint.run(JSON.stringify(state ?? null), id);
  }

  /** Forgets a cancelled job's checkpoint (nothing can resume it); true when there was one to forget. */
  dropCheckpoint(id: string): boolean {
    return this.#sql.dropCheckpoint.run(id).changes === 1;
  }

  /** Moves a job to a final state with its last progress, error and result. */
  finish(id: string, status: FinalJobStatus, outcome: { progress: JobProgress; error?: string | null; result?: unknown }): void {
    const result = outcome.result === undefined ? null : JSON.stringify(outcome.result);
    const p = outcome.progress;
    this.#sql.finish.run(status, p.step, p.total, p.message, outcome.error ?? null, result, Date.now(), id);
  }

  /** Cancels a job that is not running (queued or interrupted); false when it was in another state. */
  cancelWaiting(id: string): boolean {
    return this.#sql.cancelWaiting.run(Date.now(), id).changes === 1;
  }

  /** Puts an interrupted job back in the queue, keeping its checkpoint; false when it was not interrupted. */
  requeue(id: string): boolean {
    return this.#sql.requeue.run(id).changes === 1;
  }

  /** A running job stopped so that it can be resumed (paused): `interrupted` with its last progress and why. */
  interrupt(id: string, progress: JobProgress, reason: string): void {
    this.#sql.interrupt.run(progress.step, progress.total, progress.message, reason, id);
  }

  /** Marks a queued job interrupted (paused before it started); false when it was not queued. */
  interruptQueued(id: string, reason: string): boolean {
    return this.#sql.interruptQueued.run(reason, id).changes === 1;
  }

  /** Marks every job a previous run left running or queued as interrupted; returns how many. */
  interruptUnfinished(): number {
    return this.#db.transaction(
      () =>
        this.#sql.interruptUnfinished.run(
          'the studio stopped while this job ran',
          'the studio stopped before this job started',
        ).changes,
    ).immediate();
  }
}

function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    params: JSON.parse(row.params) as unknown,
    status: row.status,
    progress: { step: row.progress_step, total: row.progress_total, message: row.progress_message },
    error: row.error,
    result: row.result === null ? null : (JSON.parse(row.result) as unknown),
    checkpoint: row.checkpoint === null ? null : (JSON.parse(row.checkpoint) as unknown),
    createdAt: iso(row.created_at),
    startedAt: row.started_at === null ? null : iso(row.started_at),
    finishedAt: row.finished_at === null ? null : iso(row.finished_at),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
