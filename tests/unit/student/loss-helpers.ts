// Shared pieces of the perceptual and adversarial loss tests: tiny settings, a training environment, ORT helpers.
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DEFAULT_TRAIN_PARAMS } from '../../../src/shared/student/config.ts';
import type { StudentConfig, StudentTrainParams } from '../../../src/shared/student/types.ts';
import type { TrainEnvironment, TrainResumeState } from '../../../src/main/student/train.ts';
import type { makeWorkspace } from '../datasets/helpers.ts';

/** The smallest student: 64², width 0.25. */
export const TINY: StudentConfig = { size: 64, width: 0.25, activation: 'relu6', residualScale: 0.5 };

/** Training settings sized for a CPU test: batch 2, a handful of steps, no augmentation. */
export function tinyParams(datasetId: number, overrides: Partial<StudentTrainParams> = {}): StudentTrainParams {
  return {
    ...DEFAULT_TRAIN_PARAMS,
    datasetId,
    student: TINY,
    steps: 4,
    batch: 2,
    lr: 2e-3,
    warmupSteps: 0,
    validateEvery: 100,
    checkpointEvery: 100,
    earlyStopPatience: 0,
    validationItems: 2,
    augment: { flip: false, jitter: 0, occluders: 0 },
    ...overrides,
  };
}

/** A training environment over a test workspace; `onStep` sees every progress report. */
export function trainEnv(
  ws: ReturnType<typeof makeWorkspace>,
  jobId: string,
  options: { signal?: AbortSignal; resumeFrom?: TrainResumeState | null; onStep?: (step: number) => void; saved?: TrainResumeState[] } = {},
): TrainEnvironment {
  return {
    db: ws.db,
    blobs: ws.blobs,
    tempDir: join(ws.dir, 'tmp'),
    jobId,
    signal: options.signal ?? new AbortController().signal,
    resumeFrom: options.resumeFrom ?? null,
    progress: (step) => options.onStep?.(step),
    saveCheckpoint: (state) => options.saved?.push(state),
    providers: ['cpu'],
    threads: 1,
  };
}

/** Runs an ONNX file on one float32 input and returns every output. */
export async function runOnnx(bytes: Uint8Array, x: Float32Array, dims: readonly number[]): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, [...dims]) });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Float32Array.from(v.data as Float32Array)]));
  } finally {
    await session.release();
  }
}
