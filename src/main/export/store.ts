// The exports table: packages the studio wrote, newest first.
import type { Database, Statement } from 'better-sqlite3';
import type { ExportInfo, ExportPrecision } from '../../shared/export/types.ts';

interface ExportRow {
  id: number;
  name: string;
  description: string;
  run_id: number | null;
  checkpoint: string | null;
  path: string;
  size: number;
  sha256: string;
  variants: string;
  median_ms: number | null;
  provider: string | null;
  created_at: number;
}

/** A package to record. */
export type NewExport = Omit<ExportInfo, 'id' | 'createdAt'>;

/** Reads and records exports (needs migration 006). */
export class ExportStore {
  readonly #insert: Statement<[Omit<ExportRow, 'id'>]>;
  readonly #list: Statement<[], ExportRow>;
  readonly #get: Statement<[number], ExportRow>;

  constructor(db: Database) {
    this.#insert = db.prepare(
      `INSERT INTO exports (name, description, run_id, checkpoint, path, size, sha256, variants, median_ms, provider, created_at)
       VALUES (@name, @description, @run_id, @checkpoint, @path, @size, @sha256, @variants, @median_ms, @provider, @created_at)`,
    );
    this.#list = db.prepare('SELECT * FROM exports ORDER BY created_at DESC, id DESC');
    this.#get = db.prepare('SELECT * FROM exports WHERE id = ?');
  }

  /** Records a written package. */
  add(record: NewExport, now = Date.now()): ExportInfo {
    const id = Number(
      this.#insert.run({
        name: record.name,
        description: record.description,
        run_id: record.runId,
        checkpoint: record.checkpoint,
        path: record.path,
        size: record.size,
        sha256: record.sha256,
        variants: JSON.stringify(record.variants),
        median_ms: record.medianMs,
        provider: record.provider,
        created_at: now,
      }).lastInsertRowid,
    );
    return toInfo(this.#get.get(id)!);
  }

  /** Every recorded export, newest first. */
  list(): ExportInfo[] {
    return this.#list.all().map(toInfo);
  }
}

function toInfo(row: ExportRow): ExportInfo {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    runId: row.run_id,
    checkpoint: row.checkpoint,
    path: row.path,
    size: row.size,
    sha256: row.sha256,
    variants: JSON.parse(row.variants) as ExportPrecision[],
    medianMs: row.median_ms,
    provider: row.provider,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
