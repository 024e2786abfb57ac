// The shape of one schema migration.
import type { Database } from 'better-sqlite3';

/** One step of the schema: `up` moves a database at `version - 1` to `version`. Runs inside a transaction. */
export interface Migration {
  version: number;
  /** Short kebab-case name, matching the file name after its number. */
  name: string;
  up(db: Database): void;
}
