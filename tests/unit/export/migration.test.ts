// Migration 006 (exports) on a database seeded at version 5: old rows survive, the new table is STRICT and checked.
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion, type Database } from '../../../src/main/core/db/database.ts';
import { migration006 } from '../../../src/main/core/db/migrations/006-exports.ts';
import { MIGRATIONS } from '../../../src/main/core/db/migrations/index.ts';

let db: Database;
beforeEach(() => {
  db = new BetterSqlite3(':memory:');
  db.pragma('foreign_keys = ON');
  const chain = MIGRATIONS.slice(0, 5);
  migrate(db, chain);
  db.prepare(`INSERT INTO jobs (id, kind, params, status, created_at) VALUES ('j1', 'device-check', '{}', 'succeeded', 1)`).run();
  db.prepare(`INSERT INTO settings (key, value) VALUES ('theme', '"dark"')`).run();
  migrate(db, [...chain, migration006]);
});
afterEach(() => db.close());

const row = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'Smile',
  description: '',
  run_id: null,
  checkpoint: null,
  path: '/tmp/smile.fxpkg',
  size: 100,
  sha256: 'a'.repeat(64),
  variants: '["fp32"]',
  median_ms: null,
  provider: null,
  created_at: 1,
  ...extra,
});

function insert(values: Record<string, unknown>): number {
  const cols = Object.keys(values);
  return Number(db.prepare(`INSERT INTO exports (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`).run(values).lastInsertRowid);
}

describe('migration 006-exports', () => {
  it('moves a version-5 database to version 6 and keeps its rows', () => {
    expect(schemaVersion(db)).toBe(6);
    expect(db.prepare('SELECT id, status FROM jobs').all()).toEqual([{ id: 'j1', status: 'succeeded' }]);
    expect(db.prepare('SELECT value FROM settings').get()).toEqual({ value: '"dark"' });
    expect(db.prepare('SELECT count(*) AS n FROM exports').get()).toEqual({ n: 0 });
  });

  it('creates a STRICT table that refuses bad values', () => {
    const sql = (db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'exports'").get() as { sql: string }).sql;
    expect(sql).toMatch(/STRICT/);
    expect(insert(row({ run_id: 3, checkpoint: 'b'.repeat(64), variants: '["fp32","fp16"]', median_ms: 1.5, provider: 'cpu' }))).toBe(1);
    expect(() => insert(row({ name: '  ' }))).toThrow(/CHECK/);
    expect(() => insert(row({ sha256: 'abc' }))).toThrow(/CHECK/);
    expect(() => insert(row({ size: 0 }))).toThrow(/CHECK/);
    expect(() => insert(row({ variants: 'fp32' }))).toThrow(/CHECK/);
    expect(() => insert(row({ checkpoint: 'short' }))).toThrow(/CHECK/);
    expect(() => insert(row({ size: 'big' }))).toThrow(/cannot store TEXT value in INTEGER column/);
  });
});
