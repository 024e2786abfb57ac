// Benchmark: one training step (forward, backward, Adam) of a small depthwise-separable UNet, ORT vs PyTorch on CPU.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Graph, type Tensor } from '../engine/graph/index.ts';
import { upsampledConv3x3 } from '../engine/layers/upsampled-conv.ts';
import { l1Loss } from '../engine/losses/index.ts';
import { median, summarizeProfile } from '../engine/runtime/index.ts';
import { compileTrainProgram, Trainer, type TrainProgram } from '../engine/train/index.ts';
import { alternateRounds, timeSteps, TorchTwin } from './torch-twin.ts';

/** Batch and image size of the benchmark (fixed: the PyTorch script uses the same). */
export const BENCH_BATCH = 8;
export const BENCH_SIZE = 128;
const LR = 1e-3;
/** Alternations of ORT and PyTorch at most. */
const ROUNDS = 10;

/** Options of `runTrainStepBench`. */
export interface TrainStepBenchOptions {
  /** Measured steps per runtime (median reported); default 20, taken in rounds that alternate ORT and PyTorch. */
  steps?: number;
  /** Unmeasured steps first; default 3. */
  warmup?: number;
  /** Intra-op threads for both runtimes; default 2. */
  threads?: number;
  /** Also profile the ORT steps and report the op types and nodes that take the most time. */
  profile?: boolean;
}

/**
 * The benchmark architecture (bench/torch/train_step.py builds the same in PyTorch):
 * enc1 = relu(conv3×3(3→16)); enc2/enc3 = MobileNet blocks (dw3×3 stride 2 → pw) to 32/64 channels; mid at 32²;
 * two decoder stages that upsample ×2 (nearest), concatenate the skip and apply a MobileNet block (written per
 * part, see decoderBlock: the same function, checked against the plain form in tests/unit/bench);
 * out = x + conv1×1(16→3); loss = mean |out − y|; Adam lr 1e-3.
 */
export function buildBenchProgram(batch = BENCH_BATCH, size = BENCH_SIZE): TrainProgram {
  const g = new Graph('bench-unet', { seed: 0 });
  const x = g.input('x', 'float32', [batch, 3, size, size]);
  const y = g.input('y', 'float32', [batch, 3, size, size]);
  const conv = (name: string, t: Tensor, cout: number, k: number, stride = 1, group = 1): Tensor =>
    g.conv(t, g.param(`${name}.weight`, [cout, t.shape[1]! / group, k, k], 'he'), g.param(`${name}.bias`, [cout], 'zeros'), {
      strides: stride,
      pads: (k - 1) / 2,
      group,
      name,
    });
  const block = (name: string, t: Tensor, cout: number, stride: number): Tensor =>
    g.relu(conv(`${name}.pw`, g.relu(conv(`${name}.dw`, t, t.shape[1]!, 3, stride, t.shape[1]!)), cout, 1));
  // A MobileNet block on concat(up(low), skip), written per part: the depthwise conv of the upsampled part runs at
  // the low resolution (no upsampled im2col), the 1×1 conv of the concatenation is the sum of 1×1 convs of the parts
  // (the concatenated map and the backward's Split of it are never built), and the upsampled part's ReLU and 1×1
  // conv run before its phases are interleaved (cout channels move, not c).
  const decoderBlock = (name: string, low: Tensor, skip: Tensor, cout: number): Tensor => {
    const parts = [low.shape[1]!, skip.shape[1]!];
    const c = parts[0]! + parts[1]!;
    const [wLow, wSkip] = g.split(g.param(`${name}.dw.weight`, [c, 1, 3, 3], 'he'), parts, 0);
    const [bLow, bSkip] = g.split(g.param(`${name}.dw.bias`, [c], 'zeros'), parts, 0);
    const [pLow, pSkip] = g.split(g.param(`${name}.pw.weight`, [cout, c, 1, 1], 'he'), parts, 1);
    const pwBias = g.param(`${name}.pw.bias`, [cout], 'zeros');
    const pixelwise = (t: Tensor): Tensor => g.conv(g.relu(t), pLow!, null);
    const fromLow = upsampledConv3x3(g, low, wLow!, bLow!, { group: parts[0]!, pixelwise });
    const dwSkip = g.relu(g.conv(skip, wSkip!, bSkip!, { pads: 1, group: parts[1]! }));
    return g.relu(g.add(fromLow, g.conv(dwSkip, pSkip!, pwBias)));
  };

  const enc1 = g.relu(conv('enc1', x, 16, 3));
  const enc2 = block('enc2', enc1, 32, 2);
  const enc3 = block('enc3', enc2, 64, 2);
  const mid = block('mid', enc3, 64, 1);
  const d2 = decoderBlock('dec2', mid, enc2, 32);
  const d1 = decoderBlock('dec1', d2, enc1, 16);
  const out = g.output('out', g.add(x, conv('head', d1, 3, 1)));
  return compileTrainProgram({ graph: g, loss: l1Loss(g, out, y), forwardOutputs: ['out'], optimizer: { kind: 'adam' } });
}

/** Deterministic uniform [0, 1) data (an LCG; the numbers only need to be reproducible). */
function uniform(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

/**
 * Times training steps of the benchmark UNet in ORT (CPU) and, where /usr/bin/python3 has torch, the same model,
 * batch and thread count in PyTorch. Returns one JSON-able object; `ratio` is ORT / PyTorch (lower is better).
 */
export async function runTrainStepBench(opts: TrainStepBenchOptions = {}): Promise<Record<string, unknown>> {
  const steps = opts.steps ?? 20;
  const warmup = opts.warmup ?? 3;
  const threads = opts.threads ?? 2;
  const program = buildBenchProgram();
  const profileDir = opts.profile ? mkdtempSync(join(tmpdir(), 'train-step-profile-')) : null;
  const trainer = await Trainer.create(program, {
    session: { providers: ['cpu'], threads, ...(profileDir ? { profilePrefix: join(profileDir, 'ort') } : {}) },
  });
  const n = BENCH_BATCH * 3 * BENCH_SIZE * BENCH_SIZE;
  const batch = { x: uniform(1, n), y: uniform(2, n) };
  let firstLoss = Number.NaN;
  let ortSteps = 0;
  let lastLoss = Number.NaN;
  const ortStep = async (): Promise<number> => {
    const r = await trainer.step(batch, LR);
    ortSteps++;
    if (Number.isNaN(firstLoss)) firstLoss = r.loss;
    lastLoss = r.loss;
    return r.ms;
  };
  for (let i = 0; i < warmup; i++) await ortStep();
  const twin = await TorchTwin.start('train_step.py', ['--batch', String(BENCH_BATCH), '--size', String(BENCH_SIZE), '--warmup', String(warmup)], threads);
  // Alternating rounds put ORT and PyTorch under the same machine load; without a twin ORT runs alone. Ten short
  // rounds rather than four long ones: on a shared host the load changes within seconds (ratios spread 1.05–1.49 with
  // four rounds, 1.02–1.04 with ten).
  const rounds = Math.max(1, Math.min(steps, ROUNDS));
  const perRound = Math.max(1, Math.ceil(steps / rounds));
  const timed = twin instanceof TorchTwin ? await alternateRounds(rounds, perRound, ortStep, twin).finally(() => twin.close()) : null;
  const times = timed?.ort ?? (await timeSteps(rounds * perRound, ortStep));
  const result: Record<string, unknown> = {
    benchmark: 'train-step',
    provider: trainer.session.provider,
    threads,
    batch: BENCH_BATCH,
    size: BENCH_SIZE,
    steps: times.length,
    warmup,
    params: program.params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0),
    ms_per_step: median(times),
    ms_per_step_min: Math.min(...times),
    loss_first: firstLoss,
    loss_last: lastLoss,
  };
  if (profileDir) {
    const summary = summarizeProfile(trainer.session.endProfiling());
    // Every ORT step was profiled: warm-up, each round's settling step and the measured ones.
    const perStep = (ms: number): number => Math.round((ms / ortSteps) * 1000) / 1000;
    result.profile_ms_per_step = perStep(summary.totalMs);
    result.profile_by_op = summary.byOp.slice(0, 15).map((e) => ({ op: e.name, ms_per_step: perStep(e.ms) }));
    result.profile_by_node = summary.byNode.slice(0, 25).map((e) => ({ node: e.name, ms_per_step: perStep(e.ms) }));
  }
  await trainer.release();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });

  if (timed !== null && twin instanceof TorchTwin) {
    result.torch_ms_per_step = median(timed.torch);
    result.torch_version = twin.info['torch_version'];
    // Same architecture on both sides: the parameter counts must agree.
    result.torch_params = twin.info['params'];
    result.ratio = (result.ms_per_step as number) / (result.torch_ms_per_step as number);
    result.rounds = rounds;
  } else if (!(twin instanceof TorchTwin)) {
    result.torch_ms_per_step = null;
    result.ratio = null;
    result.torch_note = twin.note;
  }
  return result;
}
