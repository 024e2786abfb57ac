// Migration 003 (teachers) on a database seeded at version 2: old rows survive, teachers are STRICT, latents are released.
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion, type Database } from '../../../src/main/core/db/database.ts';
import { MIGRATIONS } from '../../../src/main/core/db/migrations/index.ts';

const SHA = (c: string): string => c.repeat(64);
const V3 = MIGRATIONS.slice(0, 3);

let db: Database;
beforeEach(() => {
  db = new BetterSqlite3(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, MIGRATIONS.slice(0, 2));
  db.prepare(`INSERT INTO blobs (sha256, size, kind, refcount, created_at) VALUES (?, 10, 'image', 1, 1)`).run(SHA('a'));
  db.prepare(`INSERT INTO datasets (id, name, kind, created_at) VALUES (1, 'old', 'photos', 1)`).run();
  db.prepare(
    `INSERT INTO items (dataset_id, width, height, image_sha, thumb_sha, created_at, updated_at) VALUES (1, 4, 4, ?, ?, 1, 1)`,
  ).run(SHA('a'), SHA('b'));
  migrate(db, V3);
});
afterEach(() => db.close());

function insertTeacher(extra: Record<string, unknown> = {}): void {
  const row = {
    name: 't',
    format: 'nvidia',
    source_sha: SHA('c'),
    weights_sha: SHA('d'),
    config: '{"resolution":32}',
    parameter_count: 10,
    w_avg: 'file',
    imported_at: 1,
    ...extra,
  };
  const cols = Object.keys(row);
  db.prepare(`INSERT INTO teachers (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`).run(row);
}

function refcount(sha: string): number {
  return (db.prepare('SELECT refcount FROM blobs WHERE sha256 = ?').get(sha) as { refcount: number }).refcount;
}

describe('migration 003-teachers', () => {
  it('moves a version-2 database to version 3 and keeps its datasets, items and blobs', () => {
    expect(schemaVersion(db)).toBe(3);
    expect(db.prepare('SELECT name FROM datasets').all()).toEqual([{ name: 'old' }]);
    expect(db.prepare('SELECT image_sha FROM items').all()).toEqual([{ image_sha: SHA('a') }]);
    expect(refcount(SHA('a'))).toBe(1);
  });

  it('creates a STRICT teachers table that refuses bad values', () => {
    const sql = (db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'teachers'").get() as { sql: string }).sql;
    expect(sql).toMatch(/STRICT/);
    insertTeacher();
    expect(() => insertTeacher()).toThrow(/UNIQUE/);
    expect(() => insertTeacher({ name: '  ' })).toThrow(/CHECK/);
    expect(() => insertTeacher({ name: 'b', format: 'onnx' })).toThrow(/CHECK/);
    expect(() => insertTeacher({ name: 'b', weights_sha: 'short' })).toThrow(/CHECK/);
    expect(() => insertTeacher({ name: 'b', config: 'not json' })).toThrow(/CHECK/);
    expect(() => insertTeacher({ name: 'b', parameter_count: 'many' })).toThrow(/cannot store TEXT value in INTEGER column/);
    expect(() => insertTeacher({ name: 'b', w_avg: 'guessed' })).toThrow(/CHECK/);
  });

  it('releases the latent blob of a teacher sample when its item or dataset is deleted, and nothing else', () => {
    db.prepare(`INSERT INTO blobs (sha256, size, kind, refcount, created_at) VALUES (?, 10, 'latent', 2, 1)`).run(SHA('e'));
    db.prepare(`INSERT INTO datasets (id, name, kind, created_at) VALUES (2, 'synthetic', 'synthetic', 1)`).run();
    const provenance = JSON.stringify({ source: 'teacher', seed: 1, latentSha256: SHA('e') });
    const insert = db.prepare(
      `INSERT INTO items (dataset_id, width, height, image_sha, thumb_sha, provenance, created_at, updated_at)
       VALUES (2, 4, 4, ?, ?, ?, 1, 1)`,
    );
    const first = Number(insert.run(SHA('1'), SHA('2'), provenance).lastInsertRowid);
    insert.run(SHA('3'), SHA('4'), provenance);
    insert.run(SHA('5'), SHA('6'), JSON.stringify({ source: 'other', latentSha256: SHA('a') }));
    db.prepare('DELETE FROM items WHERE id = ?').run(first);
    expect(refcount(SHA('e'))).toBe(1);
    db.prepare('DELETE FROM datasets WHERE id = 2').run();
    expect(refcount(SHA('e'))).toBe(0);
    expect(refcount(SHA('a'))).toBe(1);
    db.prepare('DELETE FROM items').run();
    expect(refcount(SHA('a'))).toBe(1);
  });
});
