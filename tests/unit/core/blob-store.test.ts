// Blob store: content addressing, temp-then-rename writes, corruption detected on read, reference counts and sweep.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobCorruptError, BlobMissingError, BlobStore } from '../../../src/main/core/blob-store.ts';
import { openDatabase, type Database } from '../../../src/main/core/db/database.ts';
import { makeTempDir } from './temp-dir.ts';

// FIPS 180-2 test vector: SHA-256("abc").
const ABC_SHA256 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

let temp: ReturnType<typeof makeTempDir>;
let db: Database;
let root: string;
let store: BlobStore;

beforeEach(() => {
  temp = makeTempDir();
  db = openDatabase({ file: join(temp.dir, 'studio.db') });
  root = join(temp.dir, 'blobs');
  store = new BlobStore(db, root);
});
afterEach(() => {
  db.close();
  temp.cleanup();
});

const pathOf = (sha: string): string => join(root, sha.slice(0, 2), sha.slice(2));
const tempFiles = (): string[] => (existsSync(join(root, 'tmp')) ? readdirSync(join(root, 'tmp')) : []);
const rowCount = (): number => (db.prepare('SELECT count(*) AS n FROM blobs').get() as { n: number }).n;

function makeOld(path: string): void {
  const hourAgo = new Date(Date.now() - 3600_000);
  utimesSync(path, hourAgo, hourAgo);
}

describe('BlobStore', () => {
  it('names a blob by the SHA-256 of its bytes and stores it under blobs/ab/cdef…', async () => {
    const info = await store.put(Buffer.from('abc'), 'text');
    expect(info).toMatchObject({ sha256: ABC_SHA256, size: 3, kind: 'text', refcount: 1 });
    expect(readFileSync(pathOf(ABC_SHA256), 'utf8')).toBe('abc');
    expect((await store.read(ABC_SHA256)).toString()).toBe('abc');
    expect(tempFiles()).toEqual([]);
  });

  it('refuses to return a blob whose bytes changed on disk, naming its hash', async () => {
    const { sha256 } = await store.put(Buffer.from('the original bytes'), 'text');
    writeFileSync(pathOf(sha256), 'the original bytez');
    const error = await store.read(sha256).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlobCorruptError);
    expect((error as Error).message).toContain(sha256);

    const streamed: Buffer[] = [];
    const streamError = await (async () => {
      for await (const chunk of store.readStream(sha256)) streamed.push(chunk);
    })().catch((e: unknown) => e);
    expect(streamError).toBeInstanceOf(BlobCorruptError);

    // Putting the same content again repairs it.
    await store.put(Buffer.from('the original bytes'), 'text');
    expect((await store.read(sha256)).toString()).toBe('the original bytes');
  });

  it('reports a missing blob as missing and never reads outside the store', async () => {
    await expect(store.read(ABC_SHA256)).rejects.toBeInstanceOf(BlobMissingError);
    await expect(store.read('../../../etc/passwd')).rejects.toThrow(RangeError);
    expect(() => store.retain(ABC_SHA256)).toThrow(BlobMissingError);
  });

  it('writes a streamed blob to a temp file and renames it only when complete', async () => {
    let resume!: () => void;
    const paused = new Promise<void>((r) => (resume = r));
    let isFirstChunkWritten!: () => void;
    const firstChunkWritten = new Promise<void>((r) => (isFirstChunkWritten = r));
    const chunks = [Buffer.alloc(1000, 1), Buffer.alloc(1000, 2)];
    async function* source(): AsyncGenerator<Buffer> {
      yield chunks[0]!;
      isFirstChunkWritten();
      await paused;
      yield chunks[1]!;
    }
    const expected = createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
    const put = store.putStream(source(), 'bytes');
    await firstChunkWritten;
    expect(tempFiles()).toHaveLength(1);
    expect(existsSync(pathOf(expected))).toBe(false);
    expect(store.info(expected)).toBeNull();
    resume();
    expect((await put).sha256).toBe(expected);
    expect(tempFiles()).toEqual([]);
    expect(readFileSync(pathOf(expected))).toEqual(Buffer.concat(chunks));
  });

  it('leaves nothing behind when the source fails midway', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('partial');
      throw new Error('the disk went away');
    }
    await expect(store.putStream(failing(), 'bytes')).rejects.toThrow('the disk went away');
    expect(tempFiles()).toEqual([]);
    expect(rowCount()).toBe(0);
  });

  it('streams a large file in and out', async () => {
    const file = join(temp.dir, 'big.bin');
    const bytes = Buffer.alloc(6 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) & 0xff;
    writeFileSync(file, bytes);
    const info = await store.putFile(file, 'checkpoint');
    expect(info.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(info.size).toBe(bytes.length);
    let total = 0;
    for await (const chunk of store.readStream(info.sha256)) total += chunk.length;
    expect(total).toBe(bytes.length);
  });

  it('counts references: the same bytes stored twice are one file with two owners', async () => {
    const a = await store.put(Buffer.from('abc'), 'text');
    const b = await store.put(Buffer.from('abc'), 'text');
    expect(b.sha256).toBe(a.sha256);
    expect(store.info(ABC_SHA256)!.refcount).toBe(2);
    store.retain(ABC_SHA256);
    expect(store.info(ABC_SHA256)!.refcount).toBe(3);
    store.release(ABC_SHA256);
    store.release(ABC_SHA256);
    expect(await store.sweep()).toEqual({ blobs: 0, strayFiles: 0, freedBytes: 0 });
    store.release(ABC_SHA256);
    expect(() => store.release(ABC_SHA256)).toThrow(/no references left/);
  });

  it('sweeps unreferenced blobs, files without a row and abandoned temp files, but keeps referenced and recent ones', async () => {
    const kept = await store.put(Buffer.from('kept'), 'text');
    const dropped = await store.put(Buffer.alloc(100, 7), 'bytes');
    store.release(dropped.sha256);

    const orphanSha = createHash('sha256').update('orphan').digest('hex');
    mkdirSync(join(root, orphanSha.slice(0, 2)), { recursive: true });
    writeFileSync(pathOf(orphanSha), 'orphan');
    makeOld(pathOf(orphanSha));
    mkdirSync(join(root, 'tmp'), { recursive: true });
    writeFileSync(join(root, 'tmp', 'abandoned.tmp'), 'half a blob');
    makeOld(join(root, 'tmp', 'abandoned.tmp'));
    writeFileSync(join(root, 'tmp', 'in-flight-elsewhere.tmp'), 'recent');

    const report = await store.sweep();
    expect(report).toEqual({ blobs: 1, strayFiles: 2, freedBytes: 100 + 'orphan'.length + 'half a blob'.length });
    expect(existsSync(pathOf(dropped.sha256))).toBe(false);
    expect(store.info(dropped.sha256)).toBeNull();
    expect(existsSync(pathOf(orphanSha))).toBe(false);
    expect(tempFiles()).toEqual(['in-flight-elsewhere.tmp']);
    expect((await store.read(kept.sha256)).toString()).toBe('kept');
  });
});
