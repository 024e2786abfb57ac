// Schema version 1: jobs, content-addressed blobs and settings.
import type { Migration } from './types.ts';

export const migration001: Migration = {
  version: 1,
  name: 'initial',
  up(db) {
    db.exec(`
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY NOT NULL,
        kind TEXT NOT NULL,
        params TEXT NOT NULL CHECK (json_valid(params)),
        status TEXT NOT NULL
          CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
        progress_step REAL NOT NULL DEFAULT 0,
        progress_total REAL NOT NULL DEFAULT 0,
        progress_message TEXT NOT NULL DEFAULT '',
        error TEXT,
        result TEXT CHECK (result IS NULL OR json_valid(result)),
        checkpoint TEXT CHECK (checkpoint IS NULL OR json_valid(checkpoint)),
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER
      ) STRICT;
      CREATE INDEX jobs_by_created ON jobs (created_at DESC);
      CREATE INDEX jobs_by_kind_status ON jobs (kind, status, finished_at DESC);

      CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
        size INTEGER NOT NULL CHECK (size >= 0),
        kind TEXT NOT NULL,
        refcount INTEGER NOT NULL DEFAULT 0 CHECK (refcount >= 0),
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX blobs_unreferenced ON blobs (refcount) WHERE refcount = 0;

      CREATE TABLE settings (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL CHECK (json_valid(value))
      ) STRICT;
    `);
  },
};
