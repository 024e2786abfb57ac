// Schema version 4: student training runs, their metric series, checkpoints and preview strips (blobs in the blob store).
import type { Migration } from './types.ts';

export const migration004: Migration = {
  version: 4,
  name: 'student-runs',
  up(db) {
    db.exec(`
      -- One row per train-student job; the job keeps the lifecycle, the run keeps what training produced.
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL UNIQUE,
        -- NULL once the dataset is deleted: the run and its checkpoints stay.
        dataset_id INTEGER REFERENCES datasets (id) ON DELETE SET NULL,
        config TEXT NOT NULL CHECK (json_valid(config)),
        status TEXT NOT NULL DEFAULT 'running'
          CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'interrupted', 'stopped-early')),
        provider TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX runs_by_dataset ON runs (dataset_id, id);

      -- One value per (run, split, metric, step): a resumed run rewriting a step replaces it, never duplicates it.
      CREATE TABLE run_metrics (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        split TEXT NOT NULL CHECK (split IN ('train', 'validation')),
        name TEXT NOT NULL CHECK (length(name) > 0),
        step INTEGER NOT NULL CHECK (step >= 0),
        value REAL NOT NULL,
        PRIMARY KEY (run_id, split, name, step)
      ) STRICT, WITHOUT ROWID;

      -- Each blob_sha holds one reference on its blob.
      CREATE TABLE run_checkpoints (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        step INTEGER NOT NULL CHECK (step >= 0),
        blob_sha TEXT NOT NULL CHECK (length(blob_sha) = 64),
        bytes INTEGER NOT NULL CHECK (bytes > 0),
        created_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, step)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE run_previews (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        step INTEGER NOT NULL CHECK (step >= 0),
        blob_sha TEXT NOT NULL CHECK (length(blob_sha) = 64),
        PRIMARY KEY (run_id, step)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
