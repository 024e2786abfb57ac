// A package source made from a training run's checkpoint: the student's forward model, its prompt, teacher, dataset,
// training config and validation metrics, and the run's validation images as previews.
import { createHash } from 'node:crypto';
import { FFHQ_FRAMING } from '../../shared/faces/align.ts';
import type { EffectPairProvenance } from '../../shared/effects/types.ts';
import type { CheckpointInfo, RunDetail } from '../../shared/student/types.ts';
import type { BlobStore } from '../core/blob-store.ts';
import type { Database } from '../core/db/database.ts';
import { DatasetStore } from '../datasets/store.ts';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION } from '../engine/train/checkpoint.ts';
import { parseSafetensors } from '../engine/safetensors/index.ts';
import { listPairs, type PairRef } from '../student/data.ts';
import { buildStudentGraph, deployableStudentModel } from '../student/model.ts';
import { RunNotFoundError, RunStore } from '../student/runs.ts';
import { TeacherStore } from '../teachers/store.ts';
import type { ManifestPrompt, ManifestProvenance } from './manifest.ts';
import { ExportError } from './errors.ts';
import { chooseCheckpoint } from './run-checkpoint.ts';
import type { PackageSource } from './writer.ts';

/** Validation images packaged as previews, at most (a package holds up to 16). */
export const RUN_PREVIEWS = 8;

/** Options of {@link runSource}. */
export interface RunSourceOptions {
  runId: number;
  /** Step of the checkpoint to export; default {@link chooseCheckpoint}'s choice. */
  checkpointStep?: number | null | undefined;
  /** Package name (default: the prompt's target text, else `run <id>`). */
  name?: string | undefined;
  description?: string | undefined;
}

/** A run's package source, with the run and checkpoint it came from (for the exports table). */
export interface RunPackageSource extends PackageSource {
  runId: number;
  checkpoint: CheckpointInfo;
}

/** A run's checkpoint built into the deployable forward model (ONNX bytes, batch 1, weights as initializers, constants folded). */
export async function runCheckpointModel(
  db: Database,
  blobs: BlobStore,
  runId: number,
  checkpointStep?: number | null,
): Promise<{ run: RunDetail; checkpoint: CheckpointInfo; model: Uint8Array }> {
  let run: RunDetail;
  try {
    run = new RunStore(db).get(runId);
  } catch (error) {
    if (error instanceof RunNotFoundError) throw new ExportError(error.message);
    throw error;
  }
  const checkpoint = chooseCheckpoint(run, checkpointStep);
  const weights = checkpointWeights(await blobs.read(checkpoint.sha), run, checkpoint);
  return { run, checkpoint, model: await deployableStudentModel(run.config.student, weights) };
}

/** Builds the package source of a run's checkpoint; every missing piece is an {@link ExportError} saying which. */
export async function runSource(db: Database, blobs: BlobStore, options: RunSourceOptions): Promise<RunPackageSource> {
  const { run, checkpoint, model } = await runCheckpointModel(db, blobs, options.runId, options.checkpointStep);
  const config = run.config;

  const datasets = new DatasetStore(db, blobs);
  let dataset;
  try {
    dataset = datasets.getDataset(config.datasetId);
  } catch (error) {
    throw new ExportError(`run ${run.id} trained on dataset ${config.datasetId}, which is gone: ${error instanceof Error ? error.message : String(error)}`);
  }
  const listed = listPairs(datasets, dataset.id);
  // Identity of the dataset: every usable pair (accepted, else not rejected) in its train/validation split.
  const ownValidation = listed.validationFromTrain ? [] : listed.validation;
  const used = [...listed.train, ...ownValidation];
  const effect = commonEffect(datasets, used);
  const teacher = effect ? teacherIdentity(new TeacherStore(db, blobs), effect) : null;
  const prompt: ManifestPrompt | null = effect && { target: effect.target, neutral: effect.neutral, alpha: effect.alpha, beta: effect.beta };

  // Training validated on the dataset's validation items (or its first training items), up to validationItems.
  const validation = listed.validation.slice(0, Math.min(config.validationItems, RUN_PREVIEWS));
  const previewImages = await Promise.all(validation.map((p) => blobs.read(p.imageSha)));

  const metrics = checkpointMetrics(run, checkpoint.step);
  const provenance: Omit<ManifestProvenance, 'modelSha256'> = {
    source: 'run',
    run: { id: String(run.id), checkpoint: checkpoint.sha },
    teacher,
    dataset: {
      name: dataset.name,
      sha256: datasetSha256(listed.train, ownValidation),
      items: used.length,
      train: listed.train.length,
      validation: ownValidation.length,
    },
    training: {
      ...config,
      checkpointStep: checkpoint.step,
      metricsStep: metrics?.step ?? null,
      provider: run.provider,
      validationFromTrain: listed.validationFromTrain,
    },
    metrics: metrics?.values ?? null,
  };
  return {
    model,
    name: options.name?.trim() || (prompt ? prompt.target : `run ${run.id}`),
    description: options.description ?? '',
    // The studio's students take RGB in [0, 1] and work on FFHQ-aligned face crops of their own size.
    colorOrder: 'RGB',
    valueRange: [0, 1],
    faceCrop: { detector: 'blazeface-front', alignment: 'ffhq-similarity', size: config.student.size, ...FFHQ_FRAMING },
    prompt,
    provenance,
    previewImages,
    runId: run.id,
    checkpoint,
  };
}

/** The student's weights from checkpoint bytes, checked against the run's architecture by name and shape. */
function checkpointWeights(bytes: Uint8Array, run: RunDetail, checkpoint: CheckpointInfo): Map<string, Float32Array> {
  const where = `checkpoint step ${checkpoint.step} of run ${run.id}`;
  let file;
  try {
    file = parseSafetensors(bytes, where);
  } catch (error) {
    throw new ExportError(`${where} is not readable: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (file.metadata.format !== CHECKPOINT_FORMAT || file.metadata.version !== String(CHECKPOINT_VERSION)) {
    throw new ExportError(`${where} is not a version-${CHECKPOINT_VERSION} training checkpoint`);
  }
  const { graph } = buildStudentGraph(run.config.student);
  const problems: string[] = [];
  const weights = new Map<string, Float32Array>();
  for (const p of graph.params) {
    if (!file.has(p.name)) {
      problems.push(`"${p.name}" is missing`);
      continue;
    }
    const entry = file.entry(p.name);
    if (entry.dtype !== 'F32' || entry.shape.join(',') !== p.shape.join(',')) {
      problems.push(`"${p.name}" is ${entry.dtype} [${entry.shape.join(',')}], the student needs F32 [${p.shape.join(',')}]`);
      continue;
    }
    weights.set(p.name, file.float32(p.name));
  }
  if (problems.length > 0) throw new ExportError(`${where} does not fit the run's student: ${problems.slice(0, 5).join('; ')}`);
  return weights;
}

/** The effect every teacher-made pair shares (same teacher, prompt, α, β), or null for imported or mixed pairs. */
function commonEffect(store: DatasetStore, pairs: readonly PairRef[]): EffectPairProvenance | null {
  let shared: EffectPairProvenance | null = null;
  const key = (p: EffectPairProvenance): string => JSON.stringify([p.teacherId, p.target, p.neutral, p.alpha, p.beta]);
  for (let i = 0; i < pairs.length; i += 500) {
    for (const item of store.getItems(pairs.slice(i, i + 500).map((p) => p.itemId))) {
      const p = item.provenance as Partial<EffectPairProvenance> | null;
      if (!p || p.source !== 'effect') return null;
      const effect = p as EffectPairProvenance;
      if (shared === null) shared = effect;
      else if (key(shared) !== key(effect)) return null;
    }
  }
  return shared;
}

/** The teacher's name and the sha256 of its canonical weights; null when the teacher was deleted since. */
function teacherIdentity(teachers: TeacherStore, effect: EffectPairProvenance): ManifestProvenance['teacher'] {
  try {
    const t = teachers.get(effect.teacherId);
    return { name: t.name, sha256: t.weightsSha256 };
  } catch {
    return null;
  }
}

/** sha256 over the sorted `split image target` lines of the pairs: the same pairs give the same hash on any machine. */
export function datasetSha256(train: readonly PairRef[], validation: readonly PairRef[]): string {
  const lines = [
    ...train.map((p) => `train ${p.imageSha} ${p.targetSha}`),
    ...validation.map((p) => `validation ${p.imageSha} ${p.targetSha}`),
  ].sort();
  return createHash('sha256').update(lines.map((l) => `${l}\n`).join('')).digest('hex');
}

/** Validation metrics of the last validation at or before the checkpoint's step, and that step; null when none. */
function checkpointMetrics(run: RunDetail, step: number): { values: Record<string, number>; step: number } | null {
  const psnr = (run.metrics['validation/psnr'] ?? []).filter((p) => p.step <= step).at(-1);
  if (!psnr) return null;
  const values: Record<string, number> = {};
  for (const [series, points] of Object.entries(run.metrics)) {
    const at = series.startsWith('validation/') ? points.find((p) => p.step === psnr.step) : undefined;
    if (at) values[series.slice('validation/'.length)] = at.value;
  }
  return { values, step: psnr.step };
}
