// Schema version 3: imported teachers (weights in the blob store) and release of a synthetic item's latent blob.
import type { Migration } from './types.ts';

export const migration003: Migration = {
  version: 3,
  name: 'teachers',
  up(db) {
    db.exec(`
      -- weights_sha holds one reference on its blob (see BlobStore); deleting a teacher releases it.
      CREATE TABLE teachers (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
        format TEXT NOT NULL CHECK (format IN ('nvidia', 'rosinality', 'studio-random')),
        source_sha TEXT NOT NULL CHECK (length(source_sha) = 64),
        weights_sha TEXT NOT NULL CHECK (length(weights_sha) = 64),
        -- TeacherArchitecture as JSON.
        config TEXT NOT NULL CHECK (json_valid(config)),
        parameter_count INTEGER NOT NULL CHECK (parameter_count > 0),
        w_avg TEXT NOT NULL CHECK (w_avg IN ('file', 'estimated')),
        imported_at INTEGER NOT NULL
      ) STRICT;

      -- A teacher's synthetic sample holds one reference on its latent blob (provenance.latentSha256); the
      -- dataset store releases only image blobs, so the latent is released here when the item goes (cascades too).
      CREATE TRIGGER items_release_teacher_latent AFTER DELETE ON items
      WHEN json_extract(old.provenance, '$.source') = 'teacher'
        AND json_extract(old.provenance, '$.latentSha256') IS NOT NULL
      BEGIN
        UPDATE blobs SET refcount = refcount - 1
        WHERE sha256 = json_extract(old.provenance, '$.latentSha256') AND refcount > 0;
      END;
    `);
  },
};
