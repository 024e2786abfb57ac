// The ONNX importer: imported feature networks compute what onnxruntime computes on the file, stay frozen, and refuse unknown ops by name.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Graph, importOnnxGraph, OnnxImportError, readOnnxModel, Rng } from '../../../../src/main/engine/graph/index.ts';
import { randomData, relInf } from '../support/gradcheck.ts';
import { runFloat, sessionFor } from '../support/ort.ts';
import { signNetOnnx, tinyHeadOnnx, tinyVggOnnx, VGG_OUTPUTS } from '../support/feature-net.ts';

async function runFile(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
  const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, dims) });
  await session.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

/** Imports `bytes` fed by a graph input of `dims` and returns the named values as computed by ORT on the new graph. */
async function runImported(bytes: Uint8Array, outputs: readonly string[], x: Float32Array, dims: number[]): Promise<{ values: Map<string, Float32Array>; g: Graph }> {
  const g = new Graph('host');
  const input = g.input('x', 'float32', dims);
  const features = importOnnxGraph(g, readOnnxModel(bytes), { input, outputs, prefix: 'fn/' });
  features.forEach((t, i) => g.output(`feat${i}`, t));
  const session = await sessionFor(g);
  const res = await runFloat(session, g, new Map([['x', x]]));
  await session.release();
  return { values: new Map(outputs.map((name, i) => [name, res.get(`feat${i}`)!.data])), g };
}

describe('ONNX import of a frozen feature network', () => {
  it('reproduces a VGG-like network (conv, relu, clip, pools, arithmetic, resize, concat) and adds no parameters', async () => {
    const bytes = tinyVggOnnx(16, 2);
    const x = randomData(new Rng(1, 'x'), 2 * 3 * 16 * 16);
    const expected = await runFile(bytes, x, [2, 3, 16, 16]);
    const { values, g } = await runImported(bytes, VGG_OUTPUTS, x, [2, 3, 16, 16]);
    for (const name of VGG_OUTPUTS) expect(relInf(values.get(name)!, expected[name]!)).toBeLessThan(1e-6);
    expect(g.params).toHaveLength(0);
    expect(g.constants.some((c) => c.tensor.name.startsWith('fn/'))).toBe(true);
  });

  it('reproduces BatchNormalization, GlobalAveragePool, Flatten, Gemm and Reshape', async () => {
    const bytes = tinyHeadOnnx(8, 3);
    const x = randomData(new Rng(2, 'x'), 3 * 3 * 8 * 8);
    const expected = await runFile(bytes, x, [3, 3, 8, 8]);
    const { values } = await runImported(bytes, ['logits'], x, [3, 3, 8, 8]);
    expect(relInf(values.get('logits')!, expected['logits']!)).toBeLessThan(1e-6);
  });

  it('takes a different batch than the file declares when the network does not bake it in', async () => {
    const x = randomData(new Rng(3, 'x'), 4 * 3 * 16 * 16);
    const expected = await runFile(tinyVggOnnx(16, 4), x, [4, 3, 16, 16]);
    const { values } = await runImported(tinyVggOnnx(16, 1), ['relu2_1'], x, [4, 3, 16, 16]);
    expect(relInf(values.get('relu2_1')!, expected['relu2_1']!)).toBeLessThan(1e-6);
  });

  it('refuses an op it cannot differentiate, naming the op and the node', () => {
    const g = new Graph('host');
    const input = g.input('x', 'float32', [1, 3, 8, 8]);
    const model = readOnnxModel(signNetOnnx(8));
    expect(() => importOnnxGraph(g, model, { input, outputs: ['features'], prefix: 'fn/' })).toThrow(OnnxImportError);
    expect(() => importOnnxGraph(g, model, { input, outputs: ['features'], prefix: 'fn2/' })).toThrow(/node "the_sign" \(Sign\): the op Sign is not supported/);
  });

  it('refuses unknown outputs, non-ONNX bytes and a wrong input shape with messages naming them', () => {
    const g = new Graph('host');
    const input = g.input('x', 'float32', [1, 3, 16, 16]);
    const model = readOnnxModel(tinyVggOnnx(16));
    expect(() => importOnnxGraph(g, model, { input, outputs: ['relu9_9'], prefix: 'a/' })).toThrow(/no value named "relu9_9"; its outputs are "relu1_1", "relu2_1", "mix"/);
    expect(() => readOnnxModel(new TextEncoder().encode('definitely not a model'))).toThrow(OnnxImportError);
    const wrong = g.input('y', 'float32', [1, 4, 16, 16]);
    expect(() => importOnnxGraph(g, model, { input: wrong, outputs: ['relu1_1'], prefix: 'b/' })).toThrow(/node "conv1_1" \(Conv\)/);
  });
});
