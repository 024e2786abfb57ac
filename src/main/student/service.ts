// The studio's student requests: size estimates, the checks before a training job is queued, and reading runs.
import type { CheckpointInfo, EstimateLosses, RunDetail, RunInfo, StudentConfig, StudentDescription, StudentTrainParams } from '../../shared/student/types.ts';
import type { BlobStore } from '../core/blob-store.ts';
import type { Database } from '../core/db/database.ts';
import { DatasetStore } from '../datasets/store.ts';
import { discriminatorTrainingBytes, validateAdversarialParams } from './adversarial.ts';
import { checkPairs, listPairs } from './data.ts';
import { describeStudent, StudentConfigError } from './model.ts';
import { checkFeatureNetwork, FEATURE_NETWORK_KIND, readFeatureNetworkFile } from './perceptual.ts';
import { RunStore } from './runs.ts';
import { validateTrainParams } from './train.ts';

/** Most points per metric series a `runs:get` answers (the Train page polls it while a run trains). */
export const METRIC_POINTS_SHOWN = 2000;

/**
 * Pairs whose sizes the request itself checks, evenly spread over the dataset: reading every image of a large
 * dataset would keep the caller waiting for minutes; the job checks them all before its first step.
 */
export const PAIRS_CHECKED_BEFORE_QUEUEING = 64;

/** Every pair when there are at most `most`, else `most` of them evenly spread (first and last included). */
export function spreadSample<T>(items: readonly T[], most: number): T[] {
  if (items.length <= most) return [...items];
  return Array.from({ length: most }, (_, i) => items[Math.round((i * (items.length - 1)) / (most - 1))]!);
}

/** {@link checkFeatureNetwork} with any problem reported as a `StudentConfigError` that names the file. */
function checkedFeatureNetwork(bytes: Uint8Array, p: StudentTrainParams, what: string): void {
  try {
    checkFeatureNetwork(bytes, p.perceptual!, p.student.size, p.batch);
  } catch (error) {
    throw new StudentConfigError(`perceptual: the ${what} cannot be used: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Students and their training runs, as the studio (and the CLI) see them. */
export class StudentService {
  readonly runs: RunStore;
  readonly #datasets: DatasetStore;
  readonly #blobs: BlobStore;

  constructor(db: Database, blobs: BlobStore) {
    this.runs = new RunStore(db);
    this.#datasets = new DatasetStore(db, blobs);
    this.#blobs = blobs;
  }

  /**
   * Parameters, multiply-adds and training memory of a student at `batch`, with the discriminator when `losses` has
   * the adversarial term; throws `StudentConfigError` when a value is out of range.
   */
  describe(config: StudentConfig, batch: number, losses: EstimateLosses = { adversarial: null, perceptual: false }): StudentDescription {
    const d = describeStudent(config, batch);
    const adversarial = losses.adversarial === null ? null : validateAdversarialParams(losses.adversarial);
    const discriminatorBytes = adversarial === null ? 0 : discriminatorTrainingBytes(d.config.size, batch, adversarial.discriminatorWidth);
    const uncounted = losses.perceptual ? ['the perceptual feature network'] : [];
    return { ...d, trainingBytes: d.trainingBytes + discriminatorBytes, discriminatorBytes, uncounted };
  }

  /**
   * Everything a training job would refuse, checked before it is queued: every setting in range, the dataset holds
   * usable pairs, input and target have the same size, at least the student's (every pair of a small dataset,
   * {@link PAIRS_CHECKED_BEFORE_QUEUEING} spread over a large one; the job checks the rest before training), and a
   * perceptual feature network imports and differentiates. Returns the parameters to queue: a feature network given by `path` is stored
   * in the blob store (the run holds the reference) and named by its `modelSha256`.
   * Throws `StudentConfigError`, `TrainingDataError`, `DatasetNotFoundError` or `OnnxImportError` naming the problem.
   */
  async checkStart(params: StudentTrainParams): Promise<StudentTrainParams> {
    const p = validateTrainParams(params);
    const split = listPairs(this.#datasets, p.datasetId);
    const pairs = [...split.train, ...split.validation.slice(0, p.validationItems)];
    await checkPairs(this.#blobs, spreadSample(pairs, PAIRS_CHECKED_BEFORE_QUEUEING), p.student.size);
    if (!p.perceptual) return p;
    const { path, modelSha256, ...perceptual } = p.perceptual;
    if (modelSha256 !== undefined) {
      const info = this.#blobs.info(modelSha256);
      if (info?.kind !== FEATURE_NETWORK_KIND) throw new StudentConfigError(`perceptual: no feature network ${modelSha256} is stored`);
      checkedFeatureNetwork(await this.#blobs.read(modelSha256), p, `stored feature network ${modelSha256}`);
      this.#blobs.retain(modelSha256);
      return p;
    }
    const bytes = await readFeatureNetworkFile(path!);
    checkedFeatureNetwork(bytes, p, `feature network ${path!}`);
    const blob = await this.#blobs.put(bytes, FEATURE_NETWORK_KIND);
    return { ...p, perceptual: { ...perceptual, modelSha256: blob.sha256 } };
  }

  /** Every run, newest first. */
  list(): RunInfo[] {
    return this.runs.list();
  }

  /** One run with its metric series (at most {@link METRIC_POINTS_SHOWN} points each), checkpoints and previews; throws `RunNotFoundError`. */
  get(runId: number): RunDetail {
    return this.runs.get(runId, METRIC_POINTS_SHOWN);
  }

  /** A run's checkpoints, oldest first; throws `RunNotFoundError`. */
  checkpoints(runId: number): CheckpointInfo[] {
    return this.runs.get(runId).checkpoints;
  }
}
