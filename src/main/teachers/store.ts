// The teachers table: one row per stored teacher, its weights held as one reference on a blob.
import type { Database, Statement } from 'better-sqlite3';
import {
  MAX_TEACHER_NAME,
  type OnnxTeacherIO,
  type TeacherArchitecture,
  type TeacherFormat,
  type TeacherInfo,
} from '../../shared/teachers/types.ts';
import type { BlobStore } from '../core/blob-store.ts';

/** No teacher with this id or name. */
export class TeacherNotFoundError extends Error {
  override readonly name = 'TeacherNotFoundError';
}

/** A teacher with this name exists already. */
export class TeacherExistsError extends Error {
  override readonly name = 'TeacherExistsError';
  constructor(readonly teacherName: string) {
    super(`A teacher named "${teacherName}" exists already.`);
  }
}

/**
 * A new row; the caller holds one reference on `weightsSha256` and hands it to the teacher. A StyleGAN2 teacher has
 * an architecture and a w_avg; a black-box ONNX teacher (format 'onnx') has its I/O instead and no w_avg.
 */
export type NewTeacher = {
  name: string;
  sourceSha256: string;
  weightsSha256: string;
  parameterCount: number;
} & (
  | { format: Exclude<TeacherFormat, 'onnx'>; architecture: TeacherArchitecture; wAvg: 'file' | 'estimated' }
  | { format: 'onnx'; onnx: OnnxTeacherIO }
);

interface TeacherRow {
  id: number;
  name: string;
  format: TeacherFormat;
  source_sha: string;
  weights_sha: string;
  /** TeacherArchitecture as JSON, or OnnxTeacherIO for format 'onnx'. */
  config: string;
  parameter_count: number;
  w_avg: 'file' | 'estimated' | null;
  imported_at: number;
}

const COLUMNS = 'id, name, format, source_sha, weights_sha, config, parameter_count, w_avg, imported_at';

/** Trims a teacher name and checks it; throws a message naming what is wrong. */
export function checkTeacherName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new RangeError('A teacher needs a name.');
  if (trimmed.length > MAX_TEACHER_NAME) throw new RangeError(`A teacher name has at most ${MAX_TEACHER_NAME} characters.`);
  return trimmed;
}

/** Teachers over one database connection. */
export class TeacherStore {
  readonly #db: Database;
  readonly #blobs: BlobStore;
  readonly #sql: {
    list: Statement<[], TeacherRow>;
    byId: Statement<[number], TeacherRow>;
    byName: Statement<[string], TeacherRow>;
    insert: Statement<[string, string, string, string, string, number, string | null, number]>;
    rename: Statement<[string, number]>;
    remove: Statement<[number]>;
    relevanceBlobs: Statement<[number], { directions_sha: string; stats_sha: string }>;
  };

  constructor(db: Database, blobs: BlobStore) {
    this.#db = db;
    this.#blobs = blobs;
    this.#sql = {
      list: db.prepare(`SELECT ${COLUMNS} FROM teachers ORDER BY imported_at DESC, id DESC`),
      byId: db.prepare(`SELECT ${COLUMNS} FROM teachers WHERE id = ?`),
      byName: db.prepare(`SELECT ${COLUMNS} FROM teachers WHERE name = ?`),
      insert: db.prepare(
        `INSERT INTO teachers (name, format, source_sha, weights_sha, config, parameter_count, w_avg, imported_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      rename: db.prepare('UPDATE teachers SET name = ? WHERE id = ?'),
      remove: db.prepare('DELETE FROM teachers WHERE id = ?'),
      relevanceBlobs: db.prepare('SELECT directions_sha, stats_sha FROM relevance WHERE teacher_id = ?'),
    };
  }

  /** Every teacher, newest first. */
  list(): TeacherInfo[] {
    return this.#sql.list.all().map(toInfo);
  }

  /** A teacher by id; throws {@link TeacherNotFoundError}. */
  get(id: number): TeacherInfo {
    const row = this.#sql.byId.get(id);
    if (!row) throw new TeacherNotFoundError(`No teacher with id ${id}.`);
    return toInfo(row);
  }

  /** A teacher by name, or null. */
  find(name: string): TeacherInfo | null {
    const row = this.#sql.byName.get(name.trim());
    return row ? toInfo(row) : null;
  }

  /** Inserts a teacher; on a taken name the weights reference is released and {@link TeacherExistsError} thrown. */
  insert(teacher: NewTeacher): TeacherInfo {
    const name = checkTeacherName(teacher.name);
    return this.#db.transaction(() => {
      if (this.#sql.byName.get(name)) {
        this.#blobs.release(teacher.weightsSha256);
        throw new TeacherExistsError(name);
      }
      const { lastInsertRowid } = this.#sql.insert.run(
        name,
        teacher.format,
        teacher.sourceSha256,
        teacher.weightsSha256,
        JSON.stringify(teacher.format === 'onnx' ? teacher.onnx : teacher.architecture),
        teacher.parameterCount,
        teacher.format === 'onnx' ? null : teacher.wAvg,
        Date.now(),
      );
      return this.get(Number(lastInsertRowid));
    }).immediate();
  }

  /** Renames a teacher; throws {@link TeacherNotFoundError} or {@link TeacherExistsError}. */
  rename(id: number, newName: string): TeacherInfo {
    const name = checkTeacherName(newName);
    return this.#db.transaction(() => {
      this.get(id);
      const holder = this.#sql.byName.get(name);
      if (holder && holder.id !== id) throw new TeacherExistsError(name);
      this.#sql.rename.run(name, id);
      return this.get(id);
    }).immediate();
  }

  /** Deletes a teacher with its prompts and relevance tables and releases their blobs. Datasets sampled from it are kept. */
  delete(id: number): void {
    this.#db.transaction(() => {
      const teacher = this.get(id);
      // Its relevance tables go with it (ON DELETE CASCADE); their blobs are released here.
      for (const r of this.#sql.relevanceBlobs.all(id)) {
        this.#blobs.release(r.directions_sha);
        this.#blobs.release(r.stats_sha);
      }
      this.#sql.remove.run(id);
      this.#blobs.release(teacher.weightsSha256);
    }).immediate();
  }
}

function toInfo(row: TeacherRow): TeacherInfo {
  const isOnnx = row.format === 'onnx';
  const architecture = isOnnx ? null : (JSON.parse(row.config) as TeacherArchitecture);
  const onnx = isOnnx ? (JSON.parse(row.config) as OnnxTeacherIO) : null;
  return {
    id: row.id,
    name: row.name,
    format: row.format,
    sourceSha256: row.source_sha,
    weightsSha256: row.weights_sha,
    resolution: (architecture ?? onnx)!.resolution,
    architecture,
    onnx,
    styleSpace: !isOnnx,
    parameterCount: row.parameter_count,
    wAvg: row.w_avg,
    importedAt: new Date(row.imported_at).toISOString(),
  };
}
