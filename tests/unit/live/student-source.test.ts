// The live requests through the studio: runs with checkpoints, the student model built from the newest one, parts, and clear refusals.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePackage } from '../../../src/main/export/writer.ts';
import { Studio } from '../../../src/main/services/studio.ts';
import { LIVE_MODEL_PART_BYTES, type LiveRun, type LiveStudentModel } from '../../../src/shared/live/types.ts';
import { buildTinyStudent, makeSource } from '../export/helpers.ts';
import { makeTrainedRun, type TrainedRun } from './trained-run.ts';

let dataDir: string;
let studio: Studio;
let trained: TrainedRun;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'studio-live-unit-'));
  trained = await makeTrainedRun(dataDir, { size: 64, width: 0.25, activation: 'relu6', residualScale: 1 }, 4);
  studio = await Studio.open({ dataDir, host: 'browser', version: '0.0.0-test', log: () => {} });
}, 60_000);

afterAll(async () => {
  await studio?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function ok<T>(channel: string, ...params: unknown[]): Promise<T> {
  const result = await studio.handle(channel, params);
  if (!result.ok) throw new Error(`${channel} failed: ${result.error.message}`);
  return result.value as T;
}

describe('live:runs and live:student', () => {
  it('lists the run with its newest checkpoint and builds a model that applies the trained residual', async () => {
    const runs = await ok<LiveRun[]>('live:runs');
    expect(runs).toEqual([
      expect.objectContaining({ runId: trained.runId, jobId: trained.jobId, checkpointStep: 4, checkpointSha: trained.checkpointSha, size: 64 }),
    ]);
    const model = await ok<LiveStudentModel>('live:student', { kind: 'run', runId: trained.runId });
    expect(model).toMatchObject({ label: `Run ${trained.runId} · step 4`, size: 64, inputName: 'image', outputName: 'output', checkpointStep: 4 });
    expect(model.parts).toBe(Math.ceil(model.modelBytes / LIVE_MODEL_PART_BYTES));
    const parts: Buffer[] = [];
    for (let i = 0; i < model.parts; i++) parts.push(Buffer.from(await ok<string>('live:model-part', model.modelSha256, i), 'base64'));
    const bytes = Buffer.concat(parts);
    expect(bytes.length).toBe(model.modelBytes);

    const session = await ort.InferenceSession.create(bytes);
    try {
      const grey = new Float32Array(3 * 64 * 64).fill(0.3);
      const out = (await session.run({ image: new ort.Tensor('float32', grey, [1, 3, 64, 64]) })).output!.data as Float32Array;
      // Trained towards 1 − x, the student brightens a dark grey well beyond rounding.
      const mean = out.reduce((s, v) => s + v, 0) / out.length;
      expect(mean - 0.3).toBeGreaterThan(0.1);
    } finally {
      await session.release();
    }
  });

  it('serves the model of an exported package, checked against its manifest', async () => {
    const path = join(dataDir, 'tiny.fxpkg');
    const tiny = buildTinyStudent();
    await writePackage(await makeSource(tiny), { out: path, fp16: false, studioVersion: '0.0.0-test' });
    const model = await ok<LiveStudentModel>('live:student', { kind: 'package', path });
    expect(model).toMatchObject({ label: 'Tiny test effect', size: 32, checkpointStep: null, checkpointSha: null, modelBytes: tiny.length, parts: 1 });
    expect(Buffer.from(await ok<string>('live:model-part', model.modelSha256, 0), 'base64').equals(Buffer.from(tiny))).toBe(true);
  });

  it('refuses what it cannot serve, naming the problem', async () => {
    const missing = await studio.handle('live:student', [{ kind: 'run', runId: 999 }]);
    expect(missing).toMatchObject({ ok: false, error: { code: 'not-found', message: expect.stringContaining('999') } });
    const noPackage = await studio.handle('live:student', [{ kind: 'package', path: join(dataDir, 'absent.fxpkg') }]);
    expect(noPackage).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringContaining('absent.fxpkg') } });
    const unknownModel = await studio.handle('live:model-part', ['0'.repeat(64), 0]);
    expect(unknownModel).toMatchObject({ ok: false, error: { code: 'not-found' } });
    const model = await ok<LiveStudentModel>('live:student', { kind: 'run', runId: trained.runId });
    const pastEnd = await studio.handle('live:model-part', [model.modelSha256, model.parts]);
    expect(pastEnd).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringContaining(`no part ${model.parts}`) } });
    const badSha = await studio.handle('live:model-part', ['not-a-sha', 0]);
    expect(badSha).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringContaining('sha256') } });
  });
});
