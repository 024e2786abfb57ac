// Helpers of the dataset tests: a migrated database with a blob store in a temp folder, and generated images.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import sharp from 'sharp';
import { BlobStore } from '../../../src/main/core/blob-store.ts';
import { migrate, type Database } from '../../../src/main/core/db/database.ts';
import { MIGRATIONS } from '../../../src/main/core/db/migrations/index.ts';
import { migration002 } from '../../../src/main/core/db/migrations/002-datasets.ts';
import { DatasetStore } from '../../../src/main/datasets/store.ts';

/** The schema up to and including the datasets migration (listed in MIGRATIONS once the lead registers it). */
export const SCHEMA = MIGRATIONS.some((m) => m.name === 'datasets') ? MIGRATIONS : [...MIGRATIONS, migration002];

/** Whether the product's migration list includes 002-datasets (needed by code that opens the database itself). */
export const IS_MIGRATION_REGISTERED = SCHEMA === MIGRATIONS;

/** A temp folder holding a migrated database, a blob store and a dataset store; `cleanup` closes and removes it. */
export function makeWorkspace(): { dir: string; db: Database; blobs: BlobStore; store: DatasetStore; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'effects-studio-datasets-'));
  const db = new BetterSqlite3(join(dir, 'studio.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  migrate(db, SCHEMA);
  const blobs = new BlobStore(db, join(dir, 'blobs'));
  const store = new DatasetStore(db, blobs);
  return {
    dir,
    db,
    blobs,
    store,
    cleanup: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A random-noise image (every call differs) encoded as `format`. */
export async function noiseImage(width: number, height: number, format: 'jpeg' | 'png' | 'webp'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian', mean: 128, sigma: 50 } } })
    .toFormat(format)
    .toBuffer();
}
