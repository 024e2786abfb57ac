// Schema migrations: each migration is tested from the state before it; a newer database is refused untouched.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DatabaseTooNewError,
  SCHEMA_VERSION,
  migrate,
  openDatabase,
  schemaVersion,
} from '../../../src/main/core/db/database.ts';
import { MIGRATIONS } from '../../../src/main/core/db/migrations/index.ts';
import { makeTempDir } from './temp-dir.ts';

let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  temp = makeTempDir();
});
afterEach(() => temp.cleanup());

function sha(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function tableNames(db: BetterSqlite3.Database): string[] {
  return (db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
}

describe('openDatabase', () => {
  it('numbers migrations 1..n in order', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('refuses a database from a newer studio, naming both versions, and leaves the file untouched', () => {
    const file = join(temp.dir, 'future.db');
    const future = new BetterSqlite3(file);
    future.exec('CREATE TABLE from_the_future (x INTEGER) STRICT; INSERT INTO from_the_future VALUES (42);');
    future.pragma(`user_version = ${SCHEMA_VERSION + 7}`);
    future.close();
    const before = sha(file);

    let caught: unknown;
    try {
      openDatabase({ file });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DatabaseTooNewError);
    const message = (caught as Error).message;
    expect(message).toContain(`schema version ${SCHEMA_VERSION + 7}`);
    expect(message).toContain(`up to ${SCHEMA_VERSION}`);
    expect(message).toContain(file);
    expect(sha(file)).toBe(before);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('rolls back every pending migration when one fails', () => {
    const db = new BetterSqlite3(':memory:');
    const broken = [
      ...MIGRATIONS,
      { version: MIGRATIONS.length + 1, name: 'broken', up: (d: BetterSqlite3.Database) => d.exec('CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;') },
    ];
    expect(() => migrate(db, broken)).toThrow(/no_such_table/);
    expect(schemaVersion(db)).toBe(0);
    expect(tableNames(db)).toEqual([]);
    db.close();
  });

  it('refuses a file that is not a database, naming it', () => {
    const file = join(temp.dir, 'not-a.db');
    writeFileSync(file, 'this is a text file, long enough to have a header that is not SQLite '.repeat(4));
    expect(() => openDatabase({ file })).toThrow(new RegExp(`Could not open the database ${file}`));
  });
});

describe('migration 001-initial', () => {
  it.each([
    ['a new file', (file: string) => file],
    ['an existing empty file', (file: string) => (writeFileSync(file, ''), file)],
  ])('creates the schema in %s with WAL and foreign keys on', (_, prepare) => {
    const file = prepare(join(temp.dir, 'studio.db'));
    const db = openDatabase({ file });
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(tableNames(db)).toEqual(expect.arrayContaining(['blobs', 'jobs', 'settings']));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    db.close();
    // Opening again is a no-op for the schema.
    const again = openDatabase({ file });
    expect(schemaVersion(again)).toBe(SCHEMA_VERSION);
    again.close();
  });

  it('makes STRICT tables that reject wrong types, unknown statuses and invalid JSON', () => {
    const db = openDatabase({ file: ':memory:' });
    const insert = db.prepare('INSERT INTO jobs (id, kind, params, status, created_at) VALUES (?, ?, ?, ?, ?)');
    insert.run('a', 'device-check', '{}', 'queued', 1);
    expect(() => insert.run('b', 'device-check', '{}', 'bogus', 1)).toThrow(/CHECK constraint/);
    expect(() => insert.run('c', 'device-check', '{not json', 'queued', 1)).toThrow(/CHECK constraint/);
    expect(() => insert.run('d', 'device-check', '{}', 'queued', 'yesterday')).toThrow(/cannot store TEXT value in INTEGER column/);
    const blob = db.prepare('INSERT INTO blobs (sha256, size, kind, refcount, created_at) VALUES (?, ?, ?, ?, ?)');
    expect(() => blob.run('abc', 1, 'image', 0, 1)).toThrow(/CHECK constraint/);
    expect(() => blob.run('a'.repeat(64), 1, 'image', -1, 1)).toThrow(/CHECK constraint/);
    expect(() => db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run('theme', 'dark')).toThrow(/CHECK constraint/);
    db.close();
  });
});
