// The effects domain behind the contract's `clips:*` and `effects:*` requests, and the checks made before its jobs are queued.
import type { Database } from 'better-sqlite3';
import type {
  ClipImportParams,
  ClipModelInfo,
  EditSpec,
  EffectPairsParams,
  EffectPreviewParams,
  PromptInfo,
  RelevanceInfo,
  RelevanceParams,
  SavePromptRequest,
} from '../../shared/effects/types.ts';
import type { BlobStore } from '../core/blob-store.ts';
import { DatasetExistsError, type DatasetStore } from '../datasets/store.ts';
import type { TeacherStore } from '../teachers/store.ts';
import { checkClipImport } from './clip-store.ts';
import { RelevanceMissingError } from './edits.ts';
import { checkPromptText, clipInfo, EffectsStore } from './store.ts';

/** A request the effects domain refuses, with the reason. */
export class EffectRequestError extends Error {
  override readonly name = 'EffectRequestError';
}

/** Answers the effects requests of one studio (on the main thread: nothing here runs a model). */
export class EffectsService {
  readonly store: EffectsStore;
  readonly #teachers: TeacherStore;
  readonly #datasets: DatasetStore;

  constructor(db: Database, blobs: BlobStore, teachers: TeacherStore, datasets: DatasetStore) {
    this.store = new EffectsStore(db, blobs);
    this.#teachers = teachers;
    this.#datasets = datasets;
  }

  /** Every stored CLIP model, newest first. */
  listClips(): ClipModelInfo[] {
    return this.store.listClips().map(clipInfo);
  }

  /** Deletes a CLIP model with the relevance tables measured with it. */
  deleteClip(id: number): void {
    this.store.deleteClip(id);
  }

  /** Fails fast, before a job is queued, when the name is taken or the folder is not a usable CLIP export. */
  checkImport(params: ClipImportParams): Promise<void> {
    return checkClipImport(this.store, params);
  }

  /** The relevance tables of a teacher. */
  relevanceOf(teacherId: number): RelevanceInfo[] {
    this.#teachers.get(teacherId);
    return this.store.relevanceOf(teacherId);
  }

  /** Fails fast when the teacher or the CLIP model does not exist. */
  checkRelevance(params: RelevanceParams): void {
    this.#teachers.get(params.teacherId);
    this.store.getClip(params.clipId);
  }

  /** A teacher's prompts, favourites first. */
  prompts(teacherId: number): PromptInfo[] {
    this.#teachers.get(teacherId);
    return this.store.prompts(teacherId);
  }

  /** Saves (or updates) a prompt of a teacher. */
  savePrompt(request: SavePromptRequest): PromptInfo {
    this.#teachers.get(request.teacherId);
    return this.store.savePrompt(request);
  }

  /** Deletes a prompt. */
  deletePrompt(id: number): void {
    this.store.deletePrompt(id);
  }

  /** Fails fast when the teacher or CLIP model is missing, a text is empty, or no relevance table exists yet. */
  checkEdit(spec: EditSpec): void {
    const teacher = this.#teachers.get(spec.teacherId);
    const clip = this.store.getClip(spec.clipId);
    checkPromptText(spec.target, 'target');
    checkPromptText(spec.neutral, 'neutral');
    if (this.store.findRelevance(teacher.id, clip.id) === null) {
      throw new RelevanceMissingError(`Teacher "${teacher.name}" has no channel relevance under CLIP model "${clip.name}" yet; compute it first.`);
    }
  }

  /** As {@link checkEdit}, and a given text direction must have the CLIP model's size. */
  checkPreview(params: EffectPreviewParams): void {
    this.checkEdit(params);
    const dim = this.store.getClip(params.clipId).dim;
    if (params.direction !== undefined && params.direction.length !== dim) {
      throw new EffectRequestError(`the text direction has ${params.direction.length} values but the CLIP model embeds in ${dim}`);
    }
  }

  /** As {@link checkEdit}, and the dataset name must be free. */
  checkPairs(params: EffectPairsParams): void {
    this.checkEdit(params);
    if (this.#datasets.findDataset(params.datasetName)) throw new DatasetExistsError(params.datasetName.trim());
  }
}
