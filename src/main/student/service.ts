// The studio's student requests: size estimates, the checks before a training job is queued, and reading runs.
import type { CheckpointInfo, RunDetail, RunInfo, StudentConfig, StudentDescription, StudentTrainParams } from '../../shared/student/types.ts';
import type { BlobStore } from '../core/blob-store.ts';
import type { Database } from '../core/db/database.ts';
import { DatasetStore } from '../datasets/store.ts';
import { checkPairs, listPairs } from './data.ts';
import { describeStudent } from './model.ts';
import { RunStore } from './runs.ts';
import { validateTrainParams } from './train.ts';

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

  /** Parameters, multiply-adds and training memory of a student at `batch`; throws `StudentConfigError` when out of range. */
  describe(config: StudentConfig, batch: number): StudentDescription {
    return describeStudent(config, batch);
  }

  /**
   * Everything a training job would refuse, checked before it is queued: every setting in range, the dataset holds
   * usable pairs, and each pair's input and target have the same size, at least the student's.
   * Throws `StudentConfigError`, `TrainingDataError` or `DatasetNotFoundError` naming the problem.
   */
  async checkStart(params: StudentTrainParams): Promise<void> {
    const p = validateTrainParams(params);
    const split = listPairs(this.#datasets, p.datasetId);
    await checkPairs(this.#blobs, [...split.train, ...split.validation.slice(0, p.validationItems)], p.student.size);
  }

  /** Every run, newest first. */
  list(): RunInfo[] {
    return this.runs.list();
  }

  /** One run with its metric series, checkpoints and previews; throws `RunNotFoundError`. */
  get(runId: number): RunDetail {
    return this.runs.get(runId);
  }

  /** A run's checkpoints, oldest first; throws `RunNotFoundError`. */
  checkpoints(runId: number): CheckpointInfo[] {
    return this.runs.get(runId).checkpoints;
  }
}
