// Schema version 7: teachers may be plain ONNX generators (format 'onnx'), which have no w_avg.
import type { Migration } from './types.ts';

/**
 * SQLite cannot alter a CHECK, so the table is rebuilt the way lang_altertable.html §7 describes: new table, copy,
 * drop, rename. `migrate` runs this with foreign keys off (else the drop would cascade into prompts and relevance)
 * and runs `foreign_key_check` before it commits. The table has no indexes or triggers of its own besides the
 * UNIQUE name; the items trigger of 003 is on `items` and stays as it is.
 */
export const migration007: Migration = {
  version: 7,
  name: 'onnx-teachers',
  up(db) {
    db.exec(`
      CREATE TABLE teachers_new (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
        format TEXT NOT NULL CHECK (format IN ('nvidia', 'rosinality', 'studio-random', 'onnx')),
        source_sha TEXT NOT NULL CHECK (length(source_sha) = 64),
        -- For 'onnx' the model file as imported; else the canonical NVIDIA-named .safetensors.
        weights_sha TEXT NOT NULL CHECK (length(weights_sha) = 64),
        -- TeacherArchitecture as JSON; OnnxTeacherIO (the declared and checked I/O) for 'onnx'.
        config TEXT NOT NULL CHECK (json_valid(config)),
        -- An ONNX model may keep all its weights in Constant nodes, and then has no initialisers to count.
        parameter_count INTEGER NOT NULL CHECK (parameter_count > 0 OR (format = 'onnx' AND parameter_count = 0)),
        -- w_avg and truncation belong to StyleGAN2: NULL exactly for a black-box 'onnx' generator.
        w_avg TEXT CHECK (w_avg IN ('file', 'estimated')),
        imported_at INTEGER NOT NULL,
        CHECK ((format = 'onnx') = (w_avg IS NULL))
      ) STRICT;
      INSERT INTO teachers_new (id, name, format, source_sha, weights_sha, config, parameter_count, w_avg, imported_at)
        SELECT id, name, format, source_sha, weights_sha, config, parameter_count, w_avg, imported_at FROM teachers;
      DROP TABLE teachers;
      ALTER TABLE teachers_new RENAME TO teachers;
    `);
  },
};
