// Trainer: a conv net learns a mapping, resume is bit-identical, export equals the training forward, bad input is refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createSession } from '../../../../src/main/engine/runtime/index.ts';
import { NonFiniteLossError, Trainer } from '../../../../src/main/engine/train/index.ts';
import { batch, IMAGE_SHAPE, tinyProgram } from './tiny-net.ts';

const tmp = mkdtempSync(join(tmpdir(), 'trainer-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
/** One thread: results are then deterministic, and the tests share two cores with others. */
const session = { providers: ['cpu'] as const, threads: 1, shareCores: true };

function bitsEqual(a: Map<string, Float32Array>, b: Map<string, Float32Array>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, va] of a) {
    const vb = b.get(name);
    if (!vb || Buffer.compare(Buffer.from(va.buffer, va.byteOffset, va.byteLength), Buffer.from(vb.buffer, vb.byteOffset, vb.byteLength)) !== 0) return false;
  }
  return true;
}

describe('Trainer', () => {
  it('learns a fixed image-to-image mapping: the loss falls more than 10×', async () => {
    const trainer = await Trainer.create(tinyProgram({ hidden: 16 }), { session });
    const losses: number[] = [];
    const steps = 300;
    for (let k = 0; k < steps; k++) {
      const lr = 1e-2 * 0.5 * (1 + Math.cos((Math.PI * k) / steps));
      const r = await trainer.step(batch(k % 16), lr);
      expect(r.step).toBe(k + 1);
      losses.push(r.loss);
    }
    await trainer.release();
    const first = losses[0]!;
    const last = losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
    expect(first / last).toBeGreaterThan(10);
  });

  it('reports the loss terms and, when clipping, the gradient norm', async () => {
    const trainer = await Trainer.create(tinyProgram({ clipGradNorm: 1e-3 }), { session });
    const r = await trainer.step(batch(0), 1e-3);
    await trainer.release();
    expect(Object.keys(r.terms)).toEqual(['mse']);
    expect(r.terms.mse).toBeGreaterThan(0);
    expect(r.terms.mse).toBeLessThan(r.loss); // |d| < 1 here, so d² < |d| on average
    expect(r.gradNorm).toBeGreaterThan(1e-3);
    expect(r.ms).toBeGreaterThan(0);
  });

  it('resumes bit-identically: N steps straight equal N/2 + save + load + N/2', async () => {
    const N = 8;
    const lrAt = (k: number): number => 5e-3 * 0.9 ** k;
    const straight = await Trainer.create(tinyProgram(), { session });
    const straightLosses: number[] = [];
    for (let k = 0; k < N; k++) straightLosses.push((await straight.step(batch(k), lrAt(k))).loss);

    const first = await Trainer.create(tinyProgram(), { session });
    for (let k = 0; k < N / 2; k++) await first.step(batch(k), lrAt(k));
    const path = join(tmp, 'half.safetensors');
    await first.saveCheckpoint(path, { dataset: 'synthetic', lrSchedule: 'exp 0.9' });
    await first.release();

    const { trainer: resumed, checkpoint } = await Trainer.resume(tinyProgram(), path, { session });
    expect(checkpoint.step).toBe(N / 2);
    expect(checkpoint.config).toEqual({ dataset: 'synthetic', lrSchedule: 'exp 0.9' });
    expect(resumed.stepsDone).toBe(N / 2);
    const resumedLosses: number[] = [];
    for (let k = N / 2; k < N; k++) resumedLosses.push((await resumed.step(batch(k), lrAt(k))).loss);

    expect(resumedLosses).toEqual(straightLosses.slice(N / 2));
    expect(bitsEqual(await resumed.weights(), await straight.weights())).toBe(true);
    expect(bitsEqual(await resumed.optimizerState(), await straight.optimizerState())).toBe(true);
    await Promise.all([straight.release(), resumed.release()]);
  });

  it('exports a forward model (weights as initializers) that gives the training forward\'s outputs', async () => {
    const trainer = await Trainer.create(tinyProgram(), { session });
    for (let k = 0; k < 5; k++) await trainer.step(batch(k), 1e-2);
    const { x, y } = batch(99);
    const exported = await createSession(await trainer.exportForward(), { providers: ['cpu'], threads: 1 });
    expect(exported.inputNames).toEqual(['x']);
    const viaExport = (await exported.run({ x: new ort.Tensor('float32', x, [...IMAGE_SHAPE]) })).out!.data as Float32Array;
    const viaTraining = (await trainer.predict({ x })).out!.data as Float32Array;
    let worst = 0;
    viaExport.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - viaTraining[i]!))));
    expect(worst).toBeLessThan(1e-5);
    // The forward the trainer previews is the one its loss is computed on: the next step reports mean |out − y|.
    let l1 = 0;
    viaTraining.forEach((v, i) => (l1 += Math.abs(v - y[i]!)));
    const r = await trainer.step({ x, y }, 1e-2);
    expect(r.loss).toBeCloseTo(l1 / y.length, 5);
    await Promise.all([exported.release(), trainer.release()]);
  });

  it('does not apply a step whose loss is not finite', async () => {
    const trainer = await Trainer.create(tinyProgram(), { session });
    await trainer.step(batch(0), 1e-2);
    const before = await trainer.weights();
    const { x, y } = batch(1);
    x[0] = Number.NaN;
    const err = await trainer.step({ x, y }, 1e-2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect(trainer.stepsDone).toBe(1);
    expect(bitsEqual(await trainer.weights(), before)).toBe(true);
    await trainer.release();
  });

  it('names the input when a batch is missing or mis-shaped', async () => {
    const trainer = await Trainer.create(tinyProgram(), { session });
    const { x } = batch(0);
    await expect(trainer.step({ x }, 1e-3)).rejects.toThrow('the batch lacks "y" (float32 [4,3,12,12])');
    await expect(trainer.step({ x, y: new Float32Array(5) }, 1e-3)).rejects.toThrow('"y" has 5 float32 values');
    await expect(trainer.step({ x, y: x }, Number.NaN)).rejects.toThrow('learning rate NaN');
    await trainer.release();
  });
});
