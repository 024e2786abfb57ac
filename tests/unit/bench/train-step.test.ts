// The train-step benchmark: its UNet computes the plainly written architecture, and it prints one JSON object whose profile, when asked for, is per ORT step like its timings.
import { describe, expect, it } from 'vitest';
import { buildBenchProgram, runTrainStepBench } from '../../../src/main/bench/train-step.ts';
import { Graph, Rng, type Tensor } from '../../../src/main/engine/graph/index.ts';
import { randomData, relInf } from '../engine/support/gradcheck.ts';
import { runFloat, sessionFor } from '../engine/support/ort.ts';

/** The benchmark architecture as bench/torch/train_step.py writes it: upsample, concat, depthwise, pointwise. */
function plainBenchNet(g: Graph, x: Tensor): Tensor {
  const conv = (name: string, t: Tensor, cout: number, k: number, stride = 1, group = 1): Tensor =>
    g.conv(t, g.param(`${name}.weight`, [cout, t.shape[1]! / group, k, k], 'he'), g.param(`${name}.bias`, [cout], 'zeros'), {
      strides: stride,
      pads: (k - 1) / 2,
      group,
    });
  const block = (name: string, t: Tensor, cout: number, stride: number): Tensor =>
    g.relu(conv(`${name}.pw`, g.relu(conv(`${name}.dw`, t, t.shape[1]!, 3, stride, t.shape[1]!)), cout, 1));
  const up = (t: Tensor): Tensor => g.resize(t, { scales: [1, 1, 2, 2], mode: 'nearest' });
  const enc1 = g.relu(conv('enc1', x, 16, 3));
  const enc2 = block('enc2', enc1, 32, 2);
  const enc3 = block('enc3', enc2, 64, 2);
  const mid = block('mid', enc3, 64, 1);
  const d2 = block('dec2', g.concat([up(mid), enc2], 1), 32, 1);
  const d1 = block('dec1', g.concat([up(d2), enc1], 1), 16, 1);
  return g.add(x, conv('head', d1, 3, 1));
}

describe('bench train-step', () => {
  it('trains a net that computes the plainly written architecture (same parameters, same output)', async () => {
    const program = buildBenchProgram(2, 16);
    const plain = new Graph('plain-bench-unet');
    const x = plain.input('x', 'float32', [2, 3, 16, 16]);
    plain.output('out', plainBenchNet(plain, x));
    expect(plain.params.map((p) => [p.name, p.shape])).toEqual(program.params.map((p) => [p.name, p.shape]));
    const rng = new Rng(7, 'bench-net');
    const feeds = new Map([['x', randomData(rng, x.size)], ...plain.params.map((p) => [p.name, randomData(rng, p.init.length, 0.5)] as const)]);
    const fast = await runFloat(await sessionFor(program.graph, ['out']), program.graph, feeds);
    const reference = await runFloat(await sessionFor(plain), plain, feeds);
    expect(relInf(fast.get('out')!.data, reference.get('out')!.data)).toBeLessThan(1e-5);
  });

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
