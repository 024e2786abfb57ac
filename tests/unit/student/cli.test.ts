// `effects-studio train`, `runs list` and `runs show` as a user runs them, on a data folder holding a small pairs dataset.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail, RunInfo, StudentTrainResult } from '../../../src/shared/student/types.ts';
import { Studio } from '../../../src/main/services/studio.ts';
import { makeTempDir } from '../core/temp-dir.ts';
import { cliStderr, cliStdout } from '../support/cli.ts';
import { insertPairsDataset } from './pairs-fixture.ts';

let temp: ReturnType<typeof makeTempDir>;

const cli = (...args: string[]): Promise<string> => cliStdout([...args, '--data-dir', temp.dir], { cwd: temp.dir, home: temp.dir });
const cliError = (...args: string[]): Promise<string> => cliStderr([...args, '--data-dir', temp.dir], { cwd: temp.dir, home: temp.dir });

beforeAll(async () => {
  temp = makeTempDir();
  const studio = await Studio.open({ dataDir: temp.dir, host: 'browser', version: '0.0.0-test', log: () => undefined });
  await insertPairsDataset(studio.datasets.store, studio.blobs, { name: 'cli pairs', count: 6, size: 80 });
  await studio.close();
  const small = { student: { size: 64, width: 0.25 }, batch: 2, warmupSteps: 1, validateEvery: 3, checkpointEvery: 3, validationItems: 2 };
  writeFileSync(join(temp.dir, 'small.json'), JSON.stringify(small));
  writeFileSync(join(temp.dir, 'bad.json'), JSON.stringify({ ...small, lr: 7 }));
  writeFileSync(join(temp.dir, 'typo.json'), JSON.stringify({ ...small, stepz: 3 }));
});
afterAll(() => temp.cleanup());

describe('effects-studio train / runs', () => {
  it('trains from a config file, then lists and shows the run', async () => {
    const result = JSON.parse(await cli('train', '--dataset', 'cli pairs', '--config', join(temp.dir, 'small.json'), '--steps', '6', '--json')) as StudentTrainResult;
    expect(result.steps).toBe(6);
    expect(result.provider).toBe('cpu');
    expect(result.best?.step).toBeGreaterThan(0);

    const list = JSON.parse(await cli('runs', 'list', '--json')) as RunInfo[];
    expect(list.map((r) => [r.id, r.status, r.step])).toEqual([[result.runId, 'succeeded', 6]]);
    expect(list[0]!.config.student).toEqual({ size: 64, width: 0.25, activation: 'relu6', residualScale: 1 });

    const shown = JSON.parse(await cli('runs', 'show', String(result.runId), '--json')) as RunDetail;
    expect(shown.metrics['train/loss']!.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(shown.metrics['validation/psnr']!.map((m) => m.step)).toEqual([3, 6]);
    expect(shown.checkpoints.map((c) => c.step)).toEqual([3, 6]);
    expect(shown.checkpoints.at(-1)!.sha).toBe(result.checkpointSha);
  }, 90_000);

  it('says what is wrong with the dataset or the settings before training', async () => {
    expect(await cliError('train', '--dataset', 'nope', '--preset', 'fast')).toMatch(/no dataset named "nope"/);
    expect(await cliError('train', '--dataset', 'cli pairs', '--config', join(temp.dir, 'bad.json'))).toMatch(/params\[0\]\.lr/);
    expect(await cliError('train', '--dataset', 'cli pairs', '--config', join(temp.dir, 'typo.json'))).toMatch(/stepz/);
    expect(await cliError('train', '--dataset', 'cli pairs', '--preset', 'slow')).toMatch(/expected "fast" or "quality"/);
    expect(await cliError('train', '--dataset', 'cli pairs', '--preset', 'fast', '--steps', '0')).toMatch(/--steps|expected an integer/);
    expect(await cliError('runs', 'show', '99')).toMatch(/no training run with id 99/);
  }, 90_000);
});
