// Export → verify round trip on a small student: manifest, checksums, previews, fp16 variant against fp32.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph, fromHalfBits, toHalfBits } from '../../../src/main/engine/graph/index.ts';
import { convertToFp16 } from '../../../src/main/export/fp16.ts';
import { checkManifest, MODEL_FP16_FILE } from '../../../src/main/export/manifest.ts';
import { readPackageEntries } from '../../../src/main/export/reader.ts';
import { verifyPackage } from '../../../src/main/export/verify.ts';
import { ExportError } from '../../../src/main/export/errors.ts';
import { sha256Hex, writePackage, type WrittenPackage } from '../../../src/main/export/writer.ts';
import { buildTinyStudent, makeSource, tempDir } from './helpers.ts';

const { onnx } = onnxProto;
const tmp = tempDir();
const model = buildTinyStudent();
let written: WrittenPackage;
const progress: [number, number][] = [];

beforeAll(async () => {
  written = await writePackage(await makeSource(model), {
    out: join(tmp.dir, 'tiny.fxpkg'),
    fp16: true,
    studioVersion: '0.1.0',
    now: new Date('2026-01-02T03:04:05.000Z'),
    onProgress: (step, total) => progress.push([step, total]),
  });
});
afterAll(() => tmp.cleanup());

async function run(bytes: Uint8Array, input: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  const out = await session.run({ image: new ort.Tensor('float32', input, [1, 3, 32, 32]) });
  await session.release();
  return out['stylized']!.data as Float32Array;
}

describe('writePackage', () => {
  it('writes a package whose manifest passes the schema and lists every file with its sha256', async () => {
    const entries = await readPackageEntries(written.path);
    expect([...entries.keys()].sort()).toEqual([
      'manifest.json',
      'model.fp16.onnx',
      'model.onnx',
      'preview/00-after.png',
      'preview/00-before.png',
      'preview/01-after.png',
      'preview/01-before.png',
    ]);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8')) as unknown;
    expect(checkManifest(manifest)).toEqual({ ok: true, manifest: written.manifest });
    for (const f of written.manifest.files) expect(sha256Hex(entries.get(f.path)!), f.path).toBe(f.sha256);
    expect(written.manifest.io).toEqual({
      input: { name: 'image', dtype: 'float32', shape: [1, 3, 32, 32] },
      output: { name: 'stylized', dtype: 'float32', shape: [1, 3, 32, 32] },
      layout: 'NCHW',
      colorOrder: 'RGB',
      valueRange: [-1, 1],
    });
    expect(written.manifest.provenance.modelSha256).toBe(sha256Hex(model));
    expect(written.manifest.createdAt).toBe('2026-01-02T03:04:05.000Z');
    expect(entries.get('model.onnx')!.equals(Buffer.from(model))).toBe(true);
    expect(written.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(progress.at(-1)).toEqual([6, 6]);
    expect(readdirSync(tmp.dir)).toEqual(['tiny.fxpkg']);
  });

  it('produces a package that verify accepts, reproducing every preview with both variants', async () => {
    const report = await verifyPackage(written.path);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.sha256).toBe(written.sha256);
    expect(report.checks.map((c) => c.name)).toContain('model.fp16.onnx (fp16) previews');
  });

  it('refuses models that are not one fixed-size float32 image in and out', async () => {
    const g = new Graph('two-inputs');
    const a = g.input('a', 'float32', [1, 3, 8, 8]);
    const b = g.input('b', 'float32', [1, 3, 8, 8]);
    g.output('y', g.add(a, b));
    const source = await makeSource(g.toModelBytes({ params: 'initializers' }));
    const out = join(tmp.dir, 'bad.fxpkg');
    await expect(writePackage(source, { out, fp16: false, studioVersion: '0.1.0' })).rejects.toThrow(/one image.*2 input/);
    const inputs = new Graph('weights-as-inputs');
    const x = inputs.input('x', 'float32', [1, 3, 8, 8]);
    inputs.output('y', inputs.mul(x, inputs.param('w', [1], 'ones')));
    await expect(
      writePackage(await makeSource(inputs.toModelBytes({ params: 'inputs' })), { out, fp16: false, studioVersion: '0.1.0' }),
    ).rejects.toThrow(ExportError);
    await expect(
      writePackage({ ...(await makeSource(model)), previewImages: [] }, { out, fp16: false, studioVersion: '0.1.0' }),
    ).rejects.toThrow(/at least one preview/);
    await expect(writePackage(await makeSource(new Uint8Array([1, 2, 3])), { out, fp16: false, studioVersion: '0.1.0' })).rejects.toThrow(
      /not an ONNX model/,
    );
    expect(readdirSync(tmp.dir)).toEqual(['tiny.fxpkg']);
  });
});

describe('convertToFp16', () => {
  const half = convertToFp16(model);
  const decoded = onnx.ModelProto.decode(half);

  function initializers(bytes: Uint8Array): { name: string; dataType: number; raw: Uint8Array }[] {
    return (onnx.ModelProto.decode(bytes).graph?.initializer ?? []).map((t) => ({
      name: t.name ?? '',
      dataType: t.dataType ?? 0,
      raw: t.rawData ?? new Uint8Array(0),
    }));
  }

  it('stores every weight as float16 (the nearest half of the fp32 value) and keeps Resize scales float32', () => {
    const fp32 = initializers(model);
    const nodes = onnx.ModelProto.decode(half).graph?.node ?? [];
    for (const t of initializers(half)) {
      const original = fp32.find((o) => o.name === t.name)!;
      if (original.dataType !== onnx.TensorProto.DataType.FLOAT) {
        expect(t.dataType, t.name).toBe(original.dataType);
        continue;
      }
      const isScales = nodes.some((n) => n.opType === 'Resize' && n.input?.[2] === t.name);
      if (isScales) {
        expect(t.dataType, t.name).toBe(onnx.TensorProto.DataType.FLOAT);
        continue;
      }
      expect(t.dataType, t.name).toBe(onnx.TensorProto.DataType.FLOAT16);
      const f32 = new Float32Array(new Uint8Array(original.raw).buffer);
      const h = new Uint16Array(new Uint8Array(t.raw).buffer);
      expect(h.length).toBe(f32.length);
      // Independent of toHalfBits' rounding: the stored half must be within half an ulp of the fp32 value.
      for (let i = 0; i < f32.length; i++) {
        const v = f32[i]!;
        const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(v), 2 ** -14))) - 10);
        expect(Math.abs(fromHalfBits(h[i]!) - v), `${t.name}[${i}]`).toBeLessThanOrEqual(ulp / 2);
      }
    }
    expect(toHalfBits(1)).toBe(0x3c00);
  });

  it('keeps float32 I/O under the same names and matches the fp32 model closely', async () => {
    expect(decoded.graph?.input?.map((v) => [v.name, v.type?.tensorType?.elemType])).toEqual([['image', 1]]);
    expect(decoded.graph?.output?.map((v) => [v.name, v.type?.tensorType?.elemType])).toEqual([['stylized', 1]]);
    const input = new Float32Array(3 * 32 * 32).map((_, i) => Math.sin(i * 0.37));
    const [a, b] = [await run(model, input), await run(half, input)];
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    // Half weights carry ~3 significant digits; outputs lie in [-1, 1].
    expect(worst).toBeLessThan(1e-2);
    expect(worst).toBeGreaterThan(0);
    expect(written.manifest.variants.find((v) => v.file === MODEL_FP16_FILE)!.maxAbsDiffVsFp32).toBeLessThan(1e-2);
  });
});
