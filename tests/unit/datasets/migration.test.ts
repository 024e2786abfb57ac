// Migration 002 (datasets) on a database seeded at version 1: old rows survive, new tables are STRICT and indexed.
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion, type Database } from '../../../src/main/core/db/database.ts';
import { SCHEMA } from './helpers.ts';

const SHA = (c: string): string => c.repeat(64);

let db: Database;
beforeEach(() => {
  db = new BetterSqlite3(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, SCHEMA.slice(0, 1));
  db.prepare(`INSERT INTO jobs (id, kind, params, status, created_at) VALUES ('j1', 'device-check', '{}', 'succeeded', 1)`).run();
  db.prepare(`INSERT INTO blobs (sha256, size, kind, refcount, created_at) VALUES (?, 10, 'image', 1, 1)`).run(SHA('a'));
  db.prepare(`INSERT INTO settings (key, value) VALUES ('theme', '"dark"')`).run();
  migrate(db, SCHEMA.slice(0, 2));
});
afterEach(() => db.close());

function insertItem(datasetId: number, imageSha: string, extra: Record<string, unknown> = {}): number {
  const row = { dataset_id: datasetId, width: 10, height: 10, image_sha: imageSha, thumb_sha: SHA('b'), created_at: 1, updated_at: 1, ...extra };
  const cols = Object.keys(row);
  return Number(
    db.prepare(`INSERT INTO items (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`).run(row).lastInsertRowid,
  );
}

describe('migration 002-datasets', () => {
  it('moves a version-1 database to version 2 and keeps its jobs, blobs and settings', () => {
    expect(schemaVersion(db)).toBe(2);
    expect(db.prepare('SELECT id, status FROM jobs').all()).toEqual([{ id: 'j1', status: 'succeeded' }]);
    expect(db.prepare('SELECT sha256, refcount FROM blobs').all()).toEqual([{ sha256: SHA('a'), refcount: 1 }]);
    expect(db.prepare('SELECT value FROM settings').get()).toEqual({ value: '"dark"' });
  });

  it('creates STRICT tables that refuse bad values', () => {
    for (const table of ['datasets', 'items', 'tags', 'item_tags', 'dataset_imports', 'import_files']) {
      const sql = (db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").get(table) as { sql: string }).sql;
      expect(sql, table).toMatch(/STRICT/);
    }
    const id = Number(db.prepare(`INSERT INTO datasets (name, kind, created_at) VALUES ('d', 'photos', 1)`).run().lastInsertRowid);
    expect(() => db.prepare(`INSERT INTO datasets (name, kind, created_at) VALUES ('e', 'videos', 1)`).run()).toThrow(/CHECK/);
    expect(() => db.prepare(`INSERT INTO datasets (name, kind, created_at) VALUES ('d', 'photos', 1)`).run()).toThrow(/UNIQUE/);
    expect(() => insertItem(id, SHA('c'), { status: 'maybe' })).toThrow(/CHECK/);
    expect(() => insertItem(id, SHA('c'), { rating: 6 })).toThrow(/CHECK/);
    expect(() => insertItem(id, SHA('c'), { width: 'wide' })).toThrow(/cannot store TEXT value in INTEGER column/);
    expect(() => insertItem(id, SHA('c'), { face: 'not json' })).toThrow(/CHECK/);
    expect(() => insertItem(999, SHA('c'))).toThrow(/FOREIGN KEY/);
  });

  it('allows each content once per dataset, pairs keyed by both images', () => {
    const a = Number(db.prepare(`INSERT INTO datasets (name, kind, created_at) VALUES ('a', 'pairs', 1)`).run().lastInsertRowid);
    const b = Number(db.prepare(`INSERT INTO datasets (name, kind, created_at) VALUES ('b', 'pairs', 1)`).run().lastInsertRowid);
    insertItem(a, SHA('c'));
    expect(() => insertItem(a, SHA('c'))).toThrow(/UNIQUE/);
    insertItem(b, SHA('c'));
    insertItem(a, SHA('c'), { target_sha: SHA('d') });
    expect(() => insertItem(a, SHA('c'), { target_sha: SHA('d') })).toThrow(/UNIQUE/);
  });

  it('deletes items, tags and import records with their dataset', () => {
    const id = Number(db.prepare(`INSERT INTO datasets (name, kind, created_at) VALUES ('d', 'photos', 1)`).run().lastInsertRowid);
    const item = insertItem(id, SHA('c'));
    const tag = Number(db.prepare(`INSERT INTO tags (dataset_id, name) VALUES (?, 'age:adult')`).run(id).lastInsertRowid);
    db.prepare('INSERT INTO item_tags (item_id, tag_id) VALUES (?, ?)').run(item, tag);
    db.prepare(`INSERT INTO dataset_imports (id, dataset_id, params, created_at) VALUES ('i1', ?, '{}', 1)`).run(id);
    db.prepare(`INSERT INTO import_files (import_id, seq, path, outcome, item_id) VALUES ('i1', 0, '/x.png', 'imported', ?)`).run(item);
    db.prepare('DELETE FROM datasets WHERE id = ?').run(id);
    for (const table of ['items', 'tags', 'item_tags', 'dataset_imports', 'import_files']) {
      expect((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n, table).toBe(0);
    }
  });

  it('answers the grid filters from indexes, not table scans', () => {
    const plan = (sql: string): string =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(1) as { detail: string }[]).map((r) => r.detail).join(' | ');
    expect(plan(`SELECT id FROM items WHERE dataset_id = ? AND status = 'accepted' ORDER BY id LIMIT 100`)).toMatch(/items_by_status/);
    expect(plan(`SELECT id FROM items WHERE dataset_id = ? AND rating >= 3 ORDER BY rating DESC, id`)).toMatch(/items_by_rating/);
    expect(plan(`SELECT id FROM items WHERE dataset_id = ? AND has_face = 1 ORDER BY id`)).toMatch(/items_by_face/);
    expect(plan(`SELECT item_id FROM item_tags WHERE tag_id = ?`)).toMatch(/item_tags_by_tag|PRIMARY KEY/);
    expect(plan(`SELECT status, count(*) FROM items WHERE dataset_id = ? GROUP BY status`)).toMatch(/COVERING INDEX items_by_status/);
  });
});
