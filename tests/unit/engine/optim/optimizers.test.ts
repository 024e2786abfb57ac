// Optimizer graphs against their closed-form updates in float64 TypeScript, clipping, and (when present) torch.optim.
import { spawnSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { Graph } from '../../../../src/main/engine/graph/index.ts';
import {
  applyOptimizer,
  GRAD_NORM_OUTPUT,
  LR_INPUT,
  nextName,
  oneMinusPow,
  resolveOptimizer,
  STEP_INPUT,
  type OptimizerConfig,
} from '../../../../src/main/engine/optim/index.ts';
import { createSession } from '../../../../src/main/engine/runtime/index.ts';

const SHAPES: Record<string, number[]> = { a: [3, 4], b: [5] };

/** Deterministic pseudo-random numbers in [-1, 1) (an LCG: tests need reproducible, not good, randomness). */
function numbers(seed: number, n: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

interface Trace {
  params: Record<string, number[]>[];
  gradNorms: number[];
}

/** Runs `grads.length` optimizer steps in ORT, the gradients fed as graph inputs; returns the params after each step. */
async function runGraph(
  config: OptimizerConfig,
  p0: Record<string, number[]>,
  grads: Record<string, number[]>[],
  lrs: number[],
  clipGradNorm?: number,
): Promise<Trace> {
  const g = new Graph('optim-test');
  const pairs = Object.entries(SHAPES).map(([name, shape]) => ({
    name,
    param: g.param(name, shape, { kind: 'values', data: p0[name]! }),
    grad: g.input(`grad.${name}`, 'float32', shape),
  }));
  const opt = applyOptimizer(g, pairs, config, clipGradNorm === undefined ? {} : { clipGradNorm });
  const session = await createSession(g.toModelBytes({ params: 'inputs', outputs: opt.outputs }), { providers: ['cpu'], threads: 1 });
  const state = new Map<string, ort.Tensor>();
  for (const [name, shape] of Object.entries(SHAPES)) state.set(name, new ort.Tensor('float32', Float32Array.from(p0[name]!), shape));
  for (const s of opt.slots) state.set(s.input, new ort.Tensor('float32', new Float32Array(s.shape.reduce((a, b) => a * b, 1)), [...s.shape]));
  const trace: Trace = { params: [], gradNorms: [] };
  for (let t = 0; t < grads.length; t++) {
    const feeds: Record<string, ort.Tensor> = Object.fromEntries(state);
    for (const [name, shape] of Object.entries(SHAPES)) feeds[`grad.${name}`] = new ort.Tensor('float32', Float32Array.from(grads[t]![name]!), shape);
    feeds[LR_INPUT] = new ort.Tensor('float32', Float32Array.of(lrs[t]!), []);
    feeds[STEP_INPUT] = new ort.Tensor('int64', BigInt64Array.of(BigInt(t + 1)), []);
    const out = await session.run(feeds);
    for (const key of [...state.keys()]) state.set(key, out[nextName(key)]!);
    trace.params.push(Object.fromEntries(Object.keys(SHAPES).map((n) => [n, Array.from(state.get(n)!.data as Float32Array)])));
    if (clipGradNorm !== undefined) trace.gradNorms.push((out[GRAD_NORM_OUTPUT]!.data as Float32Array)[0]!);
  }
  await session.release();
  return trace;
}

/** The textbook updates in float64, written independently of the graph code (PyTorch's formulas). */
function runReference(config: OptimizerConfig, p0: Record<string, number[]>, grads: Record<string, number[]>[], lrs: number[], clipGradNorm?: number): Trace {
  const c = resolveOptimizer(config);
  const p = structuredClone(p0);
  const s1: Record<string, number[]> = {};
  const s2: Record<string, number[]> = {};
  for (const n of Object.keys(SHAPES)) {
    s1[n] = p[n]!.map(() => 0);
    s2[n] = p[n]!.map(() => 0);
  }
  const trace: Trace = { params: [], gradNorms: [] };
  grads.forEach((gs, step) => {
    const t = step + 1;
    const lr = lrs[step]!;
    let scale = 1;
    if (clipGradNorm !== undefined) {
      const norm = Math.sqrt(Object.values(gs).flat().reduce((s, x) => s + x * x, 0));
      trace.gradNorms.push(norm);
      scale = Math.min(1, clipGradNorm / (norm + 1e-6));
    }
    for (const n of Object.keys(SHAPES)) {
      const pn = p[n]!;
      for (let i = 0; i < pn.length; i++) {
        let gr = gs[n]![i]! * scale;
        if (c.kind === 'sgd') {
          gr += c.weightDecay * pn[i]!;
          let d = gr;
          if (c.momentum > 0) {
            s1[n]![i] = t === 1 ? gr : c.momentum * s1[n]![i]! + gr;
            d = c.nesterov ? gr + c.momentum * s1[n]![i]! : s1[n]![i]!;
          }
          pn[i] = pn[i]! - lr * d;
        } else {
          if (c.kind === 'adam') gr += c.weightDecay * pn[i]!;
          else pn[i] = pn[i]! * (1 - lr * c.weightDecay);
          s1[n]![i] = c.beta1 * s1[n]![i]! + (1 - c.beta1) * gr;
          s2[n]![i] = c.beta2 * s2[n]![i]! + (1 - c.beta2) * gr * gr;
          const denom = Math.sqrt(s2[n]![i]!) / Math.sqrt(1 - c.beta2 ** t) + c.eps;
          pn[i] = pn[i]! - (lr / (1 - c.beta1 ** t)) * (s1[n]![i]! / denom);
        }
      }
    }
    trace.params.push(structuredClone(p));
  });
  return trace;
}

function problem(steps: number, gradScale = 1): { p0: Record<string, number[]>; grads: Record<string, number[]>[]; lrs: number[] } {
  const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
  const p0 = Object.fromEntries(Object.entries(SHAPES).map(([n, s], k) => [n, numbers(100 + k, size(s))]));
  const grads = Array.from({ length: steps }, (_, t) =>
    Object.fromEntries(Object.entries(SHAPES).map(([n, s], k) => [n, numbers(1000 * t + k, size(s)).map((x) => x * gradScale)])),
  );
  // A decaying schedule: the learning rate is a graph input, so each step may use another one.
  const lrs = Array.from({ length: steps }, (_, t) => 0.05 * 0.8 ** t);
  return { p0, grads, lrs };
}

function maxAbsDiff(a: Trace, b: Trace): number {
  let worst = 0;
  a.params.forEach((step, t) => {
    for (const n of Object.keys(step)) step[n]!.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b.params[t]![n]![i]!))));
  });
  return worst;
}

const CASES: [string, OptimizerConfig][] = [
  ['sgd', { kind: 'sgd' }],
  ['sgd momentum + weight decay', { kind: 'sgd', momentum: 0.9, weightDecay: 1e-2 }],
  ['sgd nesterov', { kind: 'sgd', momentum: 0.8, nesterov: true }],
  ['adam', { kind: 'adam' }],
  ['adam L2 weight decay', { kind: 'adam', beta1: 0.5, beta2: 0.9, eps: 1e-6, weightDecay: 0.1 }],
  ['adamw', { kind: 'adamw', weightDecay: 0.1 }],
];

describe('optimizer graphs', () => {
  for (const [label, config] of CASES) {
    it(`${label} matches its closed-form update over 6 steps with a changing learning rate`, async () => {
      const { p0, grads, lrs } = problem(6);
      const got = await runGraph(config, p0, grads, lrs);
      const want = runReference(config, p0, grads, lrs);
      expect(maxAbsDiff(got, want)).toBeLessThan(3e-7);
      // The parameters really moved (the comparison is not vacuous).
      expect(Math.abs(got.params[5]!.a![0]! - p0.a![0]!)).toBeGreaterThan(1e-3);
    });
  }

  it('clips by global norm: large gradients are scaled to the max norm, small ones untouched', async () => {
    const big = problem(3, 4);
    const small = problem(3, 0.01);
    for (const { p0, grads, lrs } of [big, small]) {
      const got = await runGraph({ kind: 'sgd' }, p0, grads, lrs, 1.5);
      const want = runReference({ kind: 'sgd' }, p0, grads, lrs, 1.5);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
      got.gradNorms.forEach((n, i) => expect(n).toBeCloseTo(want.gradNorms[i]!, 4));
    }
    expect(runReference({ kind: 'sgd' }, big.p0, big.grads, big.lrs, 1.5).gradNorms[0]).toBeGreaterThan(1.5);
    expect(runReference({ kind: 'sgd' }, small.p0, small.grads, small.lrs, 1.5).gradNorms[0]).toBeLessThan(1.5);
  });

  it('computes Adam\'s bias correction 1 − βᵗ to float32 precision where the naive form cancels', async () => {
    const betas = [0.9, 0.999, 0.9999, 0.5];
    const steps = [1, 2, 3, 10, 100, 1000, 10_000, 1_000_000];
    const g = new Graph('one-minus-pow');
    const t = g.input('t', 'float32', [steps.length]);
    betas.forEach((b, i) => g.output(`y${i}`, oneMinusPow(g, b, t)));
    const s = await createSession(g.toModelBytes({ params: 'inputs' }), { providers: ['cpu'] });
    const out = await s.run({ t: new ort.Tensor('float32', Float32Array.from(steps), [steps.length]) });
    await s.release();
    betas.forEach((b, i) => {
      const got = out[`y${i}`]!.data as Float32Array;
      steps.forEach((n, j) => {
        const want = -Math.expm1(n * Math.log(b));
        expect(Math.abs(got[j]! - want) / want, `beta ${b}, t ${n}`).toBeLessThan(3e-7);
      });
    });
  });

  it('rejects impossible settings and mismatched gradients with a clear message', () => {
    expect(() => resolveOptimizer({ kind: 'adam', beta1: 1 })).toThrow(/beta1 1 is out of range/);
    expect(() => resolveOptimizer({ kind: 'sgd', nesterov: true })).toThrow(/nesterov needs a momentum/);
    const g = new Graph('bad');
    const w = g.param('w', [2, 2], 'zeros');
    expect(() => applyOptimizer(g, [{ name: 'w', param: w, grad: g.input('gw', 'float32', [4]) }], { kind: 'adam' })).toThrow(
      'gradient of "w" has shape [4], the parameter [2,2]',
    );
  });
});

const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

/** torch.optim on the same problem for every case, in one Python process (importing torch takes seconds). */
function runTorch(cases: readonly OptimizerConfig[], p0: Record<string, number[]>, grads: Record<string, number[]>[], lrs: number[]): Trace[] {
  const script = `
import json, sys, torch
d = json.load(sys.stdin)
names = list(d['shapes'])
results = []
for c in d['configs']:
    ps = {n: torch.tensor(v, dtype=torch.float32).reshape(d['shapes'][n]).requires_grad_() for n, v in d['p0'].items()}
    params = [ps[n] for n in names]
    if c['kind'] == 'sgd':
        opt = torch.optim.SGD(params, lr=1.0, momentum=c['momentum'], nesterov=c['nesterov'], weight_decay=c['weightDecay'])
    else:
        cls = torch.optim.Adam if c['kind'] == 'adam' else torch.optim.AdamW
        opt = cls(params, lr=1.0, betas=(c['beta1'], c['beta2']), eps=c['eps'], weight_decay=c['weightDecay'])
    out = []
    for t, gs in enumerate(d['grads']):
        for grp in opt.param_groups: grp['lr'] = d['lrs'][t]
        for n in names: ps[n].grad = torch.tensor(gs[n], dtype=torch.float32).reshape(d['shapes'][n])
        opt.step()
        out.append({n: ps[n].detach().flatten().tolist() for n in names})
    results.append(out)
print(json.dumps(results))
`;
  const input = JSON.stringify({ configs: cases.map(resolveOptimizer), shapes: SHAPES, p0, grads, lrs });
  const r = spawnSync('/usr/bin/python3', ['-c', script], { input, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (r.status !== 0) throw new Error(`torch reference failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as Record<string, number[]>[][]).map((params) => ({ params, gradNorms: [] }));
}

describe.skipIf(!hasTorch)('optimizer graphs against torch.optim (skipped: /usr/bin/python3 has no torch; apt-get install python3-torch)', () => {
  const { p0, grads, lrs } = problem(6);
  let torchTraces: Trace[] = [];
  beforeAll(() => {
    torchTraces = runTorch(CASES.map(([, c]) => c), p0, grads, lrs);
  });
  CASES.forEach(([label, config], k) => {
    it(`${label} matches torch.optim to float32 rounding`, async () => {
      const got = await runGraph(config, p0, grads, lrs);
      expect(maxAbsDiff(got, torchTraces[k]!)).toBeLessThan(3e-7);
    });
  });
});
