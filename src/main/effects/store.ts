// The effects tables: stored CLIP models, per-teacher relevance tables and prompts; every *_sha holds one blob reference.
import type { Database, Statement } from 'better-sqlite3';
import {
  MAX_PROMPT_TEXT,
  type ClipModelInfo,
  type PromptInfo,
  type RelevanceInfo,
  type SavePromptRequest,
} from '../../shared/effects/types.ts';
import { MAX_TEACHER_NAME } from '../../shared/teachers/types.ts';
import type { BlobStore } from '../core/blob-store.ts';
import type { ClipSpecs } from '../engine/clip/index.ts';

/** No CLIP model, relevance table or prompt with this id. */
export class EffectNotFoundError extends Error {
  override readonly name = 'EffectNotFoundError';
}

/** A CLIP model with this name exists already. */
export class ClipExistsError extends Error {
  override readonly name = 'ClipExistsError';
  constructor(readonly clipName: string) {
    super(`A CLIP model named "${clipName}" exists already.`);
  }
}

/** What `clip_models.config` holds: the checked tower specs, the tokenizer blob, where the model came from. */
export interface StoredClipConfig {
  specs: Omit<ClipSpecs, 'dir'>;
  layout: 'towers' | 'combined';
  /** Canonical tokenizer.json (BPE vocabulary and merges); holds one reference. */
  tokenizerSha: string;
  /** sha256 over the model files (see `ClipModel.identity`). */
  identity: string;
  sourceDir: string;
  bytes: number;
}

/** A stored CLIP model with what is needed to open it. */
export interface StoredClip extends ClipModelInfo {
  textSha: string;
  visionSha: string;
  config: StoredClipConfig;
}

/** A new CLIP row; the caller holds one reference on each blob (two on a combined model's single file) and hands them over. */
export interface NewClip {
  name: string;
  textSha: string;
  visionSha: string;
  config: StoredClipConfig;
}

/** A relevance table with its blobs. */
export interface StoredRelevance extends RelevanceInfo {
  directionsSha: string;
  statsSha: string;
}

interface ClipRow {
  id: number;
  name: string;
  text_sha: string;
  vision_sha: string;
  config: string;
  imported_at: number;
}

interface RelevanceRow {
  teacher_id: number;
  clip_id: number;
  images: number;
  directions_sha: string;
  stats_sha: string;
  created_at: number;
}

interface PromptRow {
  id: number;
  teacher_id: number;
  target: string;
  neutral: string;
  alpha: number;
  beta: number;
  is_favorite: number;
  created_at: number;
  used_at: number;
}

const CLIP_COLUMNS = 'id, name, text_sha, vision_sha, config, imported_at';
const PROMPT_COLUMNS = 'id, teacher_id, target, neutral, alpha, beta, is_favorite, created_at, used_at';

/** Trims a CLIP model name and checks it; throws a message naming what is wrong. */
export function checkClipName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new RangeError('A CLIP model needs a name.');
  if (trimmed.length > MAX_TEACHER_NAME) throw new RangeError(`A CLIP model name has at most ${MAX_TEACHER_NAME} characters.`);
  return trimmed;
}

/** Trims a prompt text and checks it; `what` names the field in the message. */
export function checkPromptText(text: string, what: 'target' | 'neutral'): string {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new RangeError(`The ${what} text is empty.`);
  if (trimmed.length > MAX_PROMPT_TEXT) throw new RangeError(`The ${what} text has more than ${MAX_PROMPT_TEXT} characters.`);
  return trimmed;
}

/** CLIP models, relevance tables and prompts over one database connection. */
export class EffectsStore {
  readonly #db: Database;
  readonly #blobs: BlobStore;
  readonly #sql: {
    clips: Statement<[], ClipRow>;
    clipById: Statement<[number], ClipRow>;
    clipByName: Statement<[string], ClipRow>;
    insertClip: Statement<[string, string, string, string, number]>;
    removeClip: Statement<[number]>;
    relevanceOf: Statement<[number], RelevanceRow>;
    relevanceOfClip: Statement<[number], RelevanceRow>;
    relevance: Statement<[number, number], RelevanceRow>;
    upsertRelevance: Statement<[number, number, number, string, string, number]>;
    prompts: Statement<[number], PromptRow>;
    promptById: Statement<[number], PromptRow>;
    promptByText: Statement<[number, string, string], PromptRow>;
    insertPrompt: Statement<[number, string, string, number, number, number, number, number]>;
    updatePrompt: Statement<[number, number, number, number, number]>;
    removePrompt: Statement<[number]>;
  };

  constructor(db: Database, blobs: BlobStore) {
    this.#db = db;
    this.#blobs = blobs;
    const rel = 'teacher_id, clip_id, images, directions_sha, stats_sha, created_at';
    this.#sql = {
      clips: db.prepare(`SELECT ${CLIP_COLUMNS} FROM clip_models ORDER BY imported_at DESC, id DESC`),
      clipById: db.prepare(`SELECT ${CLIP_COLUMNS} FROM clip_models WHERE id = ?`),
      clipByName: db.prepare(`SELECT ${CLIP_COLUMNS} FROM clip_models WHERE name = ?`),
      insertClip: db.prepare('INSERT INTO clip_models (name, text_sha, vision_sha, config, imported_at) VALUES (?, ?, ?, ?, ?)'),
      removeClip: db.prepare('DELETE FROM clip_models WHERE id = ?'),
      relevanceOf: db.prepare(`SELECT ${rel} FROM relevance WHERE teacher_id = ? ORDER BY created_at DESC`),
      relevanceOfClip: db.prepare(`SELECT ${rel} FROM relevance WHERE clip_id = ?`),
      relevance: db.prepare(`SELECT ${rel} FROM relevance WHERE teacher_id = ? AND clip_id = ?`),
      upsertRelevance: db.prepare(
        `INSERT INTO relevance (teacher_id, clip_id, images, directions_sha, stats_sha, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (teacher_id, clip_id) DO UPDATE SET images = excluded.images, directions_sha = excluded.directions_sha,
           stats_sha = excluded.stats_sha, created_at = excluded.created_at`,
      ),
      prompts: db.prepare(`SELECT ${PROMPT_COLUMNS} FROM prompts WHERE teacher_id = ? ORDER BY is_favorite DESC, used_at DESC, id DESC`),
      promptById: db.prepare(`SELECT ${PROMPT_COLUMNS} FROM prompts WHERE id = ?`),
      promptByText: db.prepare(`SELECT ${PROMPT_COLUMNS} FROM prompts WHERE teacher_id = ? AND target = ? AND neutral = ?`),
      insertPrompt: db.prepare(
        `INSERT INTO prompts (teacher_id, target, neutral, alpha, beta, is_favorite, created_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      updatePrompt: db.prepare('UPDATE prompts SET alpha = ?, beta = ?, is_favorite = ?, used_at = ? WHERE id = ?'),
      removePrompt: db.prepare('DELETE FROM prompts WHERE id = ?'),
    };
  }

  /** Every stored CLIP model, newest first. */
  listClips(): StoredClip[] {
    return this.#sql.clips.all().map(toClip);
  }

  /** A CLIP model by id; throws {@link EffectNotFoundError}. */
  getClip(id: number): StoredClip {
    const row = this.#sql.clipById.get(id);
    if (!row) throw new EffectNotFoundError(`No CLIP model with id ${id}.`);
    return toClip(row);
  }

  /** A CLIP model by name, or null. */
  findClip(name: string): StoredClip | null {
    const row = this.#sql.clipByName.get(name.trim());
    return row ? toClip(row) : null;
  }

  /** Inserts a CLIP model; on a taken name its references are released and {@link ClipExistsError} thrown. */
  insertClip(clip: NewClip): StoredClip {
    const name = checkClipName(clip.name);
    return this.#db.transaction(() => {
      if (this.#sql.clipByName.get(name)) {
        this.#releaseClipBlobs(clip.textSha, clip.visionSha, clip.config.tokenizerSha);
        throw new ClipExistsError(name);
      }
      const { lastInsertRowid } = this.#sql.insertClip.run(name, clip.textSha, clip.visionSha, JSON.stringify(clip.config), Date.now());
      return this.getClip(Number(lastInsertRowid));
    }).immediate();
  }

  /** Deletes a CLIP model with its relevance tables and releases their blobs. */
  deleteClip(id: number): void {
    this.#db.transaction(() => {
      const clip = this.getClip(id);
      for (const r of this.#sql.relevanceOfClip.all(id)) this.#releaseRelevanceBlobs(r);
      this.#sql.removeClip.run(id);
      this.#releaseClipBlobs(clip.textSha, clip.visionSha, clip.config.tokenizerSha);
    }).immediate();
  }

  /** The relevance tables of a teacher, newest first. */
  relevanceOf(teacherId: number): RelevanceInfo[] {
    return this.#sql.relevanceOf.all(teacherId).map((r) => relevanceInfo(this.#toRelevance(r)));
  }

  /** The relevance table of a teacher under a CLIP model, or null when none was computed. */
  findRelevance(teacherId: number, clipId: number): StoredRelevance | null {
    const row = this.#sql.relevance.get(teacherId, clipId);
    return row ? this.#toRelevance(row) : null;
  }

  /** Stores a relevance table (replacing an older one, whose blobs are released); takes over the caller's references. */
  putRelevance(teacherId: number, clipId: number, images: number, directionsSha: string, statsSha: string): StoredRelevance {
    return this.#db.transaction(() => {
      const old = this.#sql.relevance.get(teacherId, clipId);
      this.#sql.upsertRelevance.run(teacherId, clipId, images, directionsSha, statsSha, Date.now());
      if (old) this.#releaseRelevanceBlobs(old);
      return this.findRelevance(teacherId, clipId)!;
    }).immediate();
  }

  /** A teacher's prompts, favourites first, then most recently used. */
  prompts(teacherId: number): PromptInfo[] {
    return this.#sql.prompts.all(teacherId).map(toPrompt);
  }

  /** Saves a prompt: the same teacher, target and neutral update α, β, the favourite mark and the time used. */
  savePrompt(request: SavePromptRequest): PromptInfo {
    const target = checkPromptText(request.target, 'target');
    const neutral = checkPromptText(request.neutral, 'neutral');
    const now = Date.now();
    return this.#db.transaction(() => {
      const existing = this.#sql.promptByText.get(request.teacherId, target, neutral);
      if (existing) {
        const favorite = request.isFavorite ?? existing.is_favorite === 1;
        this.#sql.updatePrompt.run(request.alpha, request.beta, favorite ? 1 : 0, now, existing.id);
        return this.getPrompt(existing.id);
      }
      const { lastInsertRowid } = this.#sql.insertPrompt.run(request.teacherId, target, neutral, request.alpha, request.beta, request.isFavorite ? 1 : 0, now, now);
      return this.getPrompt(Number(lastInsertRowid));
    }).immediate();
  }

  /** A prompt by id; throws {@link EffectNotFoundError}. */
  getPrompt(id: number): PromptInfo {
    const row = this.#sql.promptById.get(id);
    if (!row) throw new EffectNotFoundError(`No prompt with id ${id}.`);
    return toPrompt(row);
  }

  /** Deletes a prompt; throws {@link EffectNotFoundError}. */
  deletePrompt(id: number): void {
    if (this.#sql.removePrompt.run(id).changes === 0) throw new EffectNotFoundError(`No prompt with id ${id}.`);
  }

  /** The channel count is the directions blob's size over the embedding size (float32 [channels, dim]). */
  #toRelevance(row: RelevanceRow): StoredRelevance {
    const dim = this.getClip(row.clip_id).dim;
    const bytes = this.#blobs.info(row.directions_sha)?.size ?? 0;
    return {
      teacherId: row.teacher_id,
      clipId: row.clip_id,
      images: row.images,
      channels: bytes / (4 * dim),
      dim,
      createdAt: new Date(row.created_at).toISOString(),
      directionsSha: row.directions_sha,
      statsSha: row.stats_sha,
    };
  }

  #releaseClipBlobs(textSha: string, visionSha: string, tokenizerSha: string): void {
    this.#blobs.release(textSha);
    this.#blobs.release(visionSha);
    this.#blobs.release(tokenizerSha);
  }

  #releaseRelevanceBlobs(row: RelevanceRow): void {
    this.#blobs.release(row.directions_sha);
    this.#blobs.release(row.stats_sha);
  }
}

function toClip(row: ClipRow): StoredClip {
  const config = JSON.parse(row.config) as StoredClipConfig;
  return {
    id: row.id,
    name: row.name,
    dim: config.specs.dim,
    imageSize: { width: config.specs.vision.width, height: config.specs.vision.height },
    layout: config.layout,
    sourceDir: config.sourceDir,
    bytes: config.bytes,
    importedAt: new Date(row.imported_at).toISOString(),
    textSha: row.text_sha,
    visionSha: row.vision_sha,
    config,
  };
}

function toPrompt(row: PromptRow): PromptInfo {
  return {
    id: row.id,
    teacherId: row.teacher_id,
    target: row.target,
    neutral: row.neutral,
    alpha: row.alpha,
    beta: row.beta,
    isFavorite: row.is_favorite === 1,
    createdAt: new Date(row.created_at).toISOString(),
    usedAt: new Date(row.used_at).toISOString(),
  };
}

/** The public part of a stored CLIP model. */
export function clipInfo(clip: StoredClip): ClipModelInfo {
  const { id, name, dim, imageSize, layout, sourceDir, bytes, importedAt } = clip;
  return { id, name, dim, imageSize, layout, sourceDir, bytes, importedAt };
}

/** The public part of a stored relevance table. */
export function relevanceInfo(table: StoredRelevance): RelevanceInfo {
  const { teacherId, clipId, images, channels, dim, createdAt } = table;
  return { teacherId, clipId, images, channels, dim, createdAt };
}
