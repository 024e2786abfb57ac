// Opens the studio's SQLite database (WAL, foreign keys, busy timeout) and brings its schema up to date.
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations/index.ts';

export type { Database } from 'better-sqlite3';

/** The schema version this build of the studio writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The database was written by a newer studio; opening it here could lose data, so it is refused untouched. */
export class DatabaseTooNewError extends Error {
  override readonly name = 'DatabaseTooNewError';
  constructor(
    readonly file: string,
    readonly foundVersion: number,
    readonly supportedVersion: number,
  ) {
    super(
      `The database ${file} has schema version ${foundVersion}, written by a newer Effects Studio; ` +
        `this version understands schema versions up to ${supportedVersion}. Update Effects Studio to open it.`,
    );
  }
}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Path of the database file (created when missing), or `:memory:`. */
  file: string;
  /** Path of a `better_sqlite3.node` built for this runtime's ABI (Electron's); Node's build when absent. */
  nativeBinding?: string | undefined;
}

/** Opens (creating if needed) and migrates the database; throws {@link DatabaseTooNewError} for a newer schema. */
export function openDatabase(opts: OpenDatabaseOptions): Database {
  const db = new BetterSqlite3(opts.file, opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {});
  try {
    // Read the version before any pragma that writes (journal_mode=WAL rewrites the header), so a refused file stays untouched.
    const found = schemaVersion(db);
    if (found > SCHEMA_VERSION) throw new DatabaseTooNewError(opts.file, found, SCHEMA_VERSION);
    if (opts.file !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, MIGRATIONS, opts.file);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof DatabaseTooNewError) throw error;
    throw new Error(`Could not open the database ${opts.file}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

/** The schema version recorded in the file (`PRAGMA user_version`); 0 for a new file. */
export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies every pending migration in ONE transaction: either the database ends at the newest version or it is
 * left exactly as it was. Returns the versions before and after.
 */
export function migrate(db: Database, migrations: readonly Migration[], file = 'database'): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
  const latest = migrations.length;
  // SQLite's procedure for rebuilding a table (lang_altertable.html §7): foreign keys off around the transaction, so
  // that dropping a rebuilt table does not cascade into the tables referencing it, and checked before the commit.
  const enforced = db.pragma('foreign_keys', { simple: true }) === 1;
  if (enforced) db.pragma('foreign_keys = OFF');
  try {
    // IMMEDIATE takes the write lock before reading the version, so two processes cannot both migrate.
    return db
      .transaction(() => {
        const from = schemaVersion(db);
        if (from > latest) throw new DatabaseTooNewError(file, from, latest);
        for (const m of migrations.slice(from)) {
          m.up(db);
          db.pragma(`user_version = ${m.version}`);
        }
        const broken = enforced ? (db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[]) : [];
        if (broken.length > 0) {
          const first = broken[0]!;
          throw new Error(`${file}: migrating left ${broken.length} broken foreign keys (first: ${first.table} row ${first.rowid} → ${first.parent})`);
        }
        return { from, to: latest };
      })
      .immediate();
  } finally {
    if (enforced) db.pragma('foreign_keys = ON');
  }
}
