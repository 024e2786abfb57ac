// Reads a .fxpkg in the browser: zip central directory, inflate (DecompressionStream), sha256 of every file vs the manifest.

const MAX_ENTRIES = 40;
const MAX_TOTAL = 1024 * 1024 * 1024;
const ALLOWED = /^(manifest\.json|model\.onnx|model\.fp16\.onnx|preview\/[0-9]{2}-(before|after)\.png)$/;

/** Returns Map<name, Uint8Array> of a package's entries, refusing unsafe or inconsistent archives. */
export async function readPackage(buffer) {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = view.getUint16(eocd + 10, true);
  if (count > MAX_ENTRIES) throw new Error(`${count} entries, over the limit of ${MAX_ENTRIES}`);
  let at = view.getUint32(eocd + 16, true);
  const entries = new Map();
  let total = 0;
  for (let n = 0; n < count; n++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error('damaged central directory');
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const mode = view.getUint32(at + 38, true) >>> 16;
    const local = view.getUint32(at + 42, true);
    const name = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
    if (name === 'preview/') continue;
    if (!ALLOWED.test(name)) throw new Error(`entry "${name}" is not a file a package may contain`);
    if ((mode & 0o170000) === 0o120000) throw new Error(`entry "${name}" is a symbolic link`);
    if (entries.has(name)) throw new Error(`entry "${name}" appears more than once`);
    total += size;
    if (total > MAX_TOTAL) throw new Error('the entries are too large');
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = bytes.subarray(dataStart, dataStart + compressed);
    const data = method === 0 ? raw.slice() : method === 8 ? await inflate(raw, size, name) : null;
    if (!data) throw new Error(`entry "${name}" uses compression method ${method}`);
    if (data.length !== size) throw new Error(`entry "${name}" holds ${data.length} bytes, not the ${size} it declares`);
    entries.set(name, data);
  }
  const manifestBytes = entries.get('manifest.json');
  if (!manifestBytes) throw new Error('manifest.json is missing');
  const manifest = JSON.parse(new TextDecoder().decode(manifestBytes));
  if (manifest.formatVersion !== 1) throw new Error(`manifest format ${manifest.formatVersion} is not one this page reads`);
  for (const file of manifest.files) {
    const data = entries.get(file.path);
    if (!data) throw new Error(`missing file "${file.path}"`);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
    if (hex !== file.sha256) throw new Error(`sha256 mismatch for "${file.path}"`);
  }
  for (const name of entries.keys()) {
    if (name !== 'manifest.json' && !manifest.files.some((f) => f.path === name)) throw new Error(`extra file "${name}"`);
  }
  return { manifest, entries };
}

async function inflate(raw, size, name) {
  const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  const reader = stream.getReader();
  const out = new Uint8Array(size);
  let offset = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (offset + value.length > size) {
      await reader.cancel();
      throw new Error(`entry "${name}" holds more data than the ${size} bytes it declares`);
    }
    out.set(value, offset);
    offset += value.length;
  }
  return out.subarray(0, offset);
}
