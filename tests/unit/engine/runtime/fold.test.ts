// Constant folding of deployable models: weight-only arithmetic disappears, the outputs stay the same.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readOnnxModel, Rng } from '../../../../src/main/engine/graph/index.ts';
import { foldConstants } from '../../../../src/main/engine/runtime/index.ts';
import { buildStudentGraph, STUDENT_INPUT, STUDENT_OUTPUT, studentForwardModel } from '../../../../src/main/student/model.ts';
import type { StudentConfig } from '../../../../src/shared/student/types.ts';

const CONFIG: StudentConfig = { size: 64, width: 0.25, activation: 'relu6', residualScale: 0.5 };

/** Op types of a model's nodes. */
function opsOf(model: Uint8Array): Set<string> {
  return new Set(readOnnxModel(model).nodes.map((n) => n.op));
}

async function run(model: Uint8Array, input: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  const out = (await session.run({ [STUDENT_INPUT]: new ort.Tensor('float32', input, [1, 3, 64, 64]) }))[STUDENT_OUTPUT]!.data as Float32Array;
  await session.release();
  return out;
}

describe('foldConstants', () => {
  it("computes a student's weight-only subgraphs (the head's phase kernels) once and keeps its outputs", async () => {
    const { graph } = buildStudentGraph(CONFIG, { batch: 1, seed: 3 });
    // Non-trivial head weights, so that a wrongly folded phase kernel would show in the output.
    const rng = new Rng(4, 'fold');
    const weights = graph.initialParamValues();
    for (const [name, w] of weights) if (name.startsWith('head.')) weights.set(name, w.map(() => rng.normal() * 0.1));
    const model = studentForwardModel(CONFIG, weights);
    const folded = await foldConstants(model);

    expect(opsOf(model)).toContain('MatMul');
    const ops = opsOf(folded);
    for (const op of ['MatMul', 'Split', 'Reshape', 'Expand']) expect(ops, op).not.toContain(op);
    expect(ops).toContain('Conv');

    const input = Float32Array.from({ length: 3 * 64 * 64 }, () => rng.uniform());
    const [a, b] = [await run(model, input), await run(folded, input)];
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThan(1e-5);
  });

  it('says why when the bytes are not a model', async () => {
    await expect(foldConstants(new Uint8Array([1, 2, 3]))).rejects.toThrow(/^constant folding: ONNX Runtime cannot load the model: .+/);
  });
});
