// ONNX Runtime Web in the renderer: WebGPU where the browser has an adapter, else WASM with SIMD and threads.
import type * as Ort from 'onnxruntime-web';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import blazeFaceUrl from '../../../../resources/models/blazeface/face_detection_front_128x128.onnx?url';
import { BLAZEFACE } from '../../../shared/faces/blazeface.ts';
import { adaptStudentIo, type BlazeFaceOutputs, type RunDetector, type StudentIo, type StudentRunner } from '../../../shared/live/pipeline.ts';

/** The execution provider a renderer session runs on. */
export type WebProvider = 'webgpu' | 'wasm';

/** What the renderer's runtime runs on, as the HUD reports it. */
export interface WebRuntime {
  provider: WebProvider;
  /** WASM threads (1 when the page is not cross-origin isolated, which disables SharedArrayBuffer). */
  threads: number;
  /** Why WebGPU is not used, when it is not. */
  webgpuReason: string | null;
}

let runtime: Promise<WebRuntime> | null = null;

/**
 * ONNX Runtime Web, loaded on first use as its own chunk: its WASM threads start workers from that chunk's URL, so
 * the chunk must hold nothing but the runtime (a worker loading the app's bundle would try to mount the UI).
 */
const loadOrt = (): Promise<typeof Ort> => import('onnxruntime-web');

/** Configures ONNX Runtime Web once and picks the provider: WebGPU when an adapter exists, else WASM. */
export function webRuntime(): Promise<WebRuntime> {
  runtime ??= (async () => {
    const ort = await loadOrt();
    ort.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, window.location.href).href };
    const threads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
    ort.env.wasm.numThreads = threads;
    ort.env.logLevel = 'error';
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    let webgpuReason: string | null = null;
    if (gpu === undefined) webgpuReason = 'this browser has no WebGPU';
    else if ((await gpu.requestAdapter().catch(() => null)) === null) webgpuReason = 'no WebGPU adapter';
    return { provider: webgpuReason === null ? 'webgpu' : 'wasm', threads, webgpuReason };
  })();
  return runtime;
}

async function createSession(model: string | Uint8Array, provider: WebProvider): Promise<Ort.InferenceSession> {
  const ort = await loadOrt();
  // Severity 3 (errors only): the vendored BlazeFace carries unused initializers ORT would warn about on every load.
  const options: Ort.InferenceSession.SessionOptions = { executionProviders: [provider], graphOptimizationLevel: 'all', logSeverityLevel: 3 };
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

/** A loaded model and the call the live pipeline makes. */
export interface WebModel<R> {
  run: R;
  release(): Promise<void>;
}

/** BlazeFace (the app's vendored front model) on the chosen provider, CPU-side outputs for the shared decoder. */
export async function webDetector(provider: WebProvider): Promise<WebModel<RunDetector>> {
  // A 128² detector gains nothing from a GPU round trip; it stays on WASM next to a WebGPU student.
  const session = await createSession(blazeFaceUrl, provider === 'webgpu' ? 'wasm' : provider);
  const ort = await loadOrt();
  const size = BLAZEFACE.inputSize;
  const run: RunDetector = async (input) => {
    const out = await session.run({ [BLAZEFACE.inputName]: new ort.Tensor('float32', input, [1, size, size, 3]) });
    const get = (name: string): Float32Array => {
      const t = out[name];
      if (t === undefined) throw new Error(`BlazeFace: the model has no output ${name}`);
      return t.data as Float32Array;
    };
    const result: BlazeFaceOutputs = {
      scores: [get(BLAZEFACE.scoreNames[0]), get(BLAZEFACE.scoreNames[1])],
      regressors: [get(BLAZEFACE.regressorNames[0]), get(BLAZEFACE.regressorNames[1])],
    };
    return result;
  };
  return { run, release: () => session.release() };
}

/** A student model (ONNX bytes, `[1, 3, size, size]` in and out) on the chosen provider. */
export async function webStudent(
  bytes: Uint8Array,
  io: StudentIo & { size: number; inputName: string; outputName: string },
  provider: WebProvider,
): Promise<WebModel<StudentRunner>> {
  const session = await createSession(bytes, provider);
  const ort = await loadOrt();
  const runner: StudentRunner = {
    size: io.size,
    run: adaptStudentIo(async (input) => {
      const out = await session.run({ [io.inputName]: new ort.Tensor('float32', input, [1, 3, io.size, io.size]) });
      const t = out[io.outputName];
      if (t === undefined) throw new Error(`the student has no output ${io.outputName}`);
      return (await t.getData()) as Float32Array;
    }, io),
  };
  return { run: runner, release: () => session.release() };
}
