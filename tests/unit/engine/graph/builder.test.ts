// Graph builder: shape inference and its errors, emitted ModelProto structure, ORT loading, initialisers, names.
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { fromHalfBits, Graph, GraphBuildError, initialValues, toHalfBits } from '../../../../src/main/engine/graph/index.ts';
import { gradients } from '../../../../src/main/engine/autodiff/index.ts';
import { relInf } from '../support/gradcheck.ts';
import { runFloat, sessionFor } from '../support/ort.ts';

const { onnx } = onnxProto;

describe('shape inference errors name the op, the node and both shapes', () => {
  const g = new Graph('errors');
  const x = g.input('x', 'float32', [1, 32, 16, 16]);

  it('conv with a weight that does not match the input channels and group', () => {
    const w = g.param('enc2.dw.weight', [64, 16, 3, 3], 'he');
    expect(() => g.conv(x, w, null, { group: 2, name: 'enc2.dw' })).not.toThrow();
    const w2 = g.param('enc3.weight', [64, 16, 3, 3], 'he');
    expect(() => g.conv(x, w2, null, { group: 1, name: 'enc3' })).toThrow(
      new GraphBuildError('conv "enc3": input channels 32 do not match weight [64,16,3,3] with group 1'),
    );
  });

  it('conv bias and kernel larger than the padded input', () => {
    const w = g.param('c.weight', [8, 32, 3, 3], 'he');
    const b = g.param('c.bias', [9], 'zeros');
    expect(() => g.conv(x, w, b, { name: 'c_bias' })).toThrow('conv "c_bias": bias [9] does not match 8 output channels of weight [8,32,3,3]');
    const big = g.param('big.weight', [8, 32, 17, 3], 'he');
    expect(() => g.conv(x, big, null, { name: 'big' })).toThrow(/conv "big": padded input size 16 on spatial axis 0 is smaller than the kernel extent 17/);
  });

  it('elementwise broadcasting', () => {
    const a = g.input('a', 'float32', [2, 3, 4]);
    const b = g.input('b', 'float32', [5, 4]);
    expect(() => g.add(a, b, 'res.add')).toThrow('add "res.add": shapes [2,3,4] and [5,4] do not broadcast (axis -2: 3 vs 5)');
  });

  it('matmul, gemm, concat, reshape, split, dtype mixing', () => {
    const a = g.input('m1', 'float32', [2, 3]);
    const b = g.input('m2', 'float32', [4, 5]);
    expect(() => g.matmul(a, b, 'proj')).toThrow('matmul "proj": inner dimensions of [2,3] and [4,5] differ (3 vs 4)');
    expect(() => g.gemm(a, b, null, { transB: true, name: 'fc' })).toThrow('gemm "fc": inner dimensions of [2,3] and [4,5]ᵀ differ (3 vs 5)');
    expect(() => g.concat([a, b], 0, 'cat')).toThrow('concat "cat": float32[2,3] and float32[4,5] differ outside axis 0');
    expect(() => g.reshape(a, [4, 2], 'flat')).toThrow('reshape "flat": cannot reshape [2,3] (6 elements) to [4,2]');
    expect(() => g.split(b, [1, 2], 0, 'halves')).toThrow('split "halves": sizes [1,2] do not add up to axis 0 of [4,5]');
    const i = g.input('idx', 'int64', [2, 3]);
    expect(() => g.add(a, i, 'mixed')).toThrow('add "mixed": dtypes of "m1" float32[2,3] and "idx" int64[2,3] differ');
  });

  it('gather indices outside the axis or not matching their shape', () => {
    const rows = g.input('rows', 'float32', [2, 3, 4, 5]);
    expect(g.gather(rows, [0, 1, 2, 1, 2, 3], [2, 3], 2).shape).toEqual([2, 3, 2, 3, 5]);
    expect(() => g.gather(rows, [0, 4], [2], 2, 'win')).toThrow('gather "win": index 4 is outside axis 2 of [2,3,4,5]');
    expect(() => g.gather(rows, [0, 1, 2], [2], 2, 'win2')).toThrow('gather "win2": 3 indices given for shape [2]');
  });

  it('names must be unique and tensors must belong to the graph', () => {
    expect(() => g.input('x', 'float32', [1])).toThrow('input "x": the name is already used in graph "errors"');
    const other = new Graph('other');
    const y = other.input('y', 'float32', [1, 32, 16, 16]);
    expect(() => g.add(x, y, 'cross')).toThrow(/add "cross": operand .* does not belong to graph "errors"/);
  });
});

describe('emitted models', () => {
  function tinyNet(): { g: Graph; grads: ReturnType<typeof gradients> } {
    const g = new Graph('tiny', { seed: 5 });
    const x = g.input('x', 'float32', [2, 3, 9, 8]);
    const target = g.input('target', 'float32', [2, 4, 9, 8]);
    const w = g.param('conv.weight', [4, 3, 3, 3], 'he');
    const b = g.param('conv.bias', [4], 'zeros');
    const y = g.leakyRelu(g.conv(x, w, b, { pads: 1, name: 'conv' }), 1, 'act');
    const pooled = g.reduceMean(y, { axes: [2, 3], name: 'gap' });
    const summed = g.reduceSum(y, { axes: [1], keepdims: false, name: 'csum' });
    const d = g.sub(y, target);
    const loss = g.reduceMean(g.mul(d, d), { keepdims: false });
    const grads = gradients(g, loss, [w, b]);
    g.output('y', y);
    g.output('pooled', pooled);
    g.output('summed', summed);
    g.output('loss', loss);
    grads.forEach((t, i) => g.output(`grad${i}`, t));
    return { g, grads };
  }

  it('load in onnxruntime-node with the shapes and types the builder inferred', async () => {
    const { g } = tinyNet();
    const s = await sessionFor(g);
    expect(s.inputNames).toEqual(['x', 'target', 'conv.weight', 'conv.bias']);
    for (const meta of s.outputMetadata) {
      const declared = g.outputs.find((o) => o.name === meta.name)!.tensor;
      expect(meta.isTensor && meta.type).toBe('float32');
      expect(meta.isTensor && [...meta.shape]).toEqual([...declared.shape]);
    }
    const res = await runFloat(s, g, new Map([['x', new Float32Array(2 * 3 * 72).fill(0.5)], ['target', new Float32Array(2 * 4 * 72)]]));
    for (const o of g.outputs) expect([...res.get(o.name)!.dims]).toEqual([...o.tensor.shape]);
    await s.release();
  });

  it('write opset 17, FLOAT attributes for integer-valued floats, and ReduceSum axes as an input', () => {
    const { g } = tinyNet();
    const model = onnx.ModelProto.decode(g.toModelBytes({ params: 'inputs' }));
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    const nodes = model.graph!.node!;
    const act = nodes.find((n) => n.name === 'act')!;
    expect(act.attribute![0]!.name).toBe('alpha');
    expect(act.attribute![0]!.type).toBe(onnx.AttributeProto.AttributeType.FLOAT);
    expect(act.attribute![0]!.f).toBe(1);
    const csum = nodes.find((n) => n.name === 'csum')!;
    expect(csum.input).toHaveLength(2);
    expect(csum.attribute!.map((a) => a.name)).toEqual(['keepdims']);
    const gap = nodes.find((n) => n.name === 'gap')!;
    expect(gap.input).toHaveLength(1);
    expect(gap.attribute!.find((a) => a.name === 'axes')!.ints!.map(Number)).toEqual([2, 3]);
    expect(nodes.every((n) => n.opType !== 'Sign')).toBe(true);
  });

  it('bake parameters as initializers for export and prune everything the chosen outputs do not need', async () => {
    const { g } = tinyNet();
    const trained = new Map([['conv.bias', Float32Array.from([1, 2, 3, 4])]]);
    const bytes = g.toModelBytes({ params: 'initializers', values: trained, outputs: ['y'] });
    const model = onnx.ModelProto.decode(bytes);
    expect(model.graph!.input!.map((i) => i.name)).toEqual(['x']);
    expect(model.graph!.output!.map((o) => o.name)).toEqual(['y']);
    expect(model.graph!.node!.some((n) => n.name!.startsWith('grad/'))).toBe(false);
    const exported = await ort.InferenceSession.create(bytes);
    const training = await sessionFor(g);
    const x = Float32Array.from({ length: 2 * 3 * 72 }, (_, i) => Math.sin(i));
    const a = await exported.run({ x: new ort.Tensor('float32', x, [2, 3, 9, 8]) });
    const b = await runFloat(training, g, new Map([['x', x], ['target', new Float32Array(2 * 4 * 72)], ['conv.bias', trained.get('conv.bias')!]]));
    // Baked weights let ORT pre-pack them, which may reorder float sums: equal up to rounding.
    expect(relInf(a.y!.data as Float32Array, b.get('y')!.data)).toBeLessThan(1e-6);
    await exported.release();
    await training.release();
  });

  it('gather stacks overlapping row windows (negative indices count from the end)', async () => {
    const g = new Graph('windows');
    const x = g.input('x', 'float32', [1, 4, 2]);
    g.output('w', g.gather(x, [0, 1, 1, -1], [2, 2], 1));
    const s = await sessionFor(g);
    const r = await runFloat(s, g, new Map([['x', Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8])]]));
    expect([...r.get('w')!.dims]).toEqual([1, 2, 2, 2]);
    expect(Array.from(r.get('w')!.data)).toEqual([1, 2, 3, 4, 3, 4, 7, 8]);
    await s.release();
  });

  it('int64 constants keep INT64_MIN exactly (kernel flip)', async () => {
    const g = new Graph('flip');
    const w = g.input('w', 'float32', [1, 1, 2, 3]);
    g.output('f', g.slice(w, { starts: [-1, -1], ends: [-9223372036854775808, -9223372036854775808], axes: [2, 3], steps: [-1, -1] }));
    const s = await sessionFor(g);
    const r = await runFloat(s, g, new Map([['w', Float32Array.from([1, 2, 3, 4, 5, 6])]]));
    expect(Array.from(r.get('f')!.data)).toEqual([6, 5, 4, 3, 2, 1]);
    await s.release();
  });
});

describe('parameters', () => {
  it('are deterministic by seed and name, and independent of declaration order', () => {
    const a = new Graph('a', { seed: 9 });
    const b = new Graph('b', { seed: 9 });
    const c = new Graph('c', { seed: 10 });
    a.param('p1', [4, 4], 'he');
    const pa = a.param('p2', [16, 8, 3, 3], 'he');
    const pb = b.param('p2', [16, 8, 3, 3], 'he');
    const pc = c.param('p2', [16, 8, 3, 3], 'he');
    expect(a.paramOf(pa)!.init).toEqual(b.paramOf(pb)!.init);
    expect(a.paramOf(pa)!.init).not.toEqual(c.paramOf(pc)!.init);
  });

  it('follow the requested distributions', () => {
    const std = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    const he = initialValues('he', [64, 32, 3, 3], 1, 'he');
    expect(std(he)).toBeCloseTo(Math.sqrt(2 / (32 * 9)), 2);
    const xu = initialValues({ kind: 'xavier', mode: 'uniform' }, [200, 100], 1, 'xu');
    const bound = Math.sqrt(6 / 300);
    expect(Math.max(...xu.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(std(xu)).toBeCloseTo(bound / Math.sqrt(3), 2);
    expect(initialValues({ kind: 'constant', value: 0.25 }, [3], 1, 'k')).toEqual(Float32Array.from([0.25, 0.25, 0.25]));
    expect(initialValues('ones', [2], 1, 'o')).toEqual(Float32Array.from([1, 1]));
    expect(() => initialValues({ kind: 'values', data: [1, 2] }, [3], 1, 'v')).toThrow('param "v": 2 initial values given for shape [3]');
  });
});

describe('float16 constants', () => {
  it('round to nearest even like IEEE half precision', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(1e6)).toBe(0x7c00);
    expect(toHalfBits(2 ** -24)).toBe(0x0001);
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(fromHalfBits(toHalfBits(0.1))).toBeCloseTo(0.0999755859375, 12);
  });
});
