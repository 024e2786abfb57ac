// The teachers domain behind the contract's `teachers:*` requests and the checks made before a teacher job is queued.
import type { Database } from 'better-sqlite3';
import type {
  TeacherImportParams,
  TeacherInfo,
  TeacherPreviewParams,
  TeacherSampleParams,
} from '../../shared/teachers/types.ts';
import type { BlobStore } from '../core/blob-store.ts';
import { DatasetExistsError, type DatasetStore } from '../datasets/store.ts';
import { checkTeacherName, TeacherExistsError, TeacherStore } from './store.ts';
import { checkPsiApplies, isOnnxPath } from './onnx.ts';
import { checkWeightsFile, makeTinyTeacher, TeacherRequestError } from './weights.ts';

/** Answers the teachers requests of one studio (on the main thread: nothing here runs a model). */
export class TeacherService {
  readonly store: TeacherStore;
  readonly #blobs: BlobStore;
  readonly #datasets: DatasetStore;

  constructor(db: Database, blobs: BlobStore, datasets: DatasetStore) {
    this.store = new TeacherStore(db, blobs);
    this.#blobs = blobs;
    this.#datasets = datasets;
  }

  /** Every teacher, newest first. */
  list(): TeacherInfo[] {
    return this.store.list();
  }

  /** One teacher. */
  get(id: number): TeacherInfo {
    return this.store.get(id);
  }

  /** Renames a teacher. */
  rename(id: number, name: string): TeacherInfo {
    return this.store.rename(id, name);
  }

  /** Deletes a teacher and frees its weights; datasets sampled from it stay. */
  delete(id: number): void {
    this.store.delete(id);
  }

  /** Makes and stores the tiny random demo teacher (milliseconds of work, so no job). */
  makeTiny(name: string): Promise<TeacherInfo> {
    return makeTinyTeacher(this.store, this.#blobs, name);
  }

  /**
   * Fails fast, before a job is queued, when the name is taken, the file is missing, or an .onnx file comes without
   * the declaration of its input and output (a black-box generator's I/O cannot be guessed).
   */
  async checkImport(params: TeacherImportParams): Promise<void> {
    const name = checkTeacherName(params.name);
    if (this.store.find(name)) throw new TeacherExistsError(name);
    await checkWeightsFile(params.path);
    if (params.onnx === undefined && isOnnxPath(params.path)) {
      throw new TeacherRequestError(
        `${params.path} is an ONNX model: declare its input (z or w, name, dimension) and its image output (name, value range) to import it as a generator.`,
      );
    }
  }

  /** Fails fast when the teacher does not exist, or ψ ≠ 1 is asked of a black-box ONNX teacher. */
  checkPreview(params: TeacherPreviewParams): void {
    checkPsiApplies(this.store.get(params.teacherId), params.psi);
  }

  /** Fails fast when the teacher does not exist, ψ does not apply to it, or the dataset name is taken. */
  checkSample(params: TeacherSampleParams): void {
    checkPsiApplies(this.store.get(params.teacherId), params.psi);
    if (this.#datasets.findDataset(params.datasetName)) throw new DatasetExistsError(params.datasetName.trim());
  }
}
