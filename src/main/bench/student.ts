// Benchmark of the default student: one training step (batch 8) and batch-1 CPU inference in ORT, against the same UNet in PyTorch.
import * as ort from 'onnxruntime-node';
import { DEFAULT_STUDENT, DEFAULT_TRAIN_PARAMS } from '../../shared/student/config.ts';
import type { StudentTrainParams } from '../../shared/student/types.ts';
import { createSession, median } from '../engine/runtime/index.ts';
import { Trainer } from '../engine/train/index.ts';
import { describeStudent, STUDENT_INPUT, STUDENT_OUTPUT, studentForwardModel } from '../student/model.ts';
import { compileStudentProgram, TARGET_INPUT } from '../student/train.ts';
import { alternateRounds, timeSteps, TorchTwin } from './torch-twin.ts';

/** Options of {@link runStudentBench}. */
export interface StudentBenchOptions {
  /** Measured training steps per runtime (median reported); default 8, in rounds alternating ORT and PyTorch. */
  steps?: number | undefined;
  /** Measured inference frames per runtime; default 40. */
  frames?: number | undefined;
  /** Intra-op threads for both runtimes; default 2. */
  threads?: number | undefined;
}

/** Deterministic uniform [0, 1) data (an LCG; the numbers only need to be reproducible). */
function uniform(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

/** Alternations of ORT and PyTorch: many short rounds, so that a shared host's changing load hits both alike. */
const ROUNDS = 8;

/**
 * Times the default student (256², width 1, batch 8, the default loss and AdamW with clipping) training in ORT on
 * CPU, then its exported forward model at batch 1, and — where /usr/bin/python3 has torch — the same network, loss
 * and optimizer in bench/torch/student.py. Ratios are ORT / PyTorch (lower is better).
 */
export async function runStudentBench(opts: StudentBenchOptions = {}): Promise<Record<string, unknown>> {
  const steps = opts.steps ?? 8;
  const frames = opts.frames ?? 40;
  const threads = opts.threads ?? 2;
  const warmup = 2;
  const params: StudentTrainParams = { ...DEFAULT_TRAIN_PARAMS, datasetId: 0 };
  const cfg = params.student;
  const description = describeStudent(cfg, params.batch);
  const torchArgs = (mode: string, batch: number): string[] => [
    '--mode', mode, '--config', JSON.stringify(cfg), '--batch', String(batch), '--lr', String(params.lr),
    '--weight-decay', String(params.weightDecay), '--clip', String(params.clipGradNorm), '--ms-weight', String(params.multiScaleWeight),
    '--warmup', String(warmup),
  ];

  // Training: the job's own program (student + loss + AdamW + clipping) in one session.run per step.
  const trainer = await Trainer.create(compileStudentProgram(params), { session: { providers: ['cpu'], threads } });
  const n = params.batch * 3 * cfg.size * cfg.size;
  const batch = { [STUDENT_INPUT]: uniform(1, n), [TARGET_INPUT]: uniform(2, n) };
  const ortStep = async (): Promise<number> => (await trainer.step(batch, params.lr)).ms;
  for (let i = 0; i < warmup; i++) await ortStep();
  const perRound = Math.max(1, Math.ceil(steps / ROUNDS));
  const trainTwin = await TorchTwin.start('student.py', torchArgs('train', params.batch), threads);
  const trained = trainTwin instanceof TorchTwin ? await alternateRounds(ROUNDS, perRound, ortStep, trainTwin).finally(() => trainTwin.close()) : null;
  const trainMs = trained?.ort ?? (await timeSteps(ROUNDS * perRound, ortStep));
  const weights = await trainer.weights();
  const provider = trainer.session.provider;
  await trainer.release();

  // Inference: the deployable forward model (weights as initializers), batch 1.
  const session = await createSession(studentForwardModel(cfg, weights, 1), { providers: ['cpu'], threads });
  const frame = new ort.Tensor('float32', uniform(3, 3 * cfg.size * cfg.size), [1, 3, cfg.size, cfg.size]);
  const ortFrame = async (): Promise<number> => {
    const t0 = performance.now();
    await session.run({ [STUDENT_INPUT]: frame }, [STUDENT_OUTPUT]);
    return performance.now() - t0;
  };
  for (let i = 0; i < 3; i++) await ortFrame();
  const perFrameRound = Math.max(1, Math.ceil(frames / ROUNDS));
  const inferTwin = await TorchTwin.start('student.py', torchArgs('infer', 1), threads);
  const inferred = inferTwin instanceof TorchTwin ? await alternateRounds(ROUNDS, perFrameRound, ortFrame, inferTwin).finally(() => inferTwin.close()) : null;
  const inferMs = inferred?.ort ?? (await timeSteps(ROUNDS * perFrameRound, ortFrame));
  await session.release();

  const result: Record<string, unknown> = {
    benchmark: 'student',
    provider,
    threads,
    student: { ...DEFAULT_STUDENT, ...cfg },
    batch: params.batch,
    parameters: description.parameters,
    macs: description.macs,
    training_bytes_estimate: description.trainingBytes,
    train_steps: trainMs.length,
    ms_per_step: median(trainMs),
    ms_per_step_min: Math.min(...trainMs),
    inference_frames: inferMs.length,
    ms_per_frame: median(inferMs),
    ms_per_frame_min: Math.min(...inferMs),
  };
  if (trained !== null && trainTwin instanceof TorchTwin) {
    result.torch_version = trainTwin.info['torch_version'];
    // Same architecture on both sides: the parameter counts must agree.
    result.torch_params = trainTwin.info['params'];
    result.torch_ms_per_step = median(trained.torch);
    result.train_ratio = (result.ms_per_step as number) / (result.torch_ms_per_step as number);
  } else {
    result.torch_ms_per_step = null;
    result.train_ratio = null;
    result.torch_note = (trainTwin as { note: string }).note;
  }
  if (inferred !== null) {
    result.torch_ms_per_frame = median(inferred.torch);
    result.inference_ratio = (result.ms_per_frame as number) / (result.torch_ms_per_frame as number);
  } else {
    result.torch_ms_per_frame = null;
    result.inference_ratio = null;
  }
  return result;
}
