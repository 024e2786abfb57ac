// Two programs trained in step: fetched outputs, frozen parameters fed from the other trainer, one shared checkpoint.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Graph } from '../../../../src/main/engine/graph/index.ts';
import { CheckpointError, compileTrainProgram, Trainer, type TrainProgram } from '../../../../src/main/engine/train/index.ts';
import { IMAGE_SHAPE, uniform } from './tiny-net.ts';

const SESSION = { session: { providers: ['cpu' as const], threads: 1 } };

/** A: out = conv(x; a.w) trained on mean |out·k − y| with k = conv(...; b.w) frozen; B: fits b.w so that conv(x) ≈ y. */
function programs(): { a: TrainProgram; b: TrainProgram } {
  const ga = new Graph('a', { seed: 1 });
  const x = ga.input('x', 'float32', IMAGE_SHAPE);
  const y = ga.input('y', 'float32', IMAGE_SHAPE);
  const out = ga.output('out', ga.conv(x, ga.param('a.w', [3, 3, 3, 3], 'he'), null, { pads: 1 }));
  const k = ga.conv(out, ga.param('b.w', [3, 3, 1, 1], 'he'), null);
  const a = compileTrainProgram({
    graph: ga,
    loss: ga.reduceMean(ga.abs(ga.sub(k, y)), { keepdims: false }),
    forwardOutputs: ['out'],
    optimizer: { kind: 'adam' },
    trainable: ['a.w'],
    fetch: ['out'],
  });
  const gb = new Graph('b', { seed: 2 });
  const xb = gb.input('fake', 'float32', IMAGE_SHAPE);
  const yb = gb.input('y', 'float32', IMAGE_SHAPE);
  const kb = gb.output('k', gb.conv(xb, gb.param('b.w', [3, 3, 1, 1], 'he'), null));
  const b = compileTrainProgram({ graph: gb, loss: gb.reduceMean(gb.abs(gb.sub(kb, yb)), { keepdims: false }), forwardOutputs: ['k'], optimizer: { kind: 'adam' } });
  return { a, b };
}

async function alternate(a: Trainer, b: Trainer, from: number, to: number): Promise<number[]> {
  const n = IMAGE_SHAPE.reduce((p, q) => p * q, 1);
  const losses: number[] = [];
  for (let s = from; s < to; s++) {
    const x = uniform(s + 1, n);
    const y = uniform(s + 100, n);
    const ra = await a.step({ x, y }, 1e-2);
    expect(ra.fetched.out!.dims).toEqual([...IMAGE_SHAPE]);
    const rb = await b.step({ fake: ra.fetched.out!, y }, 1e-2);
    a.setFrozenParams(await b.weights());
    losses.push(ra.loss, rb.loss);
  }
  return losses;
}

describe('companion trainers', () => {
  it('feed each other, save one checkpoint together and resume it exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'companions-'));
    const { a, b } = programs();
    try {
      const ta = await Trainer.create(a, SESSION);
      const tb = await Trainer.create(b, SESSION);
      ta.setFrozenParams(await tb.weights());
      await alternate(ta, tb, 0, 3);
      const path = join(dir, 'both.safetensors');
      await ta.saveCheckpoint(path, { note: 'both' }, [tb]);
      const straight = await alternate(ta, tb, 3, 6);
      const final = [...(await ta.weights()), ...(await tb.weights())];
      await ta.release();
      await tb.release();

      const { a: a2, b: b2 } = programs();
      await expect(Trainer.resume(a2, path, SESSION)).rejects.toThrow(CheckpointError);
      const { trainer: ra, checkpoint } = await Trainer.resume(a2, path, { ...SESSION, companions: [b2] });
      const rb = await Trainer.restore(b2, checkpoint, SESSION);
      expect([ra.stepsDone, rb.stepsDone]).toEqual([3, 3]);
      expect(await alternate(ra, rb, 3, 6)).toEqual(straight);
      const again = [...(await ra.weights()), ...(await rb.weights())];
      expect(again.map(([k, v]) => [k, Array.from(v)])).toEqual(final.map(([k, v]) => [k, Array.from(v)]));
      expect(() => ra.setFrozenParams(new Map([['a.w', new Float32Array(81)]]))).toThrow(/not a frozen parameter/);
      expect(() => ra.setFrozenParams(new Map([['b.w', new Float32Array(2)]]))).toThrow(/has 2 values/);
      await ra.release();
      await rb.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
