// The train-step benchmark: one JSON object whose profile, when asked for, is per ORT step like its timings.
import { describe, expect, it } from 'vitest';
import { runTrainStepBench } from '../../../src/main/bench/train-step.ts';

describe('bench train-step', () => {
  it('reports the median step, the loss falling, and a per-step profile of the same size as the step', async () => {
    const r = await runTrainStepBench({ steps: 4, warmup: 1, profile: true });
    expect(r).toMatchObject({ benchmark: 'train-step', provider: 'cpu', batch: 8, size: 128 });
    const ms = r.ms_per_step as number;
    expect(ms).toBeGreaterThan(0);
    expect(r.loss_last as number).toBeLessThan(r.loss_first as number);
    // Every profiled ORT step counts (warm-up and settling steps too), so the profile's total is about one step.
    const profiled = r.profile_ms_per_step as number;
    expect(profiled).toBeGreaterThan(ms * 0.5);
    expect(profiled).toBeLessThan(ms * 1.5);
    const ops = (r.profile_by_op as { op: string }[]).map((e) => e.op);
    expect(ops).toContain('Conv');
  }, 120_000);
});
