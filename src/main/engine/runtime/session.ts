// The studio's one ONNX Runtime session factory: explicit provider fallback with reasons, thread settings, run timings.
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ProviderName } from '../../../shared/contract.ts';
import { describeProviderError, platformProviders, unavailableReason } from './providers.ts';

/** A provider that was passed over while creating a session, and why. */
export interface SkippedProvider {
  name: ProviderName;
  reason: string;
}

/** Options of `createSession`. */
export interface CreateSessionOptions {
  /** Providers to try, best first; default: this platform's preference order (CUDA, DirectML, CoreML, WebGPU, CPU). */
  providers?: readonly ProviderName[];
  /** Intra-op threads; default: ORT's choice (one per physical core). */
  threads?: number;
  /**
   * Set when several sessions run at once on the same cores: their thread pools then sleep instead of spinning,
   * which otherwise slows every session down 3–5× on small machines.
   */
  shareCores?: boolean;
  /** ORT graph optimisation level; default 'all'. */
  graphOptimizationLevel?: ort.InferenceSession.SessionOptions['graphOptimizationLevel'];
  /** Where outputs live; GPU providers can keep them on the device. Default: CPU. */
  preferredOutputLocation?: ort.InferenceSession.SessionOptions['preferredOutputLocation'];
  /** ORT's own profiler: writes `<profilePrefix>_<date>.json` (a Chrome trace) when `endProfiling()` is called. */
  profilePrefix?: string;
  /** ORT log severity (0 verbose … 4 fatal); default ORT's (2, warnings). */
  logSeverityLevel?: ort.InferenceSession.SessionOptions['logSeverityLevel'];
  /** Called after every run with its wall time in milliseconds. */
  onRun?: (ms: number) => void;
}

/** Wall-time statistics of a session's runs so far. */
export interface RunTimings {
  runs: number;
  lastMs: number | null;
  /** Median over the most recent runs (up to `TIMING_WINDOW`). */
  medianMs: number | null;
  totalMs: number;
}

/** How many recent run times `timings().medianMs` looks at. */
export const TIMING_WINDOW = 256;

/** Feeds of one run: input name → tensor. */
export type Feeds = Record<string, ort.Tensor>;
/** Results of one run: output name → tensor. */
export type Fetched = Record<string, ort.Tensor>;

/** Thrown when no provider in the preference list could create the session. */
export class NoProviderError extends Error {
  constructor(readonly skipped: readonly SkippedProvider[]) {
    super(`no execution provider could load the model: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
    this.name = 'NoProviderError';
  }
}

/** Median of a non-empty list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** An ONNX Runtime session together with the provider it actually runs on and the time its runs take. */
export class Session {
  readonly #inner: ort.InferenceSession;
  readonly #onRun: ((ms: number) => void) | undefined;
  readonly #profilePrefix: string | undefined;
  readonly #recent: number[] = [];
  #runs = 0;
  #lastMs: number | null = null;
  #totalMs = 0;

  /** Use `createSession`. */
  constructor(
    inner: ort.InferenceSession,
    /** The provider the session was created with. */
    readonly provider: ProviderName,
    /** Providers tried (or ruled out) before `provider`, each with its reason. */
    readonly skipped: readonly SkippedProvider[],
    /** Intra-op threads asked for (null: ORT's default). */
    readonly threads: number | null,
    options: Pick<CreateSessionOptions, 'onRun' | 'profilePrefix'>,
  ) {
    this.#inner = inner;
    this.#onRun = options.onRun;
    this.#profilePrefix = options.profilePrefix;
  }

  /** The model's input names, in model order. */
  get inputNames(): readonly string[] {
    return this.#inner.inputNames;
  }

  /** The model's output names, in model order. */
  get outputNames(): readonly string[] {
    return this.#inner.outputNames;
  }

  /**
   * Runs the model once (blocking this thread while ORT computes: call it from a worker, never Electron's main thread).
   * `outputs` limits which outputs are computed; default all.
   */
  async run(feeds: Feeds, outputs?: readonly string[]): Promise<Fetched> {
    const start = performance.now();
    const result = outputs === undefined ? await this.#inner.run(feeds) : await this.#inner.run(feeds, [...outputs]);
    const ms = performance.now() - start;
    this.#runs += 1;
    this.#lastMs = ms;
    this.#totalMs += ms;
    this.#recent.push(ms);
    if (this.#recent.length > TIMING_WINDOW) this.#recent.shift();
    this.#onRun?.(ms);
    return result as Fetched;
  }

  /** Wall-time statistics of the runs so far. */
  timings(): RunTimings {
    return {
      runs: this.#runs,
      lastMs: this.#lastMs,
      medianMs: this.#recent.length > 0 ? median(this.#recent) : null,
      totalMs: this.#totalMs,
    };
  }

  /**
   * Stops ORT's profiler and returns the path of the trace it wrote.
   * Only valid on a session created with `profilePrefix`.
   */
  endProfiling(): string {
    const prefix = this.#profilePrefix;
    if (prefix === undefined) throw new Error('endProfiling: this session was created without profilePrefix');
    const before = Date.now();
    this.#inner.endProfiling();
    // The binding does not return the file name ORT chose (<prefix>_<timestamp>.json): take the newest match.
    const dir = dirname(resolve(prefix));
    const stem = basename(prefix);
    const candidates = readdirSync(dir)
      .filter((f) => f.startsWith(`${stem}_`) && f.endsWith('.json'))
      .map((f) => ({ path: join(dir, f), mtime: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    const newest = candidates[0];
    if (newest === undefined || newest.mtime < before - 60_000) {
      throw new Error(`endProfiling: ORT wrote no trace named ${prefix}_*.json`);
    }
    return newest.path;
  }

  /** Frees the native session; the object must not be used afterwards. */
  async release(): Promise<void> {
    await this.#inner.release();
  }
}

/**
 * Creates a session on the best provider that works, trying each in `providers` order explicitly — onnxruntime-node
 * does not fall back by itself (a `['webgpu', 'cpu']` session throws when there is no WebGPU adapter) — and
 * recording why each better provider was skipped.
 *
 * @example
 * const s = await createSession(bytes, { providers: ['webgpu', 'cpu'], threads: 2 });
 * s.provider;  // 'cpu'
 * s.skipped;   // [{ name: 'webgpu', reason: 'no adapter (Failed to get a WebGPU adapter: ...)' }]
 */
export async function createSession(model: Uint8Array | string, options: CreateSessionOptions = {}): Promise<Session> {
  const order = options.providers ?? platformProviders();
  if (order.length === 0) throw new Error('createSession: the provider list is empty');
  const threads = options.threads ?? null;
  if (threads !== null && (!Number.isInteger(threads) || threads < 1)) {
    throw new Error(`createSession: threads must be a positive integer, got ${threads}`);
  }
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
  };
  if (threads !== null) base.intraOpNumThreads = threads;
  if (options.shareCores === true) base.extra = { session: { intra_op: { allow_spinning: '0' } } };
  if (options.preferredOutputLocation !== undefined) base.preferredOutputLocation = options.preferredOutputLocation;
  if (options.logSeverityLevel !== undefined) base.logSeverityLevel = options.logSeverityLevel;
  if (options.profilePrefix !== undefined) {
    base.enableProfiling = true;
    base.profileFilePrefix = options.profilePrefix;
  }

  const skipped: SkippedProvider[] = [];
  for (const name of order) {
    const reason = unavailableReason(name);
    if (reason !== null) {
      skipped.push({ name, reason });
      continue;
    }
    try {
      const sessionOptions = { ...base, executionProviders: [name] };
      const inner =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model, sessionOptions);
      return new Session(inner, name, skipped, threads, options);
    } catch (error) {
      skipped.push({ name, reason: describeProviderError(error) });
    }
  }
  throw new NoProviderError(skipped);
}
