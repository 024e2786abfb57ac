// The consumer page's package reader (resources/consumer/fxpkg.js) on a real package, a tampered one, and
// onnxruntime-web against onnxruntime-node on the packaged model (when onnxruntime-web is installed).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPackage } from '../../../resources/consumer/fxpkg.js';
import { writePackage } from '../../../src/main/export/writer.ts';
import { buildTinyStudent, makeSource, tempDir } from './helpers.ts';

const tmp = tempDir();
let bytes: Buffer;
// A variable specifier: onnxruntime-web is optional (its API is onnxruntime-common's, like onnxruntime-node's).
const ORT_WEB = 'onnxruntime-web';
const ortWeb = (await import(ORT_WEB).catch(() => null)) as Pick<typeof ortNode, 'InferenceSession' | 'Tensor'> | null;

beforeAll(async () => {
  const out = join(tmp.dir, 'tiny.fxpkg');
  await writePackage(await makeSource(buildTinyStudent()), { out, fp16: true, studioVersion: '0.1.0' });
  bytes = readFileSync(out);
});
afterAll(() => tmp.cleanup());

const arrayBuffer = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

describe('consumer page package reader', () => {
  it('reads every entry of a real package and checks its checksums', async () => {
    const pkg = await readPackage(arrayBuffer(bytes));
    expect(pkg.manifest.name).toBe('Tiny test effect');
    expect([...pkg.entries.keys()].sort()).toContain('model.fp16.onnx');
  });

  it('refuses a package whose model does not match its sha256', async () => {
    const zip = new yazl.ZipFile();
    const pkg = await readPackage(arrayBuffer(bytes));
    for (const [name, data] of pkg.entries) {
      const copy = Buffer.from(data);
      if (name === 'model.onnx') copy.writeUInt8(copy.readUInt8(copy.length - 5) ^ 1, copy.length - 5);
      zip.addBuffer(copy, name);
    }
    zip.end();
    const chunks: Buffer[] = [];
    for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
    await expect(readPackage(arrayBuffer(Buffer.concat(chunks)))).rejects.toThrow(/sha256 mismatch for "model\.onnx"/);
  });

  it.skipIf(ortWeb === null)('gives the same output in onnxruntime-web and onnxruntime-node (max |Δ| ≤ 1e-4)', async () => {
    const { entries } = await readPackage(arrayBuffer(bytes));
    const model = entries.get('model.onnx')!;
    const input = new Float32Array(3 * 32 * 32).map((_, i) => Math.cos(i * 0.21));
    const node = await ortNode.InferenceSession.create(model);
    const web = await ortWeb!.InferenceSession.create(model, { executionProviders: ['wasm'] });
    const a = (await node.run({ image: new ortNode.Tensor('float32', input, [1, 3, 32, 32]) }))['stylized']!.data as Float32Array;
    const b = (await web.run({ image: new ortWeb!.Tensor('float32', input, [1, 3, 32, 32]) }))['stylized']!.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThanOrEqual(1e-4);
  });
});

if (ortWeb === null) console.warn('consumer.test: onnxruntime-web is not installed; the ORT-web vs ORT-node comparison is skipped');
