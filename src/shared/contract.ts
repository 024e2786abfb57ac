// The one contract between the renderer and main: every request, every pushed event, their types.
// Pure TypeScript: imported as types by the renderer and preload, and at runtime by main's validators.

/** Lifecycle of a job. `interrupted` means the app stopped while it ran; it can be resumed. */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

/** Every kind of long-running work the studio does. */
export type JobKind = 'device-check';

/** Progress of one job: `step` of `total` units done, and what is happening now. */
export interface JobProgress {
  step: number;
  total: number;
  message: string;
}

/** Parameters each job kind accepts. */
export interface JobParams {
  'device-check': { providers?: ProviderName[] };
}

/** What each job kind produces when it succeeds. */
export interface JobResults {
  'device-check': DeviceReport;
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
  /** The most recent successful device check, or null when none ran yet. */
  'devices:last': { params: []; result: DeviceReport | null };
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
  'devices:last',
] as const satisfies readonly RequestChannel[];

/** The runtime list of event channels; a type test keeps it equal to `keyof Events`. */
export const EVENT_CHANNELS = ['jobs:did-change'] as const satisfies readonly EventChannel[];

/** The API the renderer calls: `window.studio` in Electron, a WebSocket client in a browser. */
export interface StudioApi {
  invoke<C extends RequestChannel>(channel: C, ...params: RequestParams<C>): Promise<Result<RequestResult<C>>>;
  /** Subscribe to an event; returns a function that unsubscribes. */
  on<E extends EventChannel>(event: E, listener: (payload: Events[E]) => void): () => void;
}

export function isRequestChannel(value: unknown): value is RequestChannel {
  return typeof value === 'string' && (REQUEST_CHANNELS as readonly string[]).includes(value);
}
