// Schema version 2: datasets, their items (images in the blob store), tags, and per-file outcomes of imports.
import type { Migration } from './types.ts';

export const migration002: Migration = {
  version: 2,
  name: 'datasets',
  up(db) {
    db.exec(`
      CREATE TABLE datasets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
        kind TEXT NOT NULL CHECK (kind IN ('photos', 'pairs', 'synthetic')),
        -- Items land in train or validation by a hash of (split_seed, image sha256): stable as items are added.
        split_seed INTEGER NOT NULL DEFAULT 0,
        validation_fraction REAL NOT NULL DEFAULT 0.1 CHECK (validation_fraction >= 0 AND validation_fraction <= 1),
        created_at INTEGER NOT NULL
      ) STRICT;

      -- Each *_sha column holds one reference on its blob (see BlobStore); deleting an item releases them.
      CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
        rating INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
        notes TEXT NOT NULL DEFAULT '',
        -- Size with the EXIF orientation applied.
        width INTEGER NOT NULL CHECK (width > 0),
        height INTEGER NOT NULL CHECK (height > 0),
        -- NULL: faces were not looked for (import without detection).
        has_face INTEGER CHECK (has_face IN (0, 1)),
        face_count INTEGER NOT NULL DEFAULT 0 CHECK (face_count >= 0),
        -- Best face {score, box, keypoints} in oriented image pixels; the alignment is a function of the keypoints.
        face TEXT CHECK (face IS NULL OR json_valid(face)),
        source_path TEXT,
        target_source_path TEXT,
        -- Where a generated item came from: {seed, latent, prompt, ...}.
        provenance TEXT CHECK (provenance IS NULL OR json_valid(provenance)),
        image_sha TEXT NOT NULL CHECK (length(image_sha) = 64),
        thumb_sha TEXT NOT NULL CHECK (length(thumb_sha) = 64),
        -- The edited ("after") image of a pair and its thumbnail.
        target_sha TEXT CHECK (target_sha IS NULL OR length(target_sha) = 64),
        target_thumb_sha TEXT CHECK (target_thumb_sha IS NULL OR length(target_thumb_sha) = 64),
        -- 64-bit perceptual hash of the image as 16 hex digits.
        phash TEXT CHECK (phash IS NULL OR length(phash) = 16),
        split TEXT NOT NULL DEFAULT 'train' CHECK (split IN ('train', 'validation')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      -- One item per distinct content in a dataset: the exact-duplicate rule, enforced.
      CREATE UNIQUE INDEX items_unique_content ON items (dataset_id, image_sha, ifnull(target_sha, ''));
      -- The curation grid filters and sorts inside one dataset; (dataset_id, x, id) serves filter + stable order + counts.
      -- The unfiltered grid: a dataset's items in id order without a sort.
      CREATE INDEX items_by_dataset ON items (dataset_id, id);
      CREATE INDEX items_by_status ON items (dataset_id, status, id);
      CREATE INDEX items_by_rating ON items (dataset_id, rating, id);
      CREATE INDEX items_by_face ON items (dataset_id, has_face, id);
      CREATE INDEX items_by_split ON items (dataset_id, split, id);

      CREATE TABLE tags (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
        -- "group:value" tags (e.g. "age:adult") form the groups of the balance view.
        name TEXT NOT NULL CHECK (length(trim(name)) > 0),
        UNIQUE (dataset_id, name)
      ) STRICT;

      CREATE TABLE item_tags (
        item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
        tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
        PRIMARY KEY (item_id, tag_id)
      ) STRICT;
      CREATE INDEX item_tags_by_tag ON item_tags (tag_id, item_id);

      CREATE TABLE dataset_imports (
        id TEXT PRIMARY KEY NOT NULL,
        dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
        params TEXT NOT NULL CHECK (json_valid(params)),
        created_at INTEGER NOT NULL,
        finished_at INTEGER
      ) STRICT;

      -- The import's work list, written before any file is read, so a resumed import picks up exactly the pending rows.
      CREATE TABLE import_files (
        import_id TEXT NOT NULL REFERENCES dataset_imports (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        path TEXT NOT NULL,
        target_path TEXT,
        outcome TEXT NOT NULL DEFAULT 'pending'
          CHECK (outcome IN ('pending', 'imported', 'duplicate', 'error', 'skipped')),
        reason TEXT,
        item_id INTEGER REFERENCES items (id) ON DELETE SET NULL,
        PRIMARY KEY (import_id, seq)
      ) STRICT;
      CREATE INDEX import_files_by_outcome ON import_files (import_id, outcome, seq);
    `);
  },
};
