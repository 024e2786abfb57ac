// Every kind of untrustworthy package, built in the test, is refused with a clear message and nothing is written.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, readPackageEntries, writeEntries } from '../../../src/main/export/reader.ts';
import { verifyPackage } from '../../../src/main/export/verify.ts';
import { sha256Hex, writePackage } from '../../../src/main/export/writer.ts';
import { buildTinyStudent, makeSource, tempDir } from './helpers.ts';

type Entry = { name: string; data: Uint8Array; mode?: number; compress?: boolean };

const tmp = tempDir();
let good: Map<string, Buffer>;
let counter = 0;

beforeAll(async () => {
  const out = join(tmp.dir, 'good.fxpkg');
  await writePackage(await makeSource(buildTinyStudent()), { out, fp16: false, studioVersion: '0.1.0' });
  good = await readPackageEntries(out);
});
afterAll(() => tmp.cleanup());

/** Zips `entries` with yazl, then swaps same-length placeholder names for names yazl itself would refuse to write. */
async function zipFile(entries: readonly Entry[], rename: Record<string, string> = {}): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const e of entries) zip.addBuffer(Buffer.from(e.data), e.name, { mode: e.mode ?? 0o100644, compress: e.compress ?? true });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  let bytes = Buffer.concat(chunks);
  for (const [from, to] of Object.entries(rename)) {
    expect(Buffer.byteLength(from)).toBe(Buffer.byteLength(to));
    bytes = Buffer.from(bytes.toString('latin1').split(from).join(to), 'latin1');
  }
  const file = join(tmp.dir, `pkg-${counter++}.fxpkg`);
  writeFileSync(file, bytes);
  return file;
}

function goodEntries(): Entry[] {
  return [...good].map(([name, data]) => ({ name, data }));
}

function manifestOf(entries: Map<string, Buffer>): Record<string, unknown> & { files: { path: string; size: number; sha256: string }[] } {
  return JSON.parse(entries.get('manifest.json')!.toString('utf8')) as ReturnType<typeof manifestOf>;
}

function withManifest(entries: Entry[], edit: (m: ReturnType<typeof manifestOf>) => void): Entry[] {
  const m = manifestOf(good);
  edit(m);
  return entries.map((e) => (e.name === 'manifest.json' ? { name: e.name, data: Buffer.from(JSON.stringify(m)) } : e));
}

async function expectRejected(file: string, check: string, message: RegExp): Promise<void> {
  const report = await verifyPackage(file);
  expect(report.ok).toBe(false);
  const failed = report.checks.filter((c) => !c.ok);
  expect(failed).toHaveLength(1);
  expect(failed[0]!.name).toBe(check);
  expect(failed[0]!.detail).toMatch(message);
}

describe('reading an untrusted package', () => {
  it('accepts the untouched package', async () => {
    expect((await verifyPackage(await zipFile(goodEntries()))).ok).toBe(true);
  });

  it('refuses an entry that climbs out with ".."', async () => {
    const file = await zipFile([...goodEntries(), { name: 'xx/evil.txt', data: Buffer.from('x') }], { 'xx/evil.txt': '../evil.txt' });
    await expectRejected(file, 'archive', /entry "\.\.\/evil\.txt" climbs out of the package/);
  });

  it('refuses an absolute path', async () => {
    const file = await zipFile([...goodEntries(), { name: 'etc/passwd', data: Buffer.from('x') }], { 'etc/passwd': '/etc/passw' });
    await expectRejected(file, 'archive', /entry "\/etc\/passw" has an absolute path/);
  });

  it('refuses Windows-style escapes: backslashes and drive letters', async () => {
    const back = await zipFile([...goodEntries(), { name: 'xx/evil.txt', data: Buffer.from('x') }], { 'xx/evil.txt': '..\\evil.txt' });
    await expectRejected(back, 'archive', /entry "\.\.\\evil\.txt" climbs out of the package/);
    const drive = await zipFile([...goodEntries(), { name: 'xx/win.txt', data: Buffer.from('x') }], { 'xx/win.txt': 'C:/win.txt' });
    await expectRejected(drive, 'archive', /entry "C:\/win\.txt" has an absolute path/);
  });

  it('refuses an entry that is not a regular file', async () => {
    const file = await zipFile([...goodEntries(), { name: 'preview/02-before.png', data: new Uint8Array(0), mode: 0o040755 }]);
    await expectRejected(file, 'archive', /"preview\/02-before\.png" is not a regular file/);
  });

  it('refuses a symbolic link', async () => {
    const file = await zipFile([...goodEntries().filter((e) => e.name !== 'preview/01-after.png'), { name: 'preview/01-after.png', data: Buffer.from('/etc/passwd'), mode: 0o120777 }]);
    await expectRejected(file, 'archive', /"preview\/01-after\.png" is a symbolic link/);
  });

  it('refuses a name that appears twice', async () => {
    const file = await zipFile([...goodEntries(), { name: 'model.onnx', data: Buffer.from('second copy') }]);
    await expectRejected(file, 'archive', /entry "model\.onnx" appears more than once/);
  });

  it('refuses an entry holding more data than it declares, without inflating past the declared size', async () => {
    const entries = goodEntries();
    const file = await zipFile(entries);
    const bytes = readFileSync(file);
    // Shrink the uncompressed size of model.onnx in its central directory record.
    const name = Buffer.from('model.onnx');
    for (let at = bytes.indexOf(0x50); at >= 0; at = bytes.indexOf(0x50, at + 1)) {
      if (bytes.readUInt32LE(at) !== 0x02014b50) continue;
      const nameLength = bytes.readUInt16LE(at + 28);
      if (bytes.subarray(at + 46, at + 46 + nameLength).equals(name)) bytes.writeUInt32LE(1000, at + 24);
    }
    writeFileSync(file, bytes);
    await expectRejected(file, 'archive', /entry "model\.onnx" holds more data than the 1000 bytes it declares/);
  });

  it('refuses an entry holding less data than it declares', async () => {
    const file = await zipFile(goodEntries());
    const bytes = readFileSync(file);
    const name = Buffer.from('manifest.json');
    for (let at = bytes.indexOf(0x50); at >= 0; at = bytes.indexOf(0x50, at + 1)) {
      if (bytes.readUInt32LE(at) !== 0x02014b50) continue;
      const nameLength = bytes.readUInt16LE(at + 28);
      // Raise the declared uncompressed size: the deflated data inflates to fewer bytes than that.
      if (bytes.subarray(at + 46, at + 46 + nameLength).equals(name)) bytes.writeUInt32LE(bytes.readUInt32LE(at + 24) + 7, at + 24);
    }
    writeFileSync(file, bytes);
    const declared = good.get('manifest.json')!.length + 7;
    await expectRejected(file, 'archive', new RegExp(`entry "manifest\\.json" holds ${declared - 7} bytes, not the ${declared} it declares`));
  });

  it('refuses a zip bomb by its compression ratio before inflating it', async () => {
    const file = await zipFile([...goodEntries(), { name: 'preview/09-before.png', data: new Uint8Array(20 * 1024 * 1024) }]);
    await expectRejected(file, 'archive', /"preview\/09-before\.png" would expand \d+ bytes to 20971520 \(more than 100:1\): a zip bomb/);
  });

  it('refuses packages over the total size and entry count limits', async () => {
    const file = await zipFile(goodEntries());
    await expect(readPackageEntries(file, { ...DEFAULT_LIMITS, maxTotalBytes: 5000 })).rejects.toThrow(/entries add up to more than the 5000-byte limit/);
    await expect(readPackageEntries(file, { ...DEFAULT_LIMITS, maxEntries: 3 })).rejects.toThrow(/has 6 entries, over the limit of 3/);
    await expect(readPackageEntries(file, { ...DEFAULT_LIMITS, maxFileBytes: 100 })).rejects.toThrow(/over the 100-byte limit/);
    await expect(readPackageEntries(file, { ...DEFAULT_LIMITS, maxEntryBytes: 1000 })).rejects.toThrow(/declares \d+ bytes, over the 1000-byte limit/);
  });

  it('refuses a file that is not a zip', async () => {
    const file = join(tmp.dir, 'not-a-zip.fxpkg');
    writeFileSync(file, 'hello');
    await expectRejected(file, 'archive', /not a readable zip archive/);
  });

  it('refuses a missing file and an extra file', async () => {
    await expectRejected(await zipFile(goodEntries().filter((e) => e.name !== 'preview/00-after.png')), 'files', /missing file "preview\/00-after\.png"/);
    const extraListed = await zipFile([...goodEntries(), { name: 'preview/05-before.png', data: good.get('preview/00-before.png')! }]);
    await expectRejected(extraListed, 'files', /extra file "preview\/05-before\.png" is not in the manifest/);
    const unknown = await zipFile([...goodEntries(), { name: 'notes.txt', data: Buffer.from('hi') }]);
    await expectRejected(unknown, 'archive', /entry "notes\.txt" is not a file a package may contain/);
  });

  it('refuses a checksum mismatch', async () => {
    const model = Buffer.from(good.get('model.onnx')!);
    model.writeUInt8(model.readUInt8(model.length - 10) ^ 0xff, model.length - 10);
    const file = await zipFile(goodEntries().map((e) => (e.name === 'model.onnx' ? { name: e.name, data: model } : e)));
    await expectRejected(file, 'checksums', /sha256 or size mismatch: model\.onnx/);
  });

  it('refuses a manifest that fails the schema or is not JSON', async () => {
    await expectRejected(await zipFile(withManifest(goodEntries(), (m) => (m['formatVersion'] = 2))), 'manifest', /fails its schema: manifest\.formatVersion must be equal to constant/);
    await expectRejected(await zipFile(withManifest(goodEntries(), (m) => delete m['io'])), 'manifest', /must have required property 'io'/);
    const loosened = withManifest(goodEntries(), (m) => ((m['variants'] as { tolerance: number }[])[0]!.tolerance = 255));
    await expectRejected(await zipFile(loosened), 'manifest', /fp32 variant declares a tolerance of 255 levels, more than the 1 verify accepts/);
    const notJson = goodEntries().map((e) => (e.name === 'manifest.json' ? { name: e.name, data: Buffer.from('{"formatVersion": 1,') } : e));
    await expectRejected(await zipFile(notJson), 'manifest', /not valid JSON/);
  });

  it('refuses a model whose I/O differs from the manifest, or that does not reproduce the previews', async () => {
    const renamed = withManifest(goodEntries(), (m) => ((m['io'] as { input: { name: string } }).input.name = 'pixels'));
    await expectRejected(await zipFile(renamed), 'model.onnx (fp32) I/O', /input is named "image", the manifest says "pixels"/);
    const other = buildTinyStudent(32, 99);
    const swapped = withManifest(
      goodEntries().map((e) => (e.name === 'model.onnx' ? { name: e.name, data: other } : e)),
      (m) => (m.files = m.files.map((f) => (f.path === 'model.onnx' ? { path: f.path, size: other.length, sha256: sha256Hex(other) } : f))),
    );
    await expectRejected(await zipFile(swapped), 'model.onnx (fp32) previews', /differs from the packaged after images by up to \d+ levels, over its tolerance of 1/);
  });

  it('writes nothing for a refused package and keeps written entries inside the target folder', async () => {
    const target = join(tmp.dir, 'out', 'pkg');
    const before = readdirSync(tmp.dir).sort();
    const file = await zipFile([...goodEntries(), { name: 'xx/evil.txt', data: Buffer.from('x') }], { 'xx/evil.txt': '../evil.txt' });
    await expect(readPackageEntries(file).then((e) => writeEntries(e, target))).rejects.toThrow(/climbs out/);
    expect(readdirSync(tmp.dir).sort()).toEqual([...before, file.split('/').at(-1)!].sort());
    await expect(writeEntries(new Map([['../escape.txt', new Uint8Array(1)]]), target)).rejects.toThrow(/outside/);
    expect(readdirSync(tmp.dir)).not.toContain('escape.txt');
    expect(readdirSync(tmp.dir)).not.toContain('out');
    await writeEntries(good, target);
    expect(readdirSync(target).sort()).toEqual(['manifest.json', 'model.onnx', 'preview']);
    expect(readdirSync(join(target, 'preview')).sort()).toEqual(['00-after.png', '00-before.png', '01-after.png', '01-before.png']);
  });
});
