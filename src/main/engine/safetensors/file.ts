// Reading and atomically writing .safetensors files on disk.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  MAX_HEADER_BYTES,
  parseSafetensorsHeader,
  Safetensors,
  SafetensorsError,
  serializeSafetensors,
  type TensorToWrite,
} from './format.ts';

/** Reads at most 1 GiB per call: some platforms cap a single read below 2 GiB. */
const READ_CHUNK = 1 << 30;

/**
 * Reads and validates a .safetensors file. The header is checked against the file's size before the data is
 * read, so a truncated or mislabelled file fails fast with a message naming the file (and tensor).
 */
export async function readSafetensorsFile(path: string): Promise<Safetensors> {
  const source = path;
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const head = new Uint8Array(Math.min(size, 8));
    await readFully(handle, head, 0);
    const headerLength = size >= 8 ? new DataView(head.buffer).getBigUint64(0, true) : 0n;
    // Reading the whole header is only safe once its length is known to fit the file; the parser reports the rest.
    const prefix =
      size >= 8 && headerLength <= BigInt(Math.min(size - 8, MAX_HEADER_BYTES))
        ? new Uint8Array(8 + Number(headerLength))
        : head;
    if (prefix !== head) await readFully(handle, prefix, 0);
    const { entries, metadata, dataStart } = parseSafetensorsHeader(prefix, size, source);
    const data = new Uint8Array(size - dataStart);
    await readFully(handle, data, dataStart);
    return new Safetensors(entries, metadata, data, source);
  } finally {
    await handle.close();
  }
}

async function readFully(
  handle: Awaited<ReturnType<typeof open>>,
  into: Uint8Array,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await handle.read(into, done, Math.min(READ_CHUNK, into.length - done), position + done);
    if (bytesRead === 0) throw new SafetensorsError(`file ended after ${position + done} bytes while reading`);
    done += bytesRead;
  }
}

/**
 * Writes tensors as a .safetensors file: to a temporary file in the same folder, flushed, then renamed over
 * `path`, so a crash never leaves a half-written file under the final name.
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: Readonly<Record<string, TensorToWrite>> | ReadonlyMap<string, TensorToWrite>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const bytes = serializeSafetensors(tensors, metadata);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx');
  try {
    try {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, done, Math.min(READ_CHUNK, bytes.length - done), done);
        done += bytesWritten;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
