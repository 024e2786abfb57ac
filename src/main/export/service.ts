// Answers the exports requests: list past exports, check an export before queueing it, open (verify) a package.
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { ExportInfo, ExportPackageParams, ExportRunSource, PackageSummary } from '../../shared/export/types.ts';
import type { RunDetail } from '../../shared/student/types.ts';
import type { JobManager } from '../jobs/job-manager.ts';
import type { JobRecord } from '../jobs/job-store.ts';
import { RunNotFoundError, RunStore } from '../student/runs.ts';
import { ExportError } from './errors.ts';
import { chooseCheckpoint } from './run-checkpoint.ts';
import { ExportStore } from './store.ts';

/** Statuses after which a job no longer changes by itself. */
const FINAL_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);

/** A request that cannot be carried out as asked; `code` is the studio error code it answers with. */
export class ExportRequestError extends Error {
  override readonly name = 'ExportRequestError';
  constructor(
    readonly code: 'invalid-request' | 'not-found',
    message: string,
  ) {
    super(message);
  }
}

/** The exports side of one studio. */
export class ExportService {
  readonly #db: Database;
  readonly #jobs: JobManager;
  #store: ExportStore | null = null;

  constructor(db: Database, jobs: JobManager) {
    this.#db = db;
    this.#jobs = jobs;
  }

  /** Every recorded export, newest first. */
  list(): ExportInfo[] {
    return this.#exports().list();
  }

  /**
   * Checks that the source exists (the model and previews, or the run and its checkpoint) and the output folder does,
   * before an `export-package` job is queued.
   */
  async checkCreate(params: ExportPackageParams): Promise<void> {
    const { source } = params;
    const inputs = source.kind === 'model' ? [source.modelPath, ...source.previewPaths] : [];
    const relative = [...inputs, params.out].find((p) => !isAbsolute(p));
    if (relative !== undefined) throw new ExportRequestError('invalid-request', `paths must be absolute, got "${relative}"`);
    for (const path of inputs) await requireFile(path);
    if (source.kind === 'run') this.#checkRun(source, params);
    if (!params.out.endsWith('.fxpkg')) throw new ExportRequestError('invalid-request', `the package file must end in .fxpkg, got "${params.out}"`);
    const folder = await stat(dirname(params.out)).catch(() => null);
    if (!folder?.isDirectory()) throw new ExportRequestError('not-found', `the folder ${dirname(params.out)} does not exist`);
    const [lo, hi] = params.valueRange;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) {
      throw new ExportRequestError('invalid-request', `value range [${lo}, ${hi}] must be finite with low < high`);
    }
    this.#exports();
  }

  /** Verifies a package in a job worker and answers what it found (a refused package answers `ok: false`). */
  async open(path: string): Promise<PackageSummary> {
    if (!isAbsolute(path)) throw new ExportRequestError('invalid-request', `the package path must be absolute, got "${path}"`);
    await requireFile(path);
    const job = this.#jobs.start('export-verify', { path });
    const done = await new Promise<JobRecord>((resolve) => {
      const settle = (record: JobRecord | null): void => {
        if (!record || !FINAL_STATUSES.has(record.status)) return;
        off();
        resolve(record);
      };
      const off = this.#jobs.onChange((record) => {
        if (record.id === job.id) settle(record);
      });
      settle(this.#jobs.get(job.id));
    });
    if (done.status !== 'succeeded') throw new Error(`verifying ${path} ${done.status}${done.error ? `: ${done.error}` : ''}`);
    return done.result as PackageSummary;
  }

  #checkRun(source: ExportRunSource, params: ExportPackageParams): void {
    let run: RunDetail;
    try {
      run = new RunStore(this.#db).get(source.runId);
    } catch (error) {
      if (error instanceof RunNotFoundError) throw new ExportRequestError('not-found', error.message);
      throw error;
    }
    try {
      chooseCheckpoint(run, source.checkpointStep);
    } catch (error) {
      if (error instanceof ExportError) throw new ExportRequestError('not-found', error.message);
      throw error;
    }
    if (params.colorOrder !== 'RGB' || params.valueRange[0] !== 0 || params.valueRange[1] !== 1) {
      throw new ExportRequestError('invalid-request', `a run's student takes RGB in [0, 1]; got ${params.colorOrder} [${params.valueRange.join(', ')}]`);
    }
  }

  #exports(): ExportStore {
    if (this.#store) return this.#store;
    const table = this.#db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'exports'").get();
    if (!table) throw new Error('this database has no exports table yet (schema migration 006-exports is not applied)');
    this.#store = new ExportStore(this.#db);
    return this.#store;
  }
}

async function requireFile(path: string): Promise<void> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new ExportRequestError('not-found', `${path} does not exist`);
  if (!info.isFile()) throw new ExportRequestError('invalid-request', `${path} is not a file`);
}
