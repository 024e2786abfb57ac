// The PatchGAN term: the discriminator learns to tell real from fake, the student's adversarial gradient passes the
// finite-difference check, the alternation trains on a pairs dataset, and a paused run resumes exactly.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/main/engine/graph/index.ts';
import { parseSafetensors } from '../../../src/main/engine/safetensors/index.ts';
import { Trainer } from '../../../src/main/engine/train/index.ts';
import { REQUEST_SCHEMAS } from '../../../src/main/services/schemas.ts';
import { compileDiscriminatorProgram, FAKE_INPUT, REAL_INPUT } from '../../../src/main/student/adversarial.ts';
import { buildStudentGraph, STUDENT_INPUT } from '../../../src/main/student/model.ts';
import { RunStore } from '../../../src/main/student/runs.ts';
import { compileStudentProgram, studentLoss, TARGET_INPUT, trainStudent, validateTrainParams, type TrainResumeState } from '../../../src/main/student/train.ts';
import { makeWorkspace } from '../datasets/helpers.ts';
import { gradCheck } from '../engine/support/gradcheck.ts';
import { insertPairsDataset } from './pairs-fixture.ts';
import { TINY, tinyParams, trainEnv } from './loss-helpers.ts';

const ADV = { weight: 0.05, discriminatorWidth: 8 };

function uniform(seed: number, n: number): Float32Array {
  const rng = new Rng(seed, 'img');
  return Float32Array.from({ length: n }, () => rng.uniform());
}

describe('PatchGAN adversarial loss', () => {
  it('trains the discriminator to score real pairs up and fake pairs down', async () => {
    const params = tinyParams(1, { adversarial: ADV });
    const program = compileDiscriminatorProgram(params, ADV);
    expect(program.params.every((p) => p.name.startsWith('disc.'))).toBe(true);
    const trainer = await Trainer.create(program, { session: { providers: ['cpu'], threads: 1 } });
    try {
      const n = 2 * 3 * 64 * 64;
      const image = uniform(1, n);
      // Real targets are a brightened, lower-contrast input; the fake is the input itself (what an untrained student gives).
      const real = image.map((v) => 0.4 + 0.5 * v);
      const history: { loss: number; real: number; fake: number }[] = [];
      for (let s = 0; s < 60; s++) {
        const r = await trainer.step({ [STUDENT_INPUT]: image, [REAL_INPUT]: real, [FAKE_INPUT]: image }, 2e-3);
        history.push({ loss: r.loss, real: r.terms.d_real!, fake: r.terms.d_fake! });
      }
      // A discriminator that cannot tell the pairs apart scores both 0.5 at best: loss 0.25 and no gap.
      const tail = history.slice(-10);
      const mean = (f: (h: (typeof history)[number]) => number): number => tail.reduce((acc, h) => acc + f(h), 0) / tail.length;
      expect(history[0]!.loss).toBeGreaterThan(0.45);
      expect(mean((h) => h.loss)).toBeLessThan(0.15);
      expect(mean((h) => h.real)).toBeGreaterThan(0.6);
      expect(mean((h) => h.real - h.fake)).toBeGreaterThan(0.4);
    } finally {
      await trainer.release();
    }
  }, 60_000);

  it('passes the finite-difference check: the adversarial term w.r.t. student weights', async () => {
    const { graph, input, output } = buildStudentGraph(TINY, { seed: 3 });
    const target = graph.input(TARGET_INPUT, 'float32', output.shape);
    const { terms } = studentLoss(graph, tinyParams(1, { batch: 1, adversarial: ADV }), { input, output, target });
    const feeds = new Map([
      [input.name, uniform(4, input.size)],
      [target.name, uniform(5, target.size)],
    ]);
    const wrt = ['head.weight', 'enc1.0.depthwise.weight', 'dec0.project.weight'].map((n) => graph.params.find((q) => q.name === n)!.tensor);
    const res = await gradCheck(graph, terms.adv!, wrt, { feeds, samples: 3, h: 1e-4 });
    expect(res.forward).toBeLessThan(1e-5);
    for (const e of [...res.elementwise, ...res.directional]) expect(e).toBeLessThan(2e-2);
    expect(Math.max(...res.grads.map((gr) => Math.max(...gr.map(Math.abs))))).toBeGreaterThan(0);
  }, 60_000);

  it('keeps the discriminator frozen in the student program and fetches the student output', () => {
    const program = compileStudentProgram(tinyParams(1, { adversarial: ADV }));
    const disc = program.params.filter((p) => p.name.startsWith('disc.'));
    expect(disc.length).toBeGreaterThan(0);
    expect(disc.every((p) => !p.isTrainable && p.next === null)).toBe(true);
    expect(program.slots.some((s) => s.input.includes('disc.'))).toBe(false);
    expect(program.fetchOutputs).toEqual(['output']);
    // Off, the default program is unchanged: no discriminator, nothing fetched.
    const plain = compileStudentProgram(tinyParams(1));
    expect(plain.params.some((p) => p.name.startsWith('disc.'))).toBe(false);
    expect(plain.fetchOutputs).toEqual([]);
  });

  it('alternates on a pairs dataset, logs every term, and resumes a paused run exactly', async () => {
    const ws = makeWorkspace();
    try {
      const datasetId = await insertPairsDataset(ws.store, ws.blobs, { name: 'pairs', count: 6, size: 64, validationFraction: 0.34 });
      const params = tinyParams(datasetId, { steps: 6, checkpointEvery: 3, validateEvery: 6, adversarial: ADV });
      const straight = await trainStudent(params, trainEnv(ws, 'straight'));
      const runs = new RunStore(ws.db);
      const run = runs.get(straight.runId);
      for (const name of ['loss', 'l1', 'ms_l1', 'adv', 'd_loss', 'd_real', 'd_fake']) {
        expect(run.metrics[`train/${name}`]!.map((m) => m.step), name).toEqual([1, 2, 3, 4, 5, 6]);
      }

      // Pause after step 3 (the checkpoint there holds the discriminator too), then resume to the end.
      const controller = new AbortController();
      const saved: TrainResumeState[] = [];
      await expect(
        trainStudent(params, trainEnv(ws, 'paused', { signal: controller.signal, saved, onStep: (s) => s === 3 && controller.abort() })),
      ).rejects.toThrow();
      expect(saved.at(-1)!.step).toBe(3);
      const resumed = await trainStudent(params, trainEnv(ws, 'paused', { resumeFrom: saved.at(-1)! }));
      expect(resumed.steps).toBe(6);

      const a = parseSafetensors(await ws.blobs.read(straight.checkpointSha));
      const b = parseSafetensors(await ws.blobs.read(resumed.checkpointSha));
      expect(b.names().sort()).toEqual(a.names().sort());
      expect(a.names().some((n) => n.includes('disc.') && n.startsWith('optim'))).toBe(true);
      for (const name of a.names()) expect(Array.from(b.float32(name)), name).toEqual(Array.from(a.float32(name)));
      const other = runs.get(resumed.runId);
      for (const name of ['loss', 'adv', 'd_loss']) {
        expect(other.metrics[`train/${name}`]!.map((m) => m.value), name).toEqual(run.metrics[`train/${name}`]!.map((m) => m.value));
      }
    } finally {
      ws.cleanup();
    }
  }, 90_000);

  it('refuses out-of-range adversarial settings', () => {
    expect(() => validateTrainParams(tinyParams(1, { adversarial: { weight: 0, discriminatorWidth: 16 } }))).toThrow(/adversarial weight 0 must be above 0/);
    expect(() => validateTrainParams(tinyParams(1, { adversarial: { weight: 0.1, discriminatorWidth: 3 } }))).toThrow(/discriminatorWidth 3 must be an integer from 8 to 128/);
    const schema = REQUEST_SCHEMAS['runs:start'];
    expect(schema.safeParse([tinyParams(1, { adversarial: ADV })]).success).toBe(true);
    expect(schema.safeParse([tinyParams(1, { adversarial: { weight: 11, discriminatorWidth: 16 } })]).success).toBe(false);
    expect(schema.safeParse([tinyParams(1, { adversarial: { weight: 0.1, discriminatorWidth: 16.5 } })]).success).toBe(false);
  });
});
