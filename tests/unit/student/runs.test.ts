// A run's metric series as the Train page polls them: long series come back as bucket means that keep the newest step.
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../src/main/core/db/database.ts';
import { MIGRATIONS } from '../../../src/main/core/db/migrations/index.ts';
import { bucketSeries, RunStore } from '../../../src/main/student/runs.ts';
import { DEFAULT_TRAIN_PARAMS } from '../../../src/shared/student/config.ts';

describe('bucketSeries', () => {
  it('averages consecutive points into equal buckets, each at its last step', () => {
    const series = Array.from({ length: 10 }, (_, i) => ({ step: i + 1, value: i }));
    expect(bucketSeries(series, 5)).toEqual([
      { step: 2, value: 0.5 },
      { step: 4, value: 2.5 },
      { step: 6, value: 4.5 },
      { step: 8, value: 6.5 },
      { step: 10, value: 8.5 },
    ]);
    // Uneven split: 10 points into 3 buckets of 3, 3 and 4.
    expect(bucketSeries(series, 3)).toEqual([
      { step: 3, value: 1 },
      { step: 6, value: 4 },
      { step: 10, value: 7.5 },
    ]);
    expect(bucketSeries(series, 10)).toEqual(series);
  });
});

describe('RunStore.get', () => {
  it('answers every point by default and at most maxPoints per series when asked, short series untouched', () => {
    const db = new BetterSqlite3(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(db, MIGRATIONS);
    db.prepare(`INSERT INTO datasets (id, name, kind, created_at) VALUES (1, 'pairs', 'pairs', 1)`).run();
    const runs = new RunStore(db);
    const run = runs.runForJob('job-1', { ...DEFAULT_TRAIN_PARAMS, datasetId: 1 });
    for (let step = 1; step <= 5000; step++) runs.recordMetrics(run.id, 'train', step, { loss: step % 2 });
    for (let step = 500; step <= 5000; step += 500) runs.recordMetrics(run.id, 'validation', step, { psnr: step / 100 });
    expect(runs.get(run.id).metrics['train/loss']).toHaveLength(5000);
    const shown = runs.get(run.id, 500).metrics;
    expect(shown['train/loss']).toHaveLength(500);
    // Buckets of 10 alternating 0/1 losses average to 0.5.
    expect(shown['train/loss']!.every((p) => p.value === 0.5)).toBe(true);
    expect(shown['train/loss']!.at(-1)!.step).toBe(5000);
    expect(shown['validation/psnr']).toHaveLength(10);
    db.close();
  });
});
