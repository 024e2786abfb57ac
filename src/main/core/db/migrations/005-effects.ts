// Schema version 5: CLIP models, per-teacher channel relevance tables (blobs), and the prompts artists write.
import type { Migration } from './types.ts';

export const migration005: Migration = {
  version: 5,
  name: 'effects',
  up(db) {
    db.exec(`
      -- An imported CLIP folder (Hugging Face ONNX layout); each *_sha holds one reference on its blob.
      CREATE TABLE clip_models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
        text_sha TEXT NOT NULL CHECK (length(text_sha) = 64),
        vision_sha TEXT NOT NULL CHECK (length(vision_sha) = 64),
        -- Tokenizer files, preprocessing and the embedding size as JSON (ClipFolderInfo).
        config TEXT NOT NULL CHECK (json_valid(config)),
        imported_at INTEGER NOT NULL
      ) STRICT;

      -- Channel relevance of one teacher under one CLIP model: [channels, dim] directions and the S statistics.
      CREATE TABLE relevance (
        teacher_id INTEGER NOT NULL REFERENCES teachers (id) ON DELETE CASCADE,
        clip_id INTEGER NOT NULL REFERENCES clip_models (id) ON DELETE CASCADE,
        images INTEGER NOT NULL CHECK (images > 0),
        directions_sha TEXT NOT NULL CHECK (length(directions_sha) = 64),
        stats_sha TEXT NOT NULL CHECK (length(stats_sha) = 64),
        created_at INTEGER NOT NULL,
        PRIMARY KEY (teacher_id, clip_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE prompts (
        id INTEGER PRIMARY KEY,
        teacher_id INTEGER NOT NULL REFERENCES teachers (id) ON DELETE CASCADE,
        target TEXT NOT NULL CHECK (length(trim(target)) > 0),
        neutral TEXT NOT NULL CHECK (length(trim(neutral)) > 0),
        alpha REAL NOT NULL CHECK (alpha BETWEEN -10 AND 10),
        beta REAL NOT NULL CHECK (beta BETWEEN 0 AND 1),
        is_favorite INTEGER NOT NULL DEFAULT 0 CHECK (is_favorite IN (0, 1)),
        created_at INTEGER NOT NULL,
        used_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX prompts_by_teacher ON prompts (teacher_id, used_at DESC);
    `);
  },
};
