// The perceptual loss: its value matches onnxruntime on the feature network's file, its gradients pass the
// finite-difference check, the network stays frozen through training, and bad networks or settings are refused first.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { Graph, readOnnxModel, Rng } from '../../../src/main/engine/graph/index.ts';
import { Trainer } from '../../../src/main/engine/train/index.ts';
import { REQUEST_SCHEMAS } from '../../../src/main/services/schemas.ts';
import { buildStudentGraph } from '../../../src/main/student/model.ts';
import { FEATURE_NETWORK_KIND, perceptualDistance } from '../../../src/main/student/perceptual.ts';
import { RunStore } from '../../../src/main/student/runs.ts';
import { StudentService } from '../../../src/main/student/service.ts';
import { compileStudentProgram, studentLoss, TARGET_INPUT, trainStudent, validateTrainParams } from '../../../src/main/student/train.ts';
import type { PerceptualLossParams } from '../../../src/shared/student/types.ts';
import { makeWorkspace } from '../datasets/helpers.ts';
import { gradCheck } from '../engine/support/gradcheck.ts';
import { signNetOnnx, tinyVggOnnx } from '../engine/support/feature-net.ts';
import { runFloat, sessionFor } from '../engine/support/ort.ts';
import { insertPairsDataset } from './pairs-fixture.ts';
import { runOnnx, TINY, tinyParams, trainEnv } from './loss-helpers.ts';

const SHA = 'a'.repeat(64);

function perceptual(overrides: Partial<PerceptualLossParams> = {}): PerceptualLossParams {
  return { modelSha256: SHA, outputs: ['relu1_1', 'mix'], weight: 0.5, distance: 'l1', range: [-1, 1], mean: [0.1, 0.2, 0.3], std: [0.5, 0.6, 0.7], ...overrides };
}

function uniform(seed: number, n: number): Float32Array {
  const rng = new Rng(seed, 'img');
  return Float32Array.from({ length: n }, () => rng.uniform());
}

describe('perceptual loss', () => {
  it.each(['l1', 'l2'] as const)('equals the %s distance of the ONNX file’s features computed by onnxruntime on both images', async (distance) => {
    const size = 32;
    const dims = [2, 3, size, size];
    const bytes = tinyVggOnnx(size, 2);
    const p = perceptual({ distance });
    const g = new Graph('perceptual');
    const pred = g.input('pred', 'float32', dims);
    const target = g.input('target', 'float32', dims);
    g.output('loss', perceptualDistance(g, readOnnxModel(bytes), p, pred, target));
    const x = uniform(1, 2 * 3 * size * size);
    const y = uniform(2, 2 * 3 * size * size);
    const session = await sessionFor(g);
    const got = (await runFloat(session, g, new Map([['pred', x], ['target', y]]))).get('loss')!.data[0]!;
    await session.release();

    // Reference: normalise in TypeScript, run the file itself on each image batch, compare the maps.
    const plane = size * size;
    const normalise = (img: Float32Array): Float32Array =>
      img.map((v, i) => (p.range[0] + (p.range[1] - p.range[0]) * v - p.mean[Math.floor(i / plane) % 3]!) / p.std[Math.floor(i / plane) % 3]!);
    const fx = await runOnnx(bytes, normalise(x), dims);
    const fy = await runOnnx(bytes, normalise(y), dims);
    let expected = 0;
    for (const name of p.outputs) {
      const a = fx[name]!;
      const b = fy[name]!;
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += distance === 'l1' ? Math.abs(a[i]! - b[i]!) : (a[i]! - b[i]!) ** 2;
      expected += sum / a.length;
    }
    expect(expected).toBeGreaterThan(0.01);
    expect(Math.abs(got - expected) / expected).toBeLessThan(1e-5);
  });

  it('passes the finite-difference check: the combined loss (L1 + multi-scale + perceptual) w.r.t. student weights', async () => {
    const { graph, input, output } = buildStudentGraph(TINY, { seed: 3 });
    const target = graph.input(TARGET_INPUT, 'float32', output.shape);
    const params = tinyParams(1, { batch: 1, multiScaleWeight: 0.5, perceptual: perceptual({ distance: 'l2', weight: 2 }) });
    const { loss, terms } = studentLoss(graph, params, { input, output, target, featureNetwork: readOnnxModel(tinyVggOnnx(64)) });
    expect(Object.keys(terms)).toEqual(['l1', 'ms_l1', 'perceptual']);
    const feeds = new Map([
      [input.name, uniform(4, input.size)],
      [target.name, uniform(5, target.size)],
    ]);
    const wrt = ['head.weight', 'enc1.0.depthwise.weight'].map((n) => graph.params.find((q) => q.name === n)!.tensor);
    const res = await gradCheck(graph, loss, wrt, { feeds, samples: 3, h: 1e-4 });
    expect(res.forward).toBeLessThan(1e-5);
    for (const e of [...res.elementwise, ...res.directional]) expect(e).toBeLessThan(2e-2);
    expect(graph.params.some((q) => q.name.startsWith('perceptual/'))).toBe(false);
  }, 60_000);

  it('keeps the feature network frozen: no parameter of it, its weights baked into the training model unchanged', async () => {
    const bytes = tinyVggOnnx(64);
    const params = tinyParams(1, { perceptual: perceptual() });
    const program = compileStudentProgram(params, { featureNetwork: readOnnxModel(bytes) });
    expect(program.params.filter((q) => q.name.startsWith('perceptual/'))).toEqual([]);
    const { onnx } = onnxProto;
    const blobsOf = (model: Uint8Array): Set<string> =>
      new Set((onnx.ModelProto.decode(model).graph!.initializer ?? []).map((t) => Buffer.from(t.rawData!).toString('base64')));
    const fileWeights = blobsOf(bytes);
    const trainer = await Trainer.create(program, { session: { providers: ['cpu'], threads: 1 } });
    try {
      const plane = 2 * 3 * 64 * 64;
      const before = await trainer.weights();
      const losses: number[] = [];
      for (let s = 0; s < 3; s++) {
        const res = await trainer.step({ image: uniform(10, plane), [TARGET_INPUT]: uniform(11, plane) }, 5e-3);
        losses.push(res.terms.perceptual!);
      }
      // The student moved, the perceptual term with it; the network's weights are in the (unchanging) model bytes.
      const after = await trainer.weights();
      expect([...after].some(([name, v]) => v.some((x, i) => x !== before.get(name)![i]))).toBe(true);
      expect(losses[2]).toBeLessThan(losses[0]!);
      const inModel = blobsOf(program.model);
      for (const w of fileWeights) expect(inModel.has(w)).toBe(true);
      expect([...after.keys()].every((n) => !n.startsWith('perceptual/'))).toBe(true);
    } finally {
      await trainer.release();
    }
  }, 60_000);

  it('stores the network given by path, logs the term per step and trains with it', async () => {
    const ws = makeWorkspace();
    try {
      const datasetId = await insertPairsDataset(ws.store, ws.blobs, { name: 'pairs', count: 6, size: 64, validationFraction: 0.34 });
      const file = join(ws.dir, 'vgg.onnx');
      writeFileSync(file, tinyVggOnnx(64));
      const service = new StudentService(ws.db, ws.blobs);
      const ready = await service.checkStart(tinyParams(datasetId, { perceptual: perceptual({ modelSha256: undefined, path: file }) }));
      const sha = ready.perceptual!.modelSha256!;
      expect(ready.perceptual!.path).toBeUndefined();
      expect(ws.blobs.info(sha)!.kind).toBe(FEATURE_NETWORK_KIND);
      const result = await trainStudent(ready, trainEnv(ws, 'perceptual-job'));
      const run = new RunStore(ws.db).get(result.runId);
      expect(run.config.perceptual!.modelSha256).toBe(sha);
      expect(run.metrics['train/perceptual']!.map((m) => m.step)).toEqual([1, 2, 3, 4]);
      expect(run.metrics['train/l1']!).toHaveLength(4);
      for (const m of run.metrics['train/perceptual']!) expect(m.value).toBeGreaterThan(0);
    } finally {
      ws.cleanup();
    }
  }, 60_000);

  it('refuses unusable networks and out-of-range settings before any work, naming what is wrong', async () => {
    const ws = makeWorkspace();
    try {
      const datasetId = await insertPairsDataset(ws.store, ws.blobs, { name: 'pairs', count: 4, size: 64 });
      const service = new StudentService(ws.db, ws.blobs);
      const start = (p: Partial<PerceptualLossParams>): Promise<unknown> =>
        service.checkStart(tinyParams(datasetId, { perceptual: perceptual({ modelSha256: undefined, ...p }) }));
      const sign = join(ws.dir, 'sign.onnx');
      writeFileSync(sign, signNetOnnx(64));
      await expect(start({ path: sign, outputs: ['features'] })).rejects.toThrow(/node "the_sign" \(Sign\): the op Sign is not supported/);
      const vgg = join(ws.dir, 'vgg.onnx');
      writeFileSync(vgg, tinyVggOnnx(64));
      await expect(start({ path: vgg, outputs: ['conv9'] })).rejects.toThrow(/no value named "conv9"/);
      await expect(start({ path: join(ws.dir, 'missing.onnx') })).rejects.toThrow(/missing\.onnx cannot be read/);
      const garbage = join(ws.dir, 'garbage.onnx');
      writeFileSync(garbage, 'not a model at all');
      await expect(start({ path: garbage })).rejects.toThrow(/garbage\.onnx cannot be used: not an ONNX model/);
      const fixed = join(ws.dir, 'fixed.onnx');
      writeFileSync(fixed, tinyVggOnnx(32));
      await expect(start({ path: fixed })).rejects.toThrow(/fixed at 32×32; the student's images are 64×64/);
      await expect(start({ modelSha256: SHA })).rejects.toThrow(/no feature network a{64} is stored/);
      // Nothing was stored by the refused starts.
      expect(ws.db.prepare(`SELECT count(*) AS n FROM blobs WHERE kind = ?`).get(FEATURE_NETWORK_KIND)).toEqual({ n: 0 });

      expect(() => validateTrainParams(tinyParams(datasetId, { perceptual: perceptual({ weight: 0 }) }))).toThrow(/perceptual weight 0 must be above 0/);
      expect(() => validateTrainParams(tinyParams(datasetId, { perceptual: perceptual({ std: [1, 0, 1] }) }))).toThrow(/perceptual std \[1, 0, 1\]/);
      expect(() => validateTrainParams(tinyParams(datasetId, { perceptual: perceptual({ path: '/x.onnx' }) }))).toThrow(/exactly one of modelSha256 and path/);
      const schema = REQUEST_SCHEMAS['runs:start'];
      expect(schema.safeParse([tinyParams(datasetId, { perceptual: perceptual() })]).success).toBe(true);
      expect(schema.safeParse([tinyParams(datasetId, { perceptual: perceptual({ weight: 1000 }) })]).success).toBe(false);
      expect(schema.safeParse([tinyParams(datasetId, { perceptual: perceptual({ outputs: [] }) })]).success).toBe(false);
      expect(schema.safeParse([tinyParams(datasetId, { perceptual: perceptual({ range: [1, 0] }) })]).success).toBe(false);
    } finally {
      ws.cleanup();
    }
  }, 60_000);
});
