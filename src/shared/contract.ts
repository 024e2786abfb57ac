// The one contract between the renderer and main: every request, every pushed event, their types.
// Pure TypeScript: imported as types by the renderer and preload, and at runtime by main's validators.
import type {
  CreateDatasetRequest,
  DatasetImportParams,
  DatasetInfo,
  DatasetStats,
  DuplicateReport,
  ImportReport,
  ItemPage,
  ItemQuery,
  ItemState,
  ItemUpdate,
  UpdateItemsResult,
} from './datasets/types.ts';
import type {
  TeacherImportParams,
  TeacherInfo,
  TeacherPreviewParams,
  TeacherPreviewResult,
  TeacherSampleParams,
  TeacherSampleResult,
} from './teachers/types.ts';
import type { ExportEstimate, ExportEstimateParams, ExportInfo, ExportPackageParams, PackageSummary } from './export/types.ts';
import type {
  ClipImportParams,
  ClipModelInfo,
  EffectPairsParams,
  EffectPairsResult,
  EffectPreviewParams,
  EffectPreviewResult,
  PromptInfo,
  RelevanceInfo,
  RelevanceParams,
  RelevanceResult,
  SavePromptRequest,
} from './effects/types.ts';
import type { CheckpointInfo, EstimateLosses, RunDetail, RunInfo, StudentConfig, StudentDescription, StudentTrainParams, StudentTrainResult } from './student/types.ts';
import type { LiveRun, LiveStudentModel, LiveStudentSource } from './live/types.ts';

/** Lifecycle of a job. `interrupted` means the app stopped while it ran; it can be resumed. */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

/** Every kind of long-running work the studio does. */
export type JobKind = 'device-check' | 'clip-import' | 'effects-relevance' | 'effects-preview' | 'effects-pairs' | 'dataset-import' | 'teacher-import' | 'teacher-preview' | 'teacher-sample' | 'export-package' | 'export-verify' | 'export-estimate' | 'student-train';

/** Progress of one job: `step` of `total` units done, and what is happening now. */
export interface JobProgress {
  step: number;
  total: number;
  message: string;
}

/** Parameters each job kind accepts. */
export interface JobParams {
  'device-check': { providers?: ProviderName[] };
  /** Import photos or before/after pairs into a dataset; resumes where it stopped after an interruption. */
  'dataset-import': DatasetImportParams;
  /** Read, check and store a StyleGAN2 .safetensors file on the studio's machine as a teacher. */
  'teacher-import': TeacherImportParams;
  /** Render a few seeds of a teacher (PNG blobs) for the Teacher page. */
  'teacher-preview': TeacherPreviewParams;
  /** Sample N seeded images of a teacher into a new synthetic dataset; resumes after the last finished batch. */
  'teacher-sample': TeacherSampleParams;
  /** Write a .fxpkg (fp32 model, optional checked fp16, manifest, previews) and record it in the exports. */
  'export-package': ExportPackageParams;
  /** Verify a .fxpkg (checksums, schema, models load and reproduce the previews). */
  'export-verify': { path: string };
  /** Build the model an export would package (a run's checkpoint or a model file) and measure its size and speed. */
  'export-estimate': ExportEstimateParams;
  /** Check a CLIP ONNX export folder on the studio's machine and copy it into the studio. */
  'clip-import': ClipImportParams;
  /** Measure a teacher's per-channel CLIP directions (StyleCLIP relevance); resumes after the statistics or the last saved part. */
  'effects-relevance': RelevanceParams;
  /** Render seeds unedited and at each α of a prompt's edit (PNG blobs) for the Effects page. */
  'effects-preview': EffectPreviewParams;
  /** Generate N (original, edited) pairs of a prompt's edit into a new pairs dataset; resumes after the last finished batch. */
  'effects-pairs': EffectPairsParams;
  /** Train a student on a pairs dataset; resumes from the run's newest checkpoint after an interruption or a pause. */
  'student-train': StudentTrainParams;
}

/** What each job kind produces when it succeeds. */
export interface JobResults {
  'device-check': DeviceReport;
  /** Totals, the first problems, and speed; every file's outcome is kept in the dataset store. */
  'dataset-import': ImportReport;
  /** The stored teacher. */
  'teacher-import': TeacherInfo;
  'teacher-preview': TeacherPreviewResult;
  'teacher-sample': TeacherSampleResult;
  /** The recorded export. */
  'export-package': ExportInfo;
  /** The verification; `ok: false` when the package was refused. */
  'export-verify': PackageSummary;
  /** Model sizes (fp32, fp16) and the median time per frame. */
  'export-estimate': ExportEstimate;
  /** The stored CLIP model. */
  'clip-import': ClipModelInfo;
  /** The stored relevance table and the provider it was measured on. */
  'effects-relevance': RelevanceResult;
  'effects-preview': EffectPreviewResult;
  'effects-pairs': EffectPairsResult;
  /** The run, its steps, provider, best validation and final checkpoint. */
  'student-train': StudentTrainResult;
}

/** A request to start a job of some kind. */
export type JobStartRequest = { [K in JobKind]: { kind: K; params: JobParams[K] } }[JobKind];

/** A job as the renderer sees it. Times are ISO-8601 strings. */
export interface JobInfo {
  id: string;
  kind: JobKind;
  params: unknown;
  status: JobStatus;
  progress: JobProgress;
  /** Human-readable reason when `status` is `failed` or `interrupted`. */
  error: string | null;
  /** The kind's result (see `JobResults`) once `status` is `succeeded`. */
  result: unknown;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** ONNX Runtime execution providers the studio knows about. */
export type ProviderName = 'cuda' | 'dml' | 'coreml' | 'webgpu' | 'cpu';

/** Outcome of probing one execution provider by running a small model on it. */
export interface ProviderReport {
  name: ProviderName;
  available: boolean;
  /** Why it is not available (or null when it is). */
  reason: string | null;
  /** Median milliseconds of the probe model's run, when it ran. */
  ms: number | null;
}

/** Result of the device check: every provider probed, and the one the studio will use. */
export interface DeviceReport {
  providers: ProviderReport[];
  preferred: ProviderName;
  platform: string;
  checkedAt: string;
}

/** Facts about the running studio. */
export interface AppInfo {
  version: string;
  host: 'electron' | 'browser';
  dataDir: string;
  platform: string;
}

/** Codes of expected failures; every failed request carries one. */
export type ErrorCode =
  | 'invalid-request'
  | 'unknown-channel'
  | 'not-found'
  | 'conflict'
  | 'unauthorized'
  | 'internal';

export interface StudioError {
  code: ErrorCode;
  message: string;
}

/** Every request answers with a Result; expected failures are values, not exceptions. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: StudioError };

/** Every request, keyed by `domain:verb`, with its parameters as a named tuple and its result. */
export interface Requests {
  /** Version, host kind and data folder of this studio. */
  'app:info': { params: []; result: AppInfo };
  /** All jobs, newest first. */
  'jobs:list': { params: []; result: JobInfo[] };
  /** One job by id. */
  'jobs:get': { params: [id: string]; result: JobInfo };
  /** Queue a new job. */
  'jobs:start': { params: [request: JobStartRequest]; result: JobInfo };
  /** Cancel a queued or running job. */
  'jobs:cancel': { params: [id: string]; result: JobInfo };
  /** Resume an interrupted job from its last checkpoint. */
  'jobs:resume': { params: [id: string]; result: JobInfo };
  /** Stops a running job so that it can be resumed later (it becomes `interrupted`); a queued one just waits as interrupted. */
  'jobs:pause': { params: [id: string]; result: JobInfo };
  /** The most recent successful device check, or null when none ran yet. */
  'devices:last': { params: []; result: DeviceReport | null };
  /** All datasets, newest first. */
  'datasets:list': { params: []; result: DatasetInfo[] };
  /** A new, empty dataset; `conflict` when the name is taken. */
  'datasets:create': { params: [request: CreateDatasetRequest]; result: DatasetInfo };
  /** Renames a dataset; `conflict` when the name is taken. */
  'datasets:rename': { params: [id: number, name: string]; result: DatasetInfo };
  /** Deletes a dataset with its items and frees their blobs. */
  'datasets:delete': { params: [id: number]; result: null };
  /** A filtered, sorted window (at most 500) of a dataset's items and how many match in all. */
  'datasets:items': { params: [query: ItemQuery]; result: ItemPage };
  /** The dataset's tags with how many items carry each. */
  'datasets:tags': { params: [id: number]; result: { name: string; count: number }[] };
  /** One change to many items (≤ 100,000); answers their states from before, which `datasets:restore-items` replays. */
  'datasets:update-items': { params: [ids: number[], update: ItemUpdate]; result: UpdateItemsResult };
  /** Puts items back into earlier states (undo of `datasets:update-items`). */
  'datasets:restore-items': { params: [states: ItemState[]]; result: { updated: number } };
  /** Counts by status, rating, split, tag, faces and resolution, and tag balance. */
  'datasets:stats': { params: [id: number]; result: DatasetStats };
  /** Near-duplicate groups (perceptual hashes within `maxDistance` of 64 bits, default 6). */
  'datasets:duplicates': { params: [id: number, maxDistance: number | null]; result: DuplicateReport };
  /** Checks the dataset and paths, then queues a `dataset-import` job. */
  'datasets:import': { params: [request: DatasetImportParams]; result: JobInfo };
  /** Adds a webcam frame (PNG or JPEG bytes, base64) to a photos dataset through a `dataset-import` job. */
  'datasets:add-capture': { params: [datasetId: number, imageBase64: string]; result: JobInfo };
  /** Every stored teacher, newest first. */
  'teachers:list': { params: []; result: TeacherInfo[] };
  /** One teacher by id. */
  'teachers:get': { params: [id: number]; result: TeacherInfo };
  /** Renames a teacher; `conflict` when the name is taken. */
  'teachers:rename': { params: [id: number, name: string]; result: TeacherInfo };
  /** Deletes a teacher and frees its weights; datasets sampled from it stay. */
  'teachers:delete': { params: [id: number]; result: null };
  /** Makes the tiny random-weight demo teacher (32×32) under this name; `conflict` when the name is taken. */
  'teachers:make-tiny': { params: [name: string]; result: TeacherInfo };
  /** Checks the name and file, then queues a `teacher-import` job. */
  'teachers:import': { params: [request: TeacherImportParams]; result: JobInfo };
  /** Checks the teacher and dataset name, then queues a `teacher-sample` job. */
  'teachers:sample': { params: [request: TeacherSampleParams]; result: JobInfo };
  /** Every package the studio exported, newest first. */
  'exports:list': { params: []; result: ExportInfo[] };
  /** Checks the model, previews and output folder, then queues an `export-package` job. */
  'exports:create': { params: [request: ExportPackageParams]; result: JobInfo };
  /** Verifies the package at an absolute path (in a job worker) and answers every check and its manifest summary. */
  'exports:open': { params: [path: string]; result: PackageSummary };
  /** Every stored CLIP model, newest first. */
  'clips:list': { params: []; result: ClipModelInfo[] };
  /** Checks the name and the CLIP folder (models, signatures, tokenizer), then queues a `clip-import` job. */
  'clips:import': { params: [request: ClipImportParams]; result: JobInfo };
  /** Deletes a CLIP model with the relevance tables measured with it. */
  'clips:delete': { params: [id: number]; result: null };
  /** The relevance tables of a teacher (one per CLIP model it was measured under). */
  'effects:relevance': { params: [teacherId: number]; result: RelevanceInfo[] };
  /** Checks the teacher and CLIP model, then queues an `effects-relevance` job. */
  'effects:compute-relevance': { params: [request: RelevanceParams]; result: JobInfo };
  /** A teacher's saved prompts, favourites first, then most recently used. */
  'effects:prompts': { params: [teacherId: number]; result: PromptInfo[] };
  /** Saves a prompt; the same teacher, target and neutral update the existing one. */
  'effects:save-prompt': { params: [request: SavePromptRequest]; result: PromptInfo };
  /** Deletes a saved prompt. */
  'effects:delete-prompt': { params: [id: number]; result: null };
  /** Checks the edit (texts, relevance table present), then queues an `effects-preview` job. */
  'effects:preview': { params: [request: EffectPreviewParams]; result: JobInfo };
  /** Checks the edit and the dataset name, then queues an `effects-pairs` job. */
  'effects:generate-pairs': { params: [request: EffectPairsParams]; result: JobInfo };
  /** Parameters, multiply-adds per frame and estimated training memory of a student at a batch size, before training. */
  'students:describe': { params: [config: StudentConfig, batch: number, losses: EstimateLosses]; result: StudentDescription };
  /** Checks the settings and the dataset's pairs (kind, count, sizes), then queues a `student-train` job. */
  'runs:start': { params: [params: StudentTrainParams]; result: JobInfo };
  /** Every training run, newest first. */
  'runs:list': { params: []; result: RunInfo[] };
  /**
   * One run with its metric series (`train/loss`, `validation/psnr`, …; a series of more than 2,000 points comes as
   * 2,000 bucket means, so a long run stays cheap to poll), checkpoints and preview strips (blob hashes).
   */
  'runs:get': { params: [runId: number]; result: RunDetail };
  /** A run's checkpoints (.safetensors blobs), oldest first. */
  'runs:checkpoints': { params: [runId: number]; result: CheckpointInfo[] };
  /** Training runs with at least one checkpoint, newest first: the students the live view can run and follow. */
  'live:runs': { params: []; result: LiveRun[] };
  /** Prepares a student for the live view (a run's newest checkpoint built into its ONNX model, or a package's model). */
  'live:student': { params: [source: LiveStudentSource]; result: LiveStudentModel };
  /** Part `index` of a prepared live model's bytes (base64), by the model's sha256. */
  'live:model-part': { params: [sha256: string, index: number]; result: string };
}

/** Every event main pushes to the renderer, keyed by `domain:did-x`, with its payload. */
export interface Events {
  /** A job was created, changed status or made progress (at most ~10 per second per job). */
  'jobs:did-change': JobInfo;
}

export type RequestChannel = keyof Requests;
export type EventChannel = keyof Events;
export type RequestParams<C extends RequestChannel> = Requests[C]['params'];
export type RequestResult<C extends RequestChannel> = Requests[C]['result'];

/** The runtime list of request channels; a type test keeps it equal to `keyof Requests`. */
export const REQUEST_CHANNELS = [
  'app:info',
  'jobs:list',
  'jobs:get',
  'jobs:start',
  'jobs:cancel',
  'jobs:resume',
  'jobs:pause',
  'devices:last',
  'datasets:list',
  'datasets:create',
  'datasets:rename',
  'datasets:delete',
  'datasets:items',
  'datasets:tags',
  'datasets:update-items',
  'datasets:restore-items',
  'datasets:stats',
  'datasets:duplicates',
  'datasets:import',
  'datasets:add-capture',
  'teachers:list',
  'teachers:get',
  'teachers:rename',
  'teachers:delete',
  'teachers:make-tiny',
  'teachers:import',
  'teachers:sample',
  'exports:list',
  'exports:create',
  'exports:open',
  'clips:list',
  'clips:import',
  'clips:delete',
  'effects:relevance',
  'effects:compute-relevance',
  'effects:prompts',
  'effects:save-prompt',
  'effects:delete-prompt',
  'effects:preview',
  'effects:generate-pairs',
  'students:describe',
  'runs:start',
  'runs:list',
  'runs:get',
  'runs:checkpoints',
  'live:runs',
  'live:student',
  'live:model-part',
] as const satisfies readonly RequestChannel[];

/** The runtime list of event channels; a type test keeps it equal to `keyof Events`. */
export const EVENT_CHANNELS = ['jobs:did-change'] as const satisfies readonly EventChannel[];

/** The API the renderer calls: `window.studio` in Electron, a WebSocket client in a browser. */
export interface StudioApi {
  invoke<C extends RequestChannel>(channel: C, ...params: RequestParams<C>): Promise<Result<RequestResult<C>>>;
  /** Subscribe to an event; returns a function that unsubscribes. */
  on<E extends EventChannel>(event: E, listener: (payload: Events[E]) => void): () => void;
  /**
   * Electron only: asks main for a MessagePort to the native live backend (binary messages, see
   * `shared/live/native-protocol.ts`); it arrives as a window `message` event whose data is `'studio:live-port'`.
   * The browser host offers the same backend as a WebSocket instead.
   */
  requestLivePort?(): void;
}

export function isRequestChannel(value: unknown): value is RequestChannel {
  return typeof value === 'string' && (REQUEST_CHANNELS as readonly string[]).includes(value);
}
