// Schema version 6: packages the studio exported (.fxpkg files on disk, identified by their sha256).
import type { Migration } from './types.ts';

export const migration006: Migration = {
  version: 6,
  name: 'exports',
  up(db) {
    db.exec(`
      CREATE TABLE exports (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL CHECK (length(trim(name)) > 0),
        description TEXT NOT NULL DEFAULT '',
        -- The training run and checkpoint (its blob sha256) it was made from; NULL for a plain model. No foreign
        -- key: a package is a file that stays valid after its run is deleted.
        run_id INTEGER,
        checkpoint TEXT CHECK (checkpoint IS NULL OR length(checkpoint) = 64),
        path TEXT NOT NULL CHECK (length(path) > 0),
        size INTEGER NOT NULL CHECK (size > 0),
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
        -- ["fp32"] or ["fp32","fp16"].
        variants TEXT NOT NULL CHECK (json_valid(variants)),
        -- Median ms per frame measured at export, and the provider it ran on.
        median_ms REAL CHECK (median_ms IS NULL OR median_ms >= 0),
        provider TEXT,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX exports_by_created ON exports (created_at DESC, id DESC);
    `);
  },
};
