// `effects-studio train` with the loss flags: a perceptual network by file and an adversarial weight, each term logged.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail, StudentTrainResult } from '../../../src/shared/student/types.ts';
import { Studio } from '../../../src/main/services/studio.ts';
import { makeTempDir } from '../core/temp-dir.ts';
import { cliStderr, cliStdout } from '../support/cli.ts';
import { tinyVggOnnx } from '../engine/support/feature-net.ts';
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
  writeFileSync(join(temp.dir, 'vgg.onnx'), tinyVggOnnx(64));
});
afterAll(() => temp.cleanup());

describe('effects-studio train with the perceptual and adversarial losses', () => {
  it('stores the feature network, trains with both terms and logs each one', async () => {
    const result = JSON.parse(
      await cli(
        'train', '--dataset', 'cli pairs', '--config', join(temp.dir, 'small.json'), '--steps', '3',
        '--perceptual', join(temp.dir, 'vgg.onnx'), '--perceptual-outputs', 'relu1_1,mix', '--perceptual-weight', '0.2',
        '--adversarial-weight', '0.05', '--json',
      ),
    ) as StudentTrainResult;
    expect(result.steps).toBe(3);
    const shown = JSON.parse(await cli('runs', 'show', String(result.runId), '--json')) as RunDetail;
    expect(shown.config.perceptual).toMatchObject({ outputs: ['relu1_1', 'mix'], weight: 0.2, distance: 'l1' });
    expect(shown.config.perceptual!.modelSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(shown.config.perceptual!.path).toBeUndefined();
    expect(shown.config.adversarial).toEqual({ weight: 0.05, discriminatorWidth: 32 });
    for (const name of ['loss', 'l1', 'perceptual', 'adv', 'd_loss', 'd_real', 'd_fake']) {
      expect(shown.metrics[`train/${name}`]!.map((m) => m.step), name).toEqual([1, 2, 3]);
    }
  }, 90_000);

  it('says what is missing or wrong in the loss flags', async () => {
    const base = ['train', '--dataset', 'cli pairs', '--config', join(temp.dir, 'small.json')];
    expect(await cliError(...base, '--perceptual-weight', '0.2')).toMatch(/need --perceptual FILE/);
    expect(await cliError(...base, '--perceptual', join(temp.dir, 'vgg.onnx'))).toMatch(/needs --perceptual-outputs/);
    expect(await cliError(...base, '--adversarial-weight', '-1')).toMatch(/expected a positive number/);
    expect(await cliError(...base, '--adversarial-weight', '50')).toMatch(/adversarial\.weight/);
    expect(await cliError(...base, '--perceptual', join(temp.dir, 'vgg.onnx'), '--perceptual-outputs', 'nope')).toMatch(/no value named "nope"/);
  }, 90_000);
});
