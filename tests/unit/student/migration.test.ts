// Migration 004 (student runs) on a database seeded at version 3: old rows survive, new tables are STRICT and keyed.
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion, type Database } from '../../../src/main/core/db/database.ts';
import { MIGRATIONS } from '../../../src/main/core/db/migrations/index.ts';
import { RunStore } from '../../../src/main/student/runs.ts';
import type { StudentTrainParams } from '../../../src/shared/student/types.ts';

const SHA = (c: string): string => c.repeat(64);
const V4 = MIGRATIONS.findIndex((m) => m.name === 'student-runs') + 1;

let db: Database;
beforeEach(() => {
  db = new BetterSqlite3(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, MIGRATIONS.slice(0, V4 - 1));
  db.prepare(`INSERT INTO jobs (id, kind, params, status, created_at) VALUES ('j1', 'device-check', '{}', 'succeeded', 1)`).run();
  db.prepare(`INSERT INTO datasets (name, kind, created_at) VALUES ('faces', 'pairs', 1)`).run();
  migrate(db, MIGRATIONS.slice(0, V4));
});
afterEach(() => db.close());

const params = { datasetId: 1, steps: 10 } as unknown as StudentTrainParams;

describe('migration 004-student-runs', () => {
  it('is version 4 and keeps the rows from before', () => {
    expect(V4).toBe(4);
    expect(schemaVersion(db)).toBe(4);
    expect(db.prepare('SELECT id FROM jobs').all()).toEqual([{ id: 'j1' }]);
    expect(db.prepare('SELECT name FROM datasets').all()).toEqual([{ name: 'faces' }]);
  });

  it('creates STRICT tables that refuse bad values', () => {
    for (const table of ['runs', 'run_metrics', 'run_checkpoints', 'run_previews']) {
      const sql = (db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").get(table) as { sql: string }).sql;
      expect(sql, table).toMatch(/STRICT/);
    }
    const insertRun = (job: string, extra = ''): unknown =>
      db.prepare(`INSERT INTO runs (job_id, dataset_id, config, created_at, updated_at${extra ? ', status' : ''}) VALUES (?, 1, '{}', 1, 1${extra ? ', ?' : ''})`).run(job, ...(extra ? [extra] : []));
    insertRun('a');
    expect(() => insertRun('a')).toThrow(/UNIQUE/);
    expect(() => insertRun('b', 'paused-forever')).toThrow(/CHECK/);
    expect(() => db.prepare(`INSERT INTO runs (job_id, config, created_at, updated_at) VALUES ('c', 'nope', 1, 1)`).run()).toThrow(/CHECK/);
    expect(() => db.prepare(`INSERT INTO run_metrics VALUES (1, 'test', 'l1', 1, 0.5)`).run()).toThrow(/CHECK/);
    expect(() => db.prepare(`INSERT INTO run_metrics VALUES (1, 'train', 'l1', 1, 'low')`).run()).toThrow(/cannot store TEXT/);
    expect(() => db.prepare(`INSERT INTO run_checkpoints VALUES (1, 1, 'short', 10, 1)`).run()).toThrow(/CHECK/);
    expect(() => db.prepare(`INSERT INTO run_previews VALUES (99, 1, ?)`).run(SHA('a'))).toThrow(/FOREIGN KEY/);
  });

  it('keeps one value per run, split, metric and step; runs outlive their dataset', () => {
    const runs = new RunStore(db);
    const run = runs.runForJob('job-1', params);
    expect(runs.runForJob('job-1', params).id).toBe(run.id);
    runs.recordMetrics(run.id, 'train', 5, { loss: 0.5 });
    runs.recordMetrics(run.id, 'train', 5, { loss: 0.4 });
    runs.recordMetrics(run.id, 'validation', 5, { psnr: 21 });
    const released: string[] = [];
    runs.addCheckpoint(run.id, 5, SHA('a'), 100, (s) => released.push(s));
    runs.addCheckpoint(run.id, 5, SHA('b'), 100, (s) => released.push(s));
    expect(released).toEqual([SHA('a')]);
    db.prepare('DELETE FROM datasets').run();
    const detail = runs.get(run.id);
    expect(detail.metrics).toEqual({ 'train/loss': [{ step: 5, value: 0.4 }], 'validation/psnr': [{ step: 5, value: 21 }] });
    expect(detail.checkpoints).toEqual([{ step: 5, sha: SHA('b'), bytes: 100 }]);
    expect(detail.step).toBe(5);
    expect(detail.bestPsnr).toBe(21);
    expect(detail.datasetId).toBe(-1);
    runs.truncateAfter(run.id, 4);
    expect(runs.get(run.id).metrics).toEqual({});
    expect(() => runs.get(999)).toThrow(/no training run with id 999/);
  });
});
