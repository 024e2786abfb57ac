// Migration 007 (ONNX teachers) on a database seeded at version 6: every teacher, prompt and relevance row survives.
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion, type Database } from '../../../src/main/core/db/database.ts';
import { MIGRATIONS } from '../../../src/main/core/db/migrations/index.ts';

const SHA = (c: string): string => c.repeat(64);

let db: Database;
let teachersBefore: unknown[];
beforeEach(() => {
  db = new BetterSqlite3(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, MIGRATIONS.slice(0, 6));
  db.prepare(`INSERT INTO blobs (sha256, size, kind, refcount, created_at) VALUES (?, 10, 'latent', 1, 1)`).run(SHA('e'));
  db.prepare(
    `INSERT INTO teachers (id, name, format, source_sha, weights_sha, config, parameter_count, w_avg, imported_at)
     VALUES (4, 'Faces', 'nvidia', ?, ?, '{"resolution":256}', 30000000, 'file', 5),
            (9, 'Tiny', 'studio-random', ?, ?, '{"resolution":32}', 1000, 'estimated', 6)`,
  ).run(SHA('a'), SHA('b'), SHA('c'), SHA('d'));
  db.prepare(`INSERT INTO clip_models (id, name, text_sha, vision_sha, config, imported_at) VALUES (1, 'clip', ?, ?, '{}', 1)`).run(SHA('f'), SHA('0'));
  db.prepare(`INSERT INTO relevance (teacher_id, clip_id, images, directions_sha, stats_sha, created_at) VALUES (4, 1, 100, ?, ?, 1)`).run(SHA('1'), SHA('2'));
  db.prepare(
    `INSERT INTO prompts (id, teacher_id, target, neutral, alpha, beta, created_at, used_at) VALUES (1, 4, 'a smiling face', 'a face', 4.1, 0.15, 1, 1), (2, 9, 'old', 'a face', 1, 0.1, 1, 1)`,
  ).run();
  db.prepare(`INSERT INTO datasets (id, name, kind, created_at) VALUES (1, 'synthetic', 'synthetic', 1)`).run();
  db.prepare(
    `INSERT INTO items (dataset_id, width, height, image_sha, thumb_sha, provenance, created_at, updated_at) VALUES (1, 4, 4, ?, ?, ?, 1, 1)`,
  ).run(SHA('3'), SHA('4'), JSON.stringify({ source: 'teacher', teacherId: 4, latentSha256: SHA('e') }));
  teachersBefore = db.prepare('SELECT * FROM teachers ORDER BY id').all();
  migrate(db, MIGRATIONS.slice(0, 7));
});
afterEach(() => db.close());

function insertTeacher(extra: Record<string, unknown>): void {
  const row = { name: 'o', format: 'onnx', source_sha: SHA('5'), weights_sha: SHA('6'), config: '{"resolution":64}', parameter_count: 10, w_avg: null, imported_at: 1, ...extra };
  const cols = Object.keys(row);
  db.prepare(`INSERT INTO teachers (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`).run(row);
}

describe('migration 007-onnx-teachers', () => {
  it('keeps every teacher row, and the prompts and relevance that reference them', () => {
    expect(schemaVersion(db)).toBe(7);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.prepare('SELECT * FROM teachers ORDER BY id').all()).toEqual(teachersBefore);
    expect(db.prepare('SELECT id, teacher_id FROM prompts ORDER BY id').all()).toEqual([{ id: 1, teacher_id: 4 }, { id: 2, teacher_id: 9 }]);
    expect(db.prepare('SELECT teacher_id, clip_id FROM relevance').all()).toEqual([{ teacher_id: 4, clip_id: 1 }]);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    const sql = (db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'teachers'").get() as { sql: string }).sql;
    expect(sql).toMatch(/STRICT/);
    expect(sql).not.toMatch(/teachers_new/);
  });

  it('still cascades a teacher delete into its prompts and relevance', () => {
    db.prepare('DELETE FROM teachers WHERE id = 4').run();
    expect(db.prepare('SELECT id FROM prompts').all()).toEqual([{ id: 2 }]);
    expect(db.prepare('SELECT count(*) AS n FROM relevance').get()).toEqual({ n: 0 });
    expect(() => db.prepare(`INSERT INTO prompts (teacher_id, target, neutral, alpha, beta, created_at, used_at) VALUES (4, 'x', 'y', 1, 0.1, 1, 1)`).run()).toThrow(/FOREIGN KEY/);
  });

  it('accepts an onnx teacher without w_avg and refuses w_avg where it does not belong', () => {
    insertTeacher({});
    insertTeacher({ name: 'constants only', parameter_count: 0 });
    expect(() => insertTeacher({ name: 'b', w_avg: 'file' })).toThrow(/CHECK/);
    expect(() => insertTeacher({ name: 'c', format: 'nvidia' })).toThrow(/CHECK/);
    expect(() => insertTeacher({ name: 'd', format: 'nvidia', w_avg: 'file', parameter_count: 0 })).toThrow(/CHECK/);
    expect(() => insertTeacher({ name: 'e', format: 'keras' })).toThrow(/CHECK/);
    expect(() => insertTeacher({ name: 'o' })).toThrow(/UNIQUE/);
  });

  it('a migration that leaves a dangling foreign key is rolled back as a whole', () => {
    const dangling = {
      version: 8,
      name: 'dangling',
      up: (d: Database) => d.exec(`INSERT INTO prompts (teacher_id, target, neutral, alpha, beta, created_at, used_at) VALUES (77, 'x', 'y', 1, 0.1, 1, 1)`),
    };
    expect(() => migrate(db, [...MIGRATIONS.slice(0, 7), dangling])).toThrow(/left 1 broken foreign keys \(first: prompts row \d+ → teachers\)/);
    expect(schemaVersion(db)).toBe(7);
    expect(db.prepare('SELECT count(*) AS n FROM prompts').get()).toEqual({ n: 2 });
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('leaves the items trigger of 003 working: deleting a teacher sample releases its latent', () => {
    const refcount = (): number => (db.prepare('SELECT refcount FROM blobs WHERE sha256 = ?').get(SHA('e')) as { refcount: number }).refcount;
    expect(refcount()).toBe(1);
    db.prepare('DELETE FROM items').run();
    expect(refcount()).toBe(0);
  });
});
