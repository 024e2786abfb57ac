// Checkpoints: what they hold, and clear errors for files that do not fit the program (shapes, missing, extra, format).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensorsFile, writeSafetensorsFile, type TensorToWrite } from '../../../../src/main/engine/safetensors/index.ts';
import { CheckpointError, readCheckpoint, Trainer, type TrainProgram } from '../../../../src/main/engine/train/index.ts';
import { batch, tinyProgram } from './tiny-net.ts';

const tmp = mkdtempSync(join(tmpdir(), 'checkpoint-test-'));
const good = join(tmp, 'good.safetensors');
let program: TrainProgram;

beforeAll(async () => {
  program = tinyProgram();
  const trainer = await Trainer.create(program, { session: { providers: ['cpu'], threads: 1 } });
  for (let k = 0; k < 3; k++) await trainer.step(batch(k), 1e-2);
  await trainer.saveCheckpoint(good, { note: 'three steps' });
  await trainer.release();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Rewrites the good checkpoint with its tensors edited by `edit`, keeping (or replacing) the metadata. */
async function variant(
  name: string,
  edit: (tensors: Map<string, TensorToWrite>) => void,
  metadata?: (m: Record<string, string>) => Record<string, string>,
): Promise<string> {
  const file = await readSafetensorsFile(good);
  const tensors = new Map<string, TensorToWrite>(file.names().map((n) => [n, { dtype: 'F32', shape: file.entry(n).shape, data: file.float32(n) }]));
  edit(tensors);
  const path = join(tmp, `${name}.safetensors`);
  await writeSafetensorsFile(path, tensors, metadata ? metadata({ ...file.metadata }) : file.metadata);
  return path;
}

describe('training checkpoints', () => {
  it('hold the weights, every optimizer slot, the step and the configuration', async () => {
    const file = await readSafetensorsFile(good);
    expect(file.names().sort()).toEqual(
      [...program.params.map((p) => p.name), ...program.slots.map((s) => s.input)].sort(),
    );
    expect(file.metadata.step).toBe('3');
    expect(JSON.parse(file.metadata.optimizer!)).toEqual({ kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    const ckpt = await readCheckpoint(good, tinyProgram());
    expect(ckpt.step).toBe(3);
    expect(ckpt.config).toEqual({ note: 'three steps' });
  });

  it('refuses a checkpoint of another architecture, naming each tensor and both shapes', async () => {
    const err = await readCheckpoint(good, tinyProgram({ hidden: 4 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toContain('"c1.weight" has shape [8,3,3,3], the model needs [4,3,3,3]');
    expect((err as Error).message).toContain('"optim.v/c2.weight" has shape [3,8,3,3], the model needs [3,4,3,3]');
  });

  it('lists missing and unexpected tensors', async () => {
    const path = await variant('missing', (t) => {
      t.delete('c2.bias');
      t.delete('optim.m/c1.weight');
      t.set('extra.weight', { dtype: 'F32', shape: [2], data: new Float32Array(2) });
    });
    await expect(readCheckpoint(path, tinyProgram())).rejects.toThrow(
      /missing tensors: c2\.bias, optim\.m\/c1\.weight; tensors the model does not have: extra\.weight/,
    );
  });

  it('refuses non-float32 tensors', async () => {
    const path = await variant('f16', (t) => t.set('c2.bias', { dtype: 'F16', shape: [3], data: new Uint16Array(3) }));
    await expect(readCheckpoint(path, tinyProgram())).rejects.toThrow('"c2.bias" is F16, expected F32');
  });

  it('refuses a plain weights file, another optimizer, and a bad step', async () => {
    const plain = await variant('plain', () => undefined, () => ({}));
    await expect(readCheckpoint(plain, tinyProgram())).rejects.toThrow(/not a training checkpoint/);
    await expect(readCheckpoint(good, tinyProgram({ optimizer: { kind: 'sgd', momentum: 0.9 } }))).rejects.toThrow(
      'written by a "adam" optimizer, this program uses sgd',
    );
    const badStep = await variant('step', () => undefined, (m) => ({ ...m, step: '-1' }));
    await expect(readCheckpoint(badStep, tinyProgram())).rejects.toThrow('step "-1" is not a step count');
  });

  it('reports a truncated file as a checkpoint error naming the file', async () => {
    const bytes = readFileSync(good);
    const path = join(tmp, 'truncated.safetensors');
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    const err = await readCheckpoint(path, tinyProgram()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toContain(path);
  });

  it('a failed resume leaves nothing half-loaded: Trainer.resume rejects', async () => {
    await expect(Trainer.resume(tinyProgram({ hidden: 4 }), good)).rejects.toBeInstanceOf(CheckpointError);
  });
});
