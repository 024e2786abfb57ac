// Device check: runs a small conv/matmul model on every provider this platform could have and reports what works.
import * as ort from 'onnxruntime-node';
import type { DeviceReport, ProviderName, ProviderReport } from '../../../shared/contract.ts';
import { buildProbeModel, PROBE_INPUT, PROBE_INPUT_SHAPE } from './probe-model.ts';
import { platformProviders } from './providers.ts';
import { createSession, median, NoProviderError } from './session.ts';

/** Options of `probeProviders`. */
export interface ProbeOptions {
  /** Providers to probe; default: every provider this platform could have. */
  providers?: readonly ProviderName[];
  /** Timed runs per provider (after one warm-up run); default 5. */
  runs?: number;
  /** Called before and after each provider: `step` of `total` done. */
  onProgress?: (step: number, total: number, message: string) => void;
  /** Aborts between runs; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Probes each provider by creating a session for a small conv + matmul model and timing a few runs on it.
 * `preferred` is the best provider (in platform preference order) that ran; CPU when nothing better works.
 */
export async function probeProviders(options: ProbeOptions = {}): Promise<DeviceReport> {
  const names = options.providers ?? platformProviders();
  const runs = options.runs ?? 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`probeProviders: runs must be a positive integer, got ${runs}`);
  const { signal, onProgress } = options;
  const model = buildProbeModel();
  const size = PROBE_INPUT_SHAPE.reduce((a, b) => a * b, 1);
  const input = new ort.Tensor('float32', Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37)), [...PROBE_INPUT_SHAPE]);

  const reports: ProviderReport[] = [];
  for (const [index, name] of names.entries()) {
    signal?.throwIfAborted();
    onProgress?.(index, names.length, `probing ${name}`);
    reports.push(await probeOne(name, model, input, runs, signal));
    const last = reports[reports.length - 1]!;
    onProgress?.(
      index + 1,
      names.length,
      last.available ? `${name}: ${last.ms?.toFixed(2)} ms` : `${name}: not available (${last.reason ?? 'unknown'})`,
    );
  }
  const order = platformProviders();
  const working = reports.filter((r) => r.available).map((r) => r.name);
  const preferred = [...order, ...working].find((n) => working.includes(n)) ?? 'cpu';
  return { providers: reports, preferred, platform: `${process.platform}/${process.arch}`, checkedAt: new Date().toISOString() };
}

async function probeOne(
  name: ProviderName,
  model: Uint8Array,
  input: ort.Tensor,
  runs: number,
  signal: AbortSignal | undefined,
): Promise<ProviderReport> {
  let session;
  try {
    session = await createSession(model, { providers: [name], shareCores: true });
  } catch (error) {
    const reason = error instanceof NoProviderError ? error.skipped[0]?.reason : undefined;
    return { name, available: false, reason: reason ?? (error instanceof Error ? error.message : String(error)), ms: null };
  }
  try {
    const times: number[] = [];
    for (let i = 0; i <= runs; i++) {
      signal?.throwIfAborted();
      const start = performance.now();
      await session.run({ [PROBE_INPUT]: input });
      if (i > 0) times.push(performance.now() - start);
    }
    return { name, available: true, reason: null, ms: median(times) };
  } catch (error) {
    if (signal?.aborted) throw error;
    return { name, available: false, reason: `the probe model failed to run: ${error instanceof Error ? error.message : String(error)}`, ms: null };
  } finally {
    await session.release();
  }
}
