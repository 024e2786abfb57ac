// The studio service behind both hosts (Electron IPC and the browser WebSocket): validates every request and answers it.
import { mkdirSync } from 'node:fs';
import {
  isRequestChannel,
  type AppInfo,
  type DeviceReport,
  type EventChannel,
  type Events,
  type JobInfo,
  type JobKind,
  type RequestChannel,
  type RequestParams,
  type RequestResult,
  type Result,
  type StudioError,
} from '../../shared/contract.ts';
import { BlobStore } from '../core/blob-store.ts';
import { acquireDataDirLock, type DataDirLock } from '../core/data-dir-lock.ts';
import { dataDirPaths } from '../core/data-dir.ts';
import { openDatabase, type Database } from '../core/db/database.ts';
import { DatasetRequestError, DatasetService } from '../datasets/service.ts';
import { DatasetExistsError, DatasetNotFoundError } from '../datasets/store.ts';
import { JobManager, JobNotFoundError, JobStateError } from '../jobs/job-manager.ts';
import { TeacherService } from '../teachers/service.ts';
import { TeacherExistsError, TeacherNotFoundError } from '../teachers/store.ts';
import { TeacherRequestError } from '../teachers/weights.ts';
import { ExportRequestError, ExportService } from '../export/service.ts';
import { ClipFolderError } from '../engine/clip/index.ts';
import { releaseRelevanceCheckpoint, RelevanceMissingError } from '../effects/edits.ts';
import { EffectRequestError, EffectsService } from '../effects/service.ts';
import { ClipExistsError, EffectNotFoundError } from '../effects/store.ts';
import { TrainingDataError } from '../student/data.ts';
import { StudentConfigError } from '../student/model.ts';
import { RunNotFoundError } from '../student/runs.ts';
import { StudentService } from '../student/service.ts';
import { LiveModelNotFoundError, LiveStudentError, LiveStudentService } from '../live/student-source.ts';
import { NativeLiveSession } from '../live/native-session.ts';
import type { JobRecord } from '../jobs/job-store.ts';
import { REQUEST_SCHEMAS, describeIssues } from './schemas.ts';

/** Options of {@link Studio.open}. */
export interface StudioOptions {
  /** The data folder (see `resolveDataDir`); created when missing. */
  dataDir: string;
  host: 'electron' | 'browser';
  version: string;
  /** Job worker entry; the product worker when absent (tests pass a worker with test runners). */
  jobWorkerUrl?: URL | undefined;
  /** Path of an Electron-ABI `better_sqlite3.node`; Node's build when absent. */
  sqliteNativeBinding?: string | undefined;
  /** Jobs running at once (default 1). */
  concurrency?: number | undefined;
  /** Where internal errors and job crashes are reported, one line each; stderr when absent. */
  log?: ((line: string) => void) | undefined;
}

export { DATABASE_FILE_NAME } from '../core/data-dir.ts';

type EventListener = <E extends EventChannel>(event: E, payload: Events[E]) => void;
type Handlers = { [C in RequestChannel]: (...params: RequestParams<C>) => RequestResult<C> | Promise<RequestResult<C>> };

/** One open studio: database, blob store and job manager over one data folder. */
export class Studio {
  /** The blob store, for services and commands that keep big binaries. */
  readonly blobs: BlobStore;
  /** Datasets and curation (the teacher's synthetic pairs are written through `datasets.store`). */
  readonly datasets: DatasetService;
  /** Stored teachers (sampling and import run as jobs). */
  readonly teachers: TeacherService;
  /** Exported packages (writing and verifying run as jobs). */
  readonly exports: ExportService;
  /** CLIP models, relevance tables, prompts; previews, relevance and pairs run as jobs. */
  readonly effects: EffectsService;
  /** Student size estimates and training runs (training itself runs as `student-train` jobs). */
  readonly students: StudentService;
  /** Students prepared for the live webcam preview. */
  readonly live: LiveStudentService;
  readonly #opts: StudioOptions;
  readonly #db: Database;
  readonly #jobs: JobManager;
  readonly #lock: DataDirLock;
  readonly #log: (line: string) => void;
  readonly #listeners = new Set<EventListener>();
  readonly #handlers: Handlers;
  #isClosed = false;

  private constructor(opts: StudioOptions, db: Database, lock: DataDirLock, log: (line: string) => void) {
    this.#opts = opts;
    this.#db = db;
    this.#lock = lock;
    this.#log = log;
    this.blobs = new BlobStore(db, dataDirPaths(opts.dataDir).blobs);
    this.datasets = new DatasetService(db, this.blobs);
    this.teachers = new TeacherService(db, this.blobs, this.datasets.store);
    this.#jobs = new JobManager({
      db,
      workerUrl: opts.jobWorkerUrl,
      dataDir: opts.dataDir,
      sqliteNativeBinding: opts.sqliteNativeBinding,
      concurrency: opts.concurrency ?? 1,
      // A cancelled relevance job's statistics and partial directions are never resumed from.
      onCheckpointDiscarded: (kind, checkpoint) => {
        if (kind === 'effects-relevance') releaseRelevanceCheckpoint(this.blobs, checkpoint);
      },
      log,
    });
    this.#jobs.onChange((job) => this.#emit('jobs:did-change', toJobInfo(job)));
    this.exports = new ExportService(db, this.#jobs);
    this.effects = new EffectsService(db, this.blobs, this.teachers.store, this.datasets.store);
    this.students = new StudentService(db, this.blobs);
    this.live = new LiveStudentService(db, this.blobs);
    this.#handlers = {
      'app:info': (): AppInfo => ({
        version: opts.version,
        host: opts.host,
        dataDir: opts.dataDir,
        platform: `${process.platform}/${process.arch}`,
      }),
      'jobs:list': () => this.#jobs.list().map(toJobInfo),
      'jobs:get': (id) => {
        const job = this.#jobs.get(id);
        if (!job) throw new JobNotFoundError(id);
        return toJobInfo(job);
      },
      'jobs:start': (request) => {
        // A preview of a missing teacher, or with ψ ≠ 1 for a black-box one, is refused before it is queued.
        if (request.kind === 'teacher-preview') this.teachers.checkPreview(request.params);
        return toJobInfo(this.#jobs.start(request.kind, request.params));
      },
      'jobs:cancel': (id) => toJobInfo(this.#jobs.cancel(id)),
      'jobs:resume': (id) => toJobInfo(this.#jobs.resume(id)),
      'jobs:pause': (id) => toJobInfo(this.#jobs.pause(id)),
      'devices:last': () => (this.#jobs.latestSucceeded('device-check')?.result as DeviceReport | undefined) ?? null,
      'datasets:list': () => this.datasets.list(),
      'datasets:create': (request) => this.datasets.create(request),
      'datasets:rename': (id, name) => this.datasets.rename(id, name),
      'datasets:delete': async (id) => {
        await this.datasets.delete(id);
        return null;
      },
      'datasets:items': (query) => this.datasets.items(query),
      'datasets:tags': (id) => this.datasets.tags(id),
      'datasets:update-items': (ids, update) => this.datasets.updateItems(ids, update),
      'datasets:restore-items': (states) => this.datasets.restoreItems(states),
      'datasets:stats': (id) => this.datasets.stats(id),
      'datasets:duplicates': (id, maxDistance) => this.datasets.duplicates(id, maxDistance ?? undefined),
      'datasets:import': async (request) => {
        await this.datasets.checkImport(request);
        return toJobInfo(this.#jobs.start('dataset-import', request));
      },
      'datasets:add-capture': async (datasetId, imageBase64) => {
        const path = await this.datasets.saveCapture(opts.dataDir, datasetId, imageBase64);
        return toJobInfo(this.#jobs.start('dataset-import', { datasetId, paths: [path], pairs: false }));
      },
      'teachers:list': () => this.teachers.list(),
      'teachers:get': (id) => this.teachers.get(id),
      'teachers:rename': (id, name) => this.teachers.rename(id, name),
      'teachers:delete': (id) => {
        this.teachers.delete(id);
        return null;
      },
      'teachers:make-tiny': (name) => this.teachers.makeTiny(name),
      'teachers:import': async (request) => {
        await this.teachers.checkImport(request);
        return toJobInfo(this.#jobs.start('teacher-import', request));
      },
      'teachers:sample': (request) => {
        this.teachers.checkSample(request);
        return toJobInfo(this.#jobs.start('teacher-sample', request));
      },
      'exports:list': () => this.exports.list(),
      'exports:create': async (request) => {
        await this.exports.checkCreate(request);
        return toJobInfo(this.#jobs.start('export-package', request));
      },
      'exports:open': (path) => this.exports.open(path),
      'clips:list': () => this.effects.listClips(),
      'clips:import': async (request) => {
        await this.effects.checkImport(request);
        return toJobInfo(this.#jobs.start('clip-import', request));
      },
      'clips:delete': (id) => {
        this.effects.deleteClip(id);
        return null;
      },
      'effects:relevance': (teacherId) => this.effects.relevanceOf(teacherId),
      'effects:compute-relevance': (request) => {
        this.effects.checkRelevance(request);
        return toJobInfo(this.#jobs.start('effects-relevance', request));
      },
      'effects:prompts': (teacherId) => this.effects.prompts(teacherId),
      'effects:save-prompt': (request) => this.effects.savePrompt(request),
      'effects:delete-prompt': (id) => {
        this.effects.deletePrompt(id);
        return null;
      },
      'effects:preview': (request) => {
        this.effects.checkPreview(request);
        return toJobInfo(this.#jobs.start('effects-preview', request));
      },
      'effects:generate-pairs': (request) => {
        this.effects.checkPairs(request);
        return toJobInfo(this.#jobs.start('effects-pairs', request));
      },
      'students:describe': (config, batch, losses) => this.students.describe(config, batch, losses),
      'runs:start': async (params) => {
        // A feature network given by path is stored first: the queued run carries its sha.
        const ready = await this.students.checkStart(params);
        const job = this.#jobs.start('student-train', ready);
        // The run is recorded with its job (the worker finds it again), so the UI can follow it before training starts.
        this.students.runs.runForJob(job.id, ready);
        return toJobInfo(job);
      },
      'runs:list': () => this.students.list(),
      'runs:get': (runId) => this.students.get(runId),
      'runs:checkpoints': (runId) => this.students.checkpoints(runId),
      'live:runs': () => this.live.runs(),
      'live:student': (source) => this.live.model(source),
      'live:model-part': (sha256, index) => this.live.part(sha256, index),
    };
  }

  /**
   * Opens the studio on a data folder: takes its lock, opens and migrates the database, sweeps unreferenced blobs
   * and marks jobs a previous run left unfinished as interrupted.
   */
  static async open(opts: StudioOptions): Promise<Studio> {
    const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    mkdirSync(opts.dataDir, { recursive: true });
    const lock = acquireDataDirLock(opts.dataDir);
    let db: Database | undefined;
    try {
      db = openDatabase({ file: dataDirPaths(opts.dataDir).database, nativeBinding: opts.sqliteNativeBinding });
      const studio = new Studio(opts, db, lock, log);
      const swept = await studio.blobs.sweep();
      if (swept.blobs + swept.strayFiles > 0) {
        log(`blobs: removed ${swept.blobs} unreferenced blob(s) and ${swept.strayFiles} stray file(s), ${swept.freedBytes} bytes`);
      }
      return studio;
    } catch (error) {
      db?.close();
      lock.release();
      throw error;
    }
  }

  /** Validates and answers one request from an untrusted caller; never throws. */
  async handle(channel: unknown, params: unknown): Promise<Result<unknown>> {
    try {
      if (!isRequestChannel(channel)) return failure('unknown-channel', `Unknown channel ${describeValue(channel)}`);
      if (this.#isClosed) return failure('internal', 'The studio is closed');
      const schema = REQUEST_SCHEMAS[channel];
      if (!Array.isArray(params)) {
        return failure('invalid-request', `${channel}: params must be an array of arguments, got ${describeType(params)}`);
      }
      const arity = schema.def.items.length;
      if (params.length !== arity) {
        return failure('invalid-request', `${channel}: takes ${arity} argument${arity === 1 ? '' : 's'}, got ${params.length}`);
      }
      const parsed = schema.safeParse(params);
      if (!parsed.success) return failure('invalid-request', `${channel}: ${describeIssues(parsed.error)}`);
      return { ok: true, value: await this.#invoke(channel, parsed.data as RequestParams<typeof channel>) };
    } catch (error) {
      if (error instanceof JobNotFoundError) return failure('not-found', error.message);
      if (error instanceof JobStateError) return failure('conflict', error.message);
      if (error instanceof DatasetNotFoundError) return failure('not-found', error.message);
      if (error instanceof DatasetExistsError) return failure('conflict', error.message);
      if (error instanceof TeacherNotFoundError) return failure('not-found', error.message);
      if (error instanceof TeacherExistsError) return failure('conflict', error.message);
      if (error instanceof TeacherRequestError) return failure('invalid-request', `${String(channel)}: ${error.message}`);
      if (error instanceof ExportRequestError) return failure(error.code, `${String(channel)}: ${error.message}`);
      if (error instanceof EffectNotFoundError) return failure('not-found', error.message);
      if (error instanceof ClipExistsError || error instanceof RelevanceMissingError) return failure('conflict', error.message);
      if (error instanceof ClipFolderError || error instanceof EffectRequestError) return failure('invalid-request', `${String(channel)}: ${error.message}`);
      if (error instanceof DatasetRequestError) return failure('invalid-request', `${String(channel)}: ${error.message}`);
      if (error instanceof RunNotFoundError) return failure('not-found', error.message);
      if (error instanceof LiveModelNotFoundError) return failure('not-found', `${String(channel)}: ${error.message}`);
      if (error instanceof LiveStudentError) return failure('invalid-request', `${String(channel)}: ${error.message}`);
      if (error instanceof StudentConfigError || error instanceof TrainingDataError) return failure('invalid-request', `${String(channel)}: ${error.message}`);
      this.#log(`studio: ${String(channel)} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return failure('internal', `${String(channel)} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** A native (onnxruntime-node worker) backend for one live view; `send` delivers its binary messages to the page. */
  openNativeLive(send: (data: ArrayBuffer) => void): NativeLiveSession {
    return new NativeLiveSession(this.live, send, this.#log);
  }

  /** Subscribes to every event the studio pushes; returns the unsubscribe function. */
  onEvent(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops every worker (jobs still running become interrupted on the next open) and closes the database. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#listeners.clear();
    try {
      await this.#jobs.close();
      this.#db.close();
    } finally {
      this.#lock.release();
    }
  }

  #invoke<C extends RequestChannel>(channel: C, params: RequestParams<C>): RequestResult<C> | Promise<RequestResult<C>> {
    const handler = this.#handlers[channel] as (...args: RequestParams<C>) => RequestResult<C> | Promise<RequestResult<C>>;
    return handler(...params);
  }

  #emit<E extends EventChannel>(event: E, payload: Events[E]): void {
    for (const listener of this.#listeners) {
      try {
        listener(event, payload);
      } catch (error) {
        this.#log(`studio: a ${event} listener threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

function toJobInfo(job: JobRecord): JobInfo {
  return {
    id: job.id,
    // Only kinds the contract knows are ever queued through the studio.
    kind: job.kind as JobKind,
    params: job.params,
    status: job.status,
    progress: job.progress,
    error: job.error,
    result: job.result,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  };
}

function failure(code: StudioError['code'], message: string): Result<never> {
  return { ok: false, error: { code, message } };
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return `(${describeType(value)}, not a channel name)`;
}

function describeType(value: unknown): string {
  return value === null ? 'null' : `a value of type ${typeof value}`;
}
