// Training runs in SQLite: the run row, metric series, checkpoints and previews (blob references held by their rows).
import type { Database } from '../core/db/database.ts';
import type { CheckpointInfo, MetricPoint, PreviewInfo, RunDetail, RunInfo, RunStatus, StudentTrainParams } from '../../shared/student/types.ts';

/** No run with this id. */
export class RunNotFoundError extends Error {
  override name = 'RunNotFoundError';
  constructor(readonly runId: number) {
    super(`no training run with id ${runId}`);
  }
}

interface RunRow {
  id: number;
  job_id: string;
  dataset_id: number | null;
  config: string;
  status: RunStatus;
  provider: string | null;
  created_at: number;
  step: number | null;
  best_psnr: number | null;
}

// The job owns the lifecycle: a worker killed with the app never wrote its run's status, and a paused run is an
// interrupted job; while the job is waiting or running the run counts as running.
const RUN_SELECT = `SELECT r.id, r.job_id, r.dataset_id, r.config, r.provider, r.created_at,
  CASE
    WHEN j.status IN ('queued', 'running') THEN 'running'
    WHEN j.status = 'interrupted' THEN 'interrupted'
    WHEN j.status IN ('cancelled', 'failed') AND r.status = 'running' THEN j.status
    ELSE r.status
  END AS status,
  (SELECT max(step) FROM run_metrics m WHERE m.run_id = r.id AND m.split = 'train') AS step,
  (SELECT max(value) FROM run_metrics m WHERE m.run_id = r.id AND m.split = 'validation' AND m.name = 'psnr') AS best_psnr
  FROM runs r LEFT JOIN jobs j ON j.id = r.job_id`;

function toInfo(row: RunRow): RunInfo {
  return {
    id: row.id,
    jobId: row.job_id,
    datasetId: row.dataset_id ?? -1,
    config: JSON.parse(row.config) as StudentTrainParams,
    status: row.status,
    provider: row.provider,
    step: row.step ?? 0,
    bestPsnr: row.best_psnr,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** Reads and writes training runs. Used by the `student-train` worker (its own connection) and by the studio. */
export class RunStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** The run of a job, created on its first start (a resumed job finds its run again). */
  runForJob(jobId: string, params: StudentTrainParams): RunInfo {
    const now = Date.now();
    this.#db
      .prepare(`INSERT INTO runs (job_id, dataset_id, config, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING`)
      .run(jobId, params.datasetId, JSON.stringify(params), now, now);
    return toInfo(this.#db.prepare(`${RUN_SELECT} WHERE r.job_id = ?`).get(jobId) as RunRow);
  }

  /** Sets the status (and the provider, when given). */
  setStatus(runId: number, status: RunStatus, provider?: string): void {
    this.#db
      .prepare('UPDATE runs SET status = ?, provider = coalesce(?, provider), updated_at = ? WHERE id = ?')
      .run(status, provider ?? null, Date.now(), runId);
  }

  /** Records metric values of one step; a value already recorded for that step is replaced. */
  recordMetrics(runId: number, split: 'train' | 'validation', step: number, values: Readonly<Record<string, number>>): void {
    const put = this.#db.prepare('INSERT OR REPLACE INTO run_metrics (run_id, split, name, step, value) VALUES (?, ?, ?, ?, ?)');
    this.#db.transaction(() => {
      for (const [name, value] of Object.entries(values)) if (Number.isFinite(value)) put.run(runId, split, name, step, value);
    }).immediate();
  }

  /** Forgets metrics after `step` (a resumed run redoes those steps from its checkpoint). */
  truncateAfter(runId: number, step: number): void {
    this.#db.prepare('DELETE FROM run_metrics WHERE run_id = ? AND step > ?').run(runId, step);
  }

  /** Adds a checkpoint; the row takes over the caller's blob reference (released if the step already had one). */
  addCheckpoint(runId: number, step: number, sha: string, bytes: number, release: (sha: string) => void): void {
    this.#replaceBlobRow('run_checkpoints', runId, step, sha, release, (db) =>
      db.prepare('INSERT INTO run_checkpoints (run_id, step, blob_sha, bytes, created_at) VALUES (?, ?, ?, ?, ?)').run(runId, step, sha, bytes, Date.now()),
    );
  }

  /** Adds a preview strip; the row takes over the caller's blob reference. */
  addPreview(runId: number, step: number, sha: string, release: (sha: string) => void): void {
    this.#replaceBlobRow('run_previews', runId, step, sha, release, (db) =>
      db.prepare('INSERT INTO run_previews (run_id, step, blob_sha) VALUES (?, ?, ?)').run(runId, step, sha),
    );
  }

  #replaceBlobRow(table: 'run_checkpoints' | 'run_previews', runId: number, step: number, sha: string, release: (sha: string) => void, insert: (db: Database) => void): void {
    this.#db.transaction(() => {
      const old = this.#db.prepare(`SELECT blob_sha FROM ${table} WHERE run_id = ? AND step = ?`).get(runId, step) as { blob_sha: string } | undefined;
      if (old) {
        this.#db.prepare(`DELETE FROM ${table} WHERE run_id = ? AND step = ?`).run(runId, step);
        release(old.blob_sha);
      }
      insert(this.#db);
    }).immediate();
  }

  /** All runs, newest first. */
  list(): RunInfo[] {
    return (this.#db.prepare(`${RUN_SELECT} ORDER BY r.id DESC`).all() as RunRow[]).map(toInfo);
  }

  /**
   * One run with its metric series (`train/loss`, `validation/psnr`, …), checkpoints and previews. A series longer
   * than `maxPoints` comes back as `maxPoints` bucket means (see {@link bucketSeries}); by default every point.
   */
  get(runId: number, maxPoints = Number.POSITIVE_INFINITY): RunDetail {
    const row = this.#db.prepare(`${RUN_SELECT} WHERE r.id = ?`).get(runId) as RunRow | undefined;
    if (!row) throw new RunNotFoundError(runId);
    const metrics: Record<string, MetricPoint[]> = {};
    const rows = this.#db.prepare('SELECT split, name, step, value FROM run_metrics WHERE run_id = ? ORDER BY split, name, step').all(runId) as {
      split: string;
      name: string;
      step: number;
      value: number;
    }[];
    for (const m of rows) (metrics[`${m.split}/${m.name}`] ??= []).push({ step: m.step, value: m.value });
    for (const [name, series] of Object.entries(metrics)) metrics[name] = bucketSeries(series, maxPoints);
    const checkpoints = (
      this.#db.prepare('SELECT step, blob_sha AS sha, bytes FROM run_checkpoints WHERE run_id = ? ORDER BY step').all(runId) as CheckpointInfo[]
    ).map((c) => ({ step: c.step, sha: c.sha, bytes: c.bytes }));
    const previews = (this.#db.prepare('SELECT step, blob_sha AS sha FROM run_previews WHERE run_id = ? ORDER BY step').all(runId) as PreviewInfo[]).map(
      (p) => ({ step: p.step, sha: p.sha }),
    );
    return { ...toInfo(row), metrics, checkpoints, previews };
  }

  /** The newest checkpoint of a run, or null. */
  lastCheckpoint(runId: number): CheckpointInfo | null {
    return (this.#db.prepare('SELECT step, blob_sha AS sha, bytes FROM run_checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT 1').get(runId) as CheckpointInfo | undefined) ?? null;
  }
}

/**
 * At most `maxPoints` points of a series in step order: consecutive points are grouped into `maxPoints` buckets of
 * (nearly) equal size, each answered as the mean value at its last step, so a long noisy loss curve keeps its shape
 * and its newest point.
 */
export function bucketSeries(series: readonly MetricPoint[], maxPoints: number): MetricPoint[] {
  if (series.length <= maxPoints) return [...series];
  const out: MetricPoint[] = [];
  for (let b = 0; b < maxPoints; b++) {
    const from = Math.floor((b * series.length) / maxPoints);
    const to = Math.floor(((b + 1) * series.length) / maxPoints);
    let sum = 0;
    for (let i = from; i < to; i++) sum += series[i]!.value;
    out.push({ step: series[to - 1]!.step, value: sum / (to - from) });
  }
  return out;
}
