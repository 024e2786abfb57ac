// Trains a student on a pairs dataset: schedule, validation with previews, checkpoints in the blob store, resume, early stop.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { ProviderName } from '../../shared/contract.ts';
import { TRAIN_LIMITS } from '../../shared/student/config.ts';
import type { StudentTrainParams, StudentTrainResult } from '../../shared/student/types.ts';
import type { BlobStore } from '../core/blob-store.ts';
import type { Database } from '../core/db/database.ts';
import { DatasetStore } from '../datasets/store.ts';
import type { Graph, OnnxModelFile, Tensor } from '../engine/graph/index.ts';
import { l1Loss, lsganGeneratorLoss, multiScaleL1Loss } from '../engine/losses/index.ts';
import { compileTrainProgram, Trainer, type TrainProgram } from '../engine/train/index.ts';
import { compileDiscriminatorProgram, DISCRIMINATOR_PREFIX, discriminatorScores, FAKE_INPUT, REAL_INPUT, validateAdversarialParams } from './adversarial.ts';
import { BatchQueue, checkPairs, listPairs, PairSampler, type PairBatch, type PairRef } from './data.ts';
import { imageMetrics, type ImageMetrics } from './metrics.ts';
import { buildStudentGraph, STUDENT_INPUT, STUDENT_OUTPUT, StudentConfigError, validateStudentConfig } from './model.ts';
import { loadFeatureNetwork, perceptualDistance, validatePerceptualParams } from './perceptual.ts';
import { RunStore } from './runs.ts';

/** Name of the training graph's target input. */
export const TARGET_INPUT = 'target';
/** Validation frames shown in each preview strip. */
export const PREVIEW_FRAMES = 4;

/** What a resumed run continues from: the checkpoint blob saved at `step`. */
export interface TrainResumeState {
  runId: number;
  step: number;
  sha: string;
}

/** Where training reads and writes, and how it reports (a job's context, or a test's stand-ins). */
export interface TrainEnvironment {
  db: Database;
  blobs: BlobStore;
  /** Folder for temporary checkpoint files (removed after they are stored as blobs). */
  tempDir: string;
  jobId: string;
  signal: AbortSignal;
  /** The state the job saved last (or null); the run's newest stored checkpoint is used when it is newer. */
  resumeFrom: TrainResumeState | null;
  progress(step: number, total: number, message: string): void;
  saveCheckpoint(state: TrainResumeState): void;
  /** Providers to try, best first (default: the platform's order). */
  providers?: readonly ProviderName[];
  /** Intra-op threads of the training session. */
  threads?: number;
}

/** Checks every training setting; throws {@link StudentConfigError} naming the first value out of range. */
export function validateTrainParams(p: StudentTrainParams): StudentTrainParams {
  validateStudentConfig(p.student);
  const check = (name: keyof typeof TRAIN_LIMITS, value: number, integer: boolean): void => {
    const { min, max } = TRAIN_LIMITS[name];
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      throw new StudentConfigError(`${name} ${value} must be ${integer ? 'an integer ' : ''}from ${min} to ${max}`);
    }
  };
  for (const k of ['steps', 'batch', 'warmupSteps', 'validateEvery', 'checkpointEvery', 'earlyStopPatience', 'validationItems', 'seed'] as const) check(k, p[k], true);
  for (const k of ['lr', 'weightDecay', 'clipGradNorm', 'multiScaleWeight'] as const) check(k, p[k], false);
  check('jitter', p.augment.jitter, false);
  check('occluders', p.augment.occluders, false);
  if (p.optimizer !== 'adam' && p.optimizer !== 'adamw') throw new StudentConfigError(`optimizer ${JSON.stringify(p.optimizer)} must be "adam" or "adamw"`);
  if (p.perceptual) validatePerceptualParams(p.perceptual);
  if (p.adversarial) validateAdversarialParams(p.adversarial);
  return p;
}

/** Linear warm-up to `peak` over `warmup` steps, then cosine decay to 1% of the peak at `total` (step counts from 1). */
export function learningRate(step: number, total: number, warmup: number, peak: number): number {
  if (warmup > 0 && step <= warmup) return (peak * step) / warmup;
  const span = Math.max(1, total - warmup);
  const t = Math.min(1, Math.max(0, (step - warmup) / span));
  const floor = 0.01 * peak;
  return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * t));
}

/**
 * The student's loss on `g`: L1, plus weighted multi-scale L1, perceptual distance through the frozen
 * `featureNetwork` and the least-squares adversarial term through the (frozen, `disc.*`) discriminator, each
 * enabled by its setting; returns the total and every term by the name it is logged under.
 */
export function studentLoss(
  g: Graph,
  p: StudentTrainParams,
  parts: { input: Tensor; output: Tensor; target: Tensor; featureNetwork?: OnnxModelFile },
): { loss: Tensor; terms: Record<string, Tensor> } {
  const { input, output, target } = parts;
  const l1 = l1Loss(g, output, target);
  const terms: Record<string, Tensor> = { l1 };
  let loss = l1;
  if (p.multiScaleWeight > 0) {
    const ms = multiScaleL1Loss(g, output, target, { weights: [0, 1, 1] });
    terms.ms_l1 = ms;
    loss = g.add(loss, g.mul(ms, p.multiScaleWeight));
  }
  if (p.perceptual) {
    if (!parts.featureNetwork) throw new StudentConfigError('the perceptual loss needs its feature network');
    const perceptual = perceptualDistance(g, parts.featureNetwork, p.perceptual, output, target);
    terms.perceptual = perceptual;
    loss = g.add(loss, g.mul(perceptual, p.perceptual.weight));
  }
  if (p.adversarial) {
    const adv = lsganGeneratorLoss(g, discriminatorScores(g, input, output, p.adversarial.discriminatorWidth), 'adv');
    terms.adv = adv;
    loss = g.add(loss, g.mul(adv, p.adversarial.weight));
  }
  return { loss, terms };
}

/**
 * The student, its loss (see {@link studentLoss}; each term logged) and optimizer compiled into one training step.
 * With the adversarial term the discriminator's weights are frozen inputs of this program (its own program trains
 * them) and every step also returns the student's output, the fake of the discriminator's step.
 */
export function compileStudentProgram(p: StudentTrainParams, extras: { featureNetwork?: OnnxModelFile } = {}): TrainProgram {
  const { graph: g, input, output } = buildStudentGraph(p.student, { batch: p.batch, seed: p.seed });
  const target = g.input(TARGET_INPUT, 'float32', output.shape);
  const { loss, terms } = studentLoss(g, p, { input, output, target, ...extras });
  return compileTrainProgram({
    graph: g,
    loss,
    terms,
    forwardOutputs: [STUDENT_OUTPUT],
    optimizer: p.optimizer === 'adamw' ? { kind: 'adamw', weightDecay: p.weightDecay } : { kind: 'adam', weightDecay: p.weightDecay },
    ...(p.clipGradNorm > 0 ? { clipGradNorm: p.clipGradNorm } : {}),
    ...(p.adversarial
      ? { trainable: g.params.filter((q) => !q.name.startsWith(DISCRIMINATOR_PREFIX)).map((q) => q.name), fetch: [STUDENT_OUTPUT] }
      : {}),
  });
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** Runs the student over validation frames in chunks of the training batch (the last chunk padded by repetition). */
async function predictAll(trainer: Trainer, batchSize: number, frames: PairBatch, plane: number): Promise<Float32Array> {
  const n = frames.itemIds.length;
  const out = new Float32Array(n * plane);
  for (let start = 0; start < n; start += batchSize) {
    const chunk = new Float32Array(batchSize * plane);
    for (let i = 0; i < batchSize; i++) chunk.set(frames.input.subarray(((start + i) % n) * plane, ((start + i) % n + 1) * plane), i * plane);
    const res = await trainer.predict({ [STUDENT_INPUT]: chunk });
    const y = (await res[STUDENT_OUTPUT]!.getData()) as Float32Array;
    const count = Math.min(batchSize, n - start);
    out.set(y.subarray(0, count * plane), start * plane);
  }
  return out;
}

/** A PNG strip: one row per frame, input | target | student. */
async function previewPng(frames: PairBatch, pred: Float32Array, size: number, count: number): Promise<Buffer> {
  const plane = size * size;
  const width = 3 * size;
  const rgb = Buffer.alloc(count * size * width * 3);
  const sources = [frames.input, frames.target, pred];
  for (let f = 0; f < count; f++) {
    for (let col = 0; col < 3; col++) {
      const src = sources[col]!;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const dst = ((f * size + y) * width + col * size + x) * 3;
          for (let c = 0; c < 3; c++) rgb[dst + c] = Math.round(Math.min(1, Math.max(0, src[(f * 3 + c) * plane + y * size + x]!)) * 255);
        }
      }
    }
  }
  return sharp(rgb, { raw: { width, height: count * size, channels: 3 } }).png().toBuffer();
}

/**
 * Trains (or resumes) a student run. Every problem with the settings or the dataset is reported before the first
 * step; cancellation through `env.signal` stops between steps and marks the run cancelled.
 */
export async function trainStudent(params: StudentTrainParams, env: TrainEnvironment): Promise<StudentTrainResult> {
  const p = validateTrainParams(params);
  const size = p.student.size;
  const plane = 3 * size * size;
  const store = new DatasetStore(env.db, env.blobs);
  const split = listPairs(store, p.datasetId);
  const validation = split.validation.slice(0, p.validationItems);
  await checkPairs(env.blobs, [...split.train, ...validation], size, env.signal);

  const runs = new RunStore(env.db);
  const run = runs.runForJob(env.jobId, p);
  const featureNetwork = p.perceptual ? await loadFeatureNetwork(env.blobs, p.perceptual) : undefined;
  const program = compileStudentProgram(p, featureNetwork ? { featureNetwork } : {});
  const discProgram = p.adversarial ? compileDiscriminatorProgram(p, p.adversarial) : null;
  const sessionOptions = { ...(env.providers ? { providers: env.providers } : {}), ...(env.threads ? { threads: env.threads } : {}) };
  await mkdir(env.tempDir, { recursive: true });

  let trainer: Trainer;
  // The discriminator steps in alternation with the student and is checkpointed in the same file.
  let disc: Trainer | null = null;
  // The run's newest stored checkpoint wins: the job's saved state may lag it when the worker was killed in between.
  const stored = runs.lastCheckpoint(run.id);
  const resume: TrainResumeState | null =
    stored && (env.resumeFrom === null || stored.step >= env.resumeFrom.step) ? { runId: run.id, step: stored.step, sha: stored.sha } : env.resumeFrom;
  if (resume) {
    const path = join(env.tempDir, `resume-${randomUUID()}.safetensors`);
    await writeFile(path, await env.blobs.read(resume.sha));
    try {
      const resumed = await Trainer.resume(program, path, { session: sessionOptions, companions: discProgram ? [discProgram] : [] });
      trainer = resumed.trainer;
      if (discProgram) disc = await Trainer.restore(discProgram, resumed.checkpoint, { session: sessionOptions });
    } finally {
      await rm(path, { force: true });
    }
    runs.truncateAfter(run.id, resume.step);
  } else {
    trainer = await Trainer.create(program, { session: sessionOptions });
    if (discProgram) disc = await Trainer.create(discProgram, { session: sessionOptions });
    // A first attempt killed before its first checkpoint left metrics of steps that are now redone.
    runs.truncateAfter(run.id, 0);
  }
  if (disc) trainer.setFrozenParams(await disc.weights());
  const provider = trainer.session.provider;
  runs.setStatus(run.id, 'running', provider);

  const sampler = new PairSampler(env.blobs, { size, batch: p.batch, augment: p.augment, seed: p.seed });
  const validationFrames = await sampler.validationBatch(validation);
  const previewCount = Math.min(PREVIEW_FRAMES, validation.length);
  const history = runs.get(run.id).metrics['validation/psnr'] ?? [];
  let best: StudentTrainResult['best'] = null;
  let sinceBest = 0;
  for (const point of history) {
    if (best === null || point.value > best.psnr) {
      best = { step: point.step, psnr: point.value, l1: Number.NaN, ssim: Number.NaN };
      sinceBest = 0;
    } else sinceBest++;
  }

  let lastCheckpoint: TrainResumeState | null = resume;
  const checkpoint = async (step: number): Promise<void> => {
    const path = join(env.tempDir, `student-${run.id}-${step}-${randomUUID()}.safetensors`);
    try {
      await trainer.saveCheckpoint(path, { run: run.id, params: p }, disc ? [disc] : []);
      const blob = await env.blobs.putFile(path, 'student-checkpoint');
      runs.addCheckpoint(run.id, step, blob.sha256, blob.size, (sha) => env.blobs.release(sha));
      lastCheckpoint = { runId: run.id, step, sha: blob.sha256 };
      env.saveCheckpoint(lastCheckpoint);
    } finally {
      await rm(path, { force: true });
    }
  };
  const validate = async (step: number): Promise<ImageMetrics> => {
    const pred = await predictAll(trainer, p.batch, validationFrames, plane);
    const n = validation.length;
    const metrics = imageMetrics({ data: pred, n, channels: 3, height: size, width: size }, { data: validationFrames.target, n, channels: 3, height: size, width: size });
    runs.recordMetrics(run.id, 'validation', step, { l1: metrics.l1, psnr: metrics.psnr, ssim: metrics.ssim });
    const png = await previewPng(validationFrames, pred, size, previewCount);
    const blob = await env.blobs.put(png, 'student-preview');
    runs.addPreview(run.id, step, blob.sha256, (sha) => env.blobs.release(sha));
    return metrics;
  };

  const queue = new BatchQueue(sampler, split.train, trainer.stepsDone);
  const started = performance.now();
  const firstStep = trainer.stepsDone + 1;
  let stoppedEarly = false;
  try {
    for (let step = firstStep; step <= p.steps; step++) {
      env.signal.throwIfAborted();
      const batch = await queue.take();
      const lr = learningRate(step, p.steps, p.warmupSteps, p.lr);
      const res = await trainer.step({ [STUDENT_INPUT]: batch.input, [TARGET_INPUT]: batch.target }, lr);
      if (disc) {
        // The discriminator learns from this step's output at the same learning rate; the student's next step sees its new weights.
        const d = await disc.step({ [STUDENT_INPUT]: batch.input, [REAL_INPUT]: batch.target, [FAKE_INPUT]: res.fetched[STUDENT_OUTPUT]! }, lr);
        trainer.setFrozenParams(await disc.weights());
        Object.assign(res.terms, { d_loss: d.loss, ...d.terms });
      }
      const seconds = (performance.now() - started) / 1000;
      const done = step - firstStep + 1;
      const imagesPerSecond = (done * p.batch) / seconds;
      runs.recordMetrics(run.id, 'train', step, {
        loss: res.loss,
        ...res.terms,
        lr,
        ...(res.gradNorm === null ? {} : { grad_norm: res.gradNorm }),
        images_per_second: imagesPerSecond,
      });
      const eta = ((p.steps - step) * seconds) / done;
      const terms = Object.entries(res.terms).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ');
      env.progress(step, p.steps, `loss ${res.loss.toFixed(4)} (${terms}) · ${imagesPerSecond.toFixed(1)} img/s · ETA ${formatEta(eta)} · ${provider}`);

      const last = step === p.steps;
      if (step % p.validateEvery === 0 || last) {
        const m = await validate(step);
        if (best === null || m.psnr > best.psnr) {
          best = { step, ...m };
          sinceBest = 0;
        } else sinceBest++;
        if (p.earlyStopPatience > 0 && sinceBest >= p.earlyStopPatience && !last) stoppedEarly = true;
      }
      if (step % p.checkpointEvery === 0 || last || stoppedEarly) await checkpoint(step);
      if (stoppedEarly) break;
    }
    if (lastCheckpoint === null || lastCheckpoint.step !== trainer.stepsDone) await checkpoint(trainer.stepsDone);
  } catch (error) {
    // Stopped by the user (cancel or pause): keep the weights of the last finished step, so a resume loses nothing.
    if (env.signal.aborted && trainer.stepsDone > (lastCheckpoint?.step ?? 0)) await checkpoint(trainer.stepsDone);
    runs.setStatus(run.id, env.signal.aborted ? 'cancelled' : 'failed');
    throw error;
  } finally {
    await trainer.release();
    await disc?.release();
  }
  runs.setStatus(run.id, stoppedEarly ? 'stopped-early' : 'succeeded');
  return { runId: run.id, steps: trainer.stepsDone, provider, stoppedEarly, best, checkpointSha: lastCheckpoint!.sha };
}
