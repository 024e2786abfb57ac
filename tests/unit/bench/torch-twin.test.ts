// The PyTorch twin protocol: a long-lived script answers timing rounds that alternate with ORT steps.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { alternateRounds, TorchTwin, TORCH_PYTHON } from '../../../src/main/bench/torch-twin.ts';

const hasTorch = spawnSync(TORCH_PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

describe('TorchTwin', () => {
  it.runIf(hasTorch)('alternates ORT and PyTorch rounds and reports what the script said when ready', async () => {
    const twin = await TorchTwin.start('train_step.py', ['--batch', '1', '--size', '16', '--warmup', '1'], 1);
    if (!(twin instanceof TorchTwin)) throw new Error(twin.note);
    const order: string[] = [];
    // Each ORT "step" answers its call number, so the test sees which ones were kept.
    const ortStep = async (): Promise<number> => {
      order.push('ort');
      return order.filter((o) => o === 'ort').length;
    };
    const requested: number[] = [];
    const times = await alternateRounds(3, 2, ortStep, {
      run: async (n: number) => {
        order.push('torch');
        requested.push(n);
        return twin.run(n);
      },
    });
    await twin.close();
    // Every round: one unmeasured ORT step, two measured, then PyTorch likewise (three steps, the first dropped).
    expect(order).toEqual(['ort', 'ort', 'ort', 'torch', 'ort', 'ort', 'ort', 'torch', 'ort', 'ort', 'ort', 'torch']);
    expect(times.ort).toEqual([2, 3, 5, 6, 8, 9]);
    expect(requested).toEqual([3, 3, 3]);
    expect(times.torch).toHaveLength(6);
    expect(times.torch.every((ms) => ms > 0)).toBe(true);
    expect(twin.info).toMatchObject({ ready: true, params: 13763, threads: 1 });
  });

  it('says why when the script does not exist or fails to start', async () => {
    const missing = await TorchTwin.start('no_such_script.py', [], 1);
    expect(missing).toMatchObject({ note: expect.stringMatching(hasTorch ? /no_such_script\.py is missing/ : /cannot import torch/) });
    if (hasTorch) {
      const broken = await TorchTwin.start('train_step.py', ['--batch', 'many'], 1);
      expect(broken).toMatchObject({ note: expect.stringMatching(/the PyTorch twin stopped: .*invalid int value/) });
    }
  });
});
