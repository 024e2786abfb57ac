// Migration 005 (effects) on a database seeded at version 4: old rows survive; CLIP models, relevance and prompts are checked.
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion, type Database } from '../../../src/main/core/db/database.ts';
import { MIGRATIONS } from '../../../src/main/core/db/migrations/index.ts';

const SHA = (c: string): string => c.repeat(64);

let db: Database;
beforeEach(() => {
  db = new BetterSqlite3(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, MIGRATIONS.slice(0, 4));
  db.prepare(
    `INSERT INTO teachers (id, name, format, source_sha, weights_sha, config, parameter_count, w_avg, imported_at)
     VALUES (1, 'tiny', 'studio-random', ?, ?, '{}', 10, 'file', 1)`,
  ).run(SHA('a'), SHA('b'));
  migrate(db, MIGRATIONS.slice(0, 5));
});
afterEach(() => db.close());

function insertPrompt(extra: Record<string, unknown> = {}): number {
  const row = { teacher_id: 1, target: 'a smiling face', neutral: 'a face', alpha: 4.1, beta: 0.15, created_at: 1, used_at: 1, ...extra };
  const cols = Object.keys(row);
  return Number(db.prepare(`INSERT INTO prompts (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`).run(row).lastInsertRowid);
}

describe('migration 005-effects', () => {
  it('moves a version-4 database to version 5 and keeps its teachers', () => {
    expect(schemaVersion(db)).toBe(5);
    expect(db.prepare('SELECT name FROM teachers').all()).toEqual([{ name: 'tiny' }]);
  });

  it('refuses prompts with empty text, out-of-range α or β, or an unknown teacher', () => {
    expect(insertPrompt()).toBe(1);
    expect(() => insertPrompt({ target: ' ' })).toThrow(/CHECK/);
    expect(() => insertPrompt({ alpha: 11 })).toThrow(/CHECK/);
    expect(() => insertPrompt({ beta: -0.1 })).toThrow(/CHECK/);
    expect(() => insertPrompt({ is_favorite: 2 })).toThrow(/CHECK/);
    expect(() => insertPrompt({ teacher_id: 9 })).toThrow(/FOREIGN KEY/);
    expect(() => insertPrompt({ alpha: 'strong' })).toThrow(/cannot store TEXT value in REAL column/);
  });

  it('deletes a teacher’s prompts and relevance tables with it', () => {
    insertPrompt();
    db.prepare(`INSERT INTO clip_models (id, name, text_sha, vision_sha, config, imported_at) VALUES (1, 'clip', ?, ?, '{}', 1)`).run(SHA('c'), SHA('d'));
    db.prepare(`INSERT INTO relevance (teacher_id, clip_id, images, directions_sha, stats_sha, created_at) VALUES (1, 1, 100, ?, ?, 1)`).run(SHA('e'), SHA('f'));
    db.prepare('DELETE FROM teachers WHERE id = 1').run();
    expect(db.prepare('SELECT count(*) AS n FROM prompts').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT count(*) AS n FROM relevance').get()).toEqual({ n: 0 });
  });
});
