// Content-addressed store for big binaries: files named by sha256 under blobs/ab/cdef…, written temp-then-rename, verified on read, reference-counted in SQLite.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';

/** Metadata of one stored blob. */
export interface BlobInfo {
  sha256: string;
  size: number;
  /** What the bytes are (`image`, `checkpoint`, `onnx`, …); informational. */
  kind: string;
  /** Owners holding a reference; the blob is deleted by {@link BlobStore.sweep} once this is 0. */
  refcount: number;
  createdAt: string;
}

/** What {@link BlobStore.sweep} removed. */
export interface SweepReport {
  /** Unreferenced blobs deleted (row and file). */
  blobs: number;
  /** Files with no row (a crash between rename and insert) and abandoned temp files deleted. */
  strayFiles: number;
  freedBytes: number;
}

/** A blob's bytes no longer hash to its name: the file was damaged on disk. */
export class BlobCorruptError extends Error {
  override readonly name = 'BlobCorruptError';
  constructor(
    readonly sha256: string,
    readonly actualSha256: string,
  ) {
    super(`Blob ${sha256} is corrupt: its bytes now hash to ${actualSha256}. Re-import or regenerate it.`);
  }
}

/** No blob with this hash is stored. */
export class BlobMissingError extends Error {
  override readonly name = 'BlobMissingError';
  constructor(readonly sha256: string) {
    super(`Blob ${sha256} is not in the blob store.`);
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const TEMP_DIR = 'tmp';
/** Stray files younger than this may belong to a put in flight in another process, so sweep leaves them. */
const DEFAULT_SWEEP_GRACE_MS = 15 * 60_000;

interface BlobRow {
  sha256: string;
  size: number;
  kind: string;
  refcount: number;
  created_at: number;
}

/**
 * Blob store rooted at `root` (normally `<dataDir>/blobs`). `put*` returns with a reference held by the caller:
 * release it when the owner goes away. A blob is only ever read back verified against its hash.
 */
export class BlobStore {
  readonly #root: string;
  readonly #db: Database;
  readonly #inFlightTemps = new Set<string>();
  // Commits and sweeps of this store run one at a time, so a sweep never deletes a file a put just reused.
  #lock: Promise<unknown> = Promise.resolve();
  readonly #sql: {
    upsert: Statement<[string, number, string, number]>;
    get: Statement<[string], BlobRow>;
    retain: Statement<[string]>;
    release: Statement<[string]>;
    unreferenced: Statement<[], BlobRow>;
    deleteUnreferenced: Statement<[string]>;
    exists: Statement<[string], { one: number }>;
  };

  constructor(db: Database, root: string) {
    this.#db = db;
    this.#root = root;
    this.#sql = {
      upsert: db.prepare(
        `INSERT INTO blobs (sha256, size, kind, refcount, created_at) VALUES (?, ?, ?, 1, ?)
         ON CONFLICT (sha256) DO UPDATE SET refcount = refcount + 1`,
      ),
      get: db.prepare('SELECT sha256, size, kind, refcount, created_at FROM blobs WHERE sha256 = ?'),
      retain: db.prepare('UPDATE blobs SET refcount = refcount + 1 WHERE sha256 = ?'),
      release: db.prepare('UPDATE blobs SET refcount = refcount - 1 WHERE sha256 = ? AND refcount > 0'),
      unreferenced: db.prepare('SELECT sha256, size, kind, refcount, created_at FROM blobs WHERE refcount = 0'),
      deleteUnreferenced: db.prepare('DELETE FROM blobs WHERE sha256 = ? AND refcount = 0'),
      exists: db.prepare('SELECT 1 AS one FROM blobs WHERE sha256 = ?'),
    };
  }

  /** Stores bytes; returns the blob with one more reference. */
  put(data: Uint8Array, kind: string): Promise<BlobInfo> {
    return this.putStream([data], kind);
  }

  /** Stores a file by streaming it (never whole in memory); returns the blob with one more reference. */
  putFile(path: string, kind: string): Promise<BlobInfo> {
    return this.putStream(createReadStream(path), kind);
  }

  /** Stores a stream of chunks; nothing becomes visible until every byte is on disk and fsynced. */
  async putStream(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, kind: string): Promise<BlobInfo> {
    const tempDir = join(this.#root, TEMP_DIR);
    await mkdir(tempDir, { recursive: true });
    const tempPath = join(tempDir, `${randomUUID()}.tmp`);
    this.#inFlightTemps.add(tempPath);
    try {
      const hash = createHash('sha256');
      let size = 0;
      const file = await open(tempPath, 'wx');
      try {
        for await (const chunk of source) {
          hash.update(chunk);
          size += chunk.byteLength;
          await file.write(chunk);
        }
        await file.sync();
      } finally {
        await file.close();
      }
      const sha256 = hash.digest('hex');
      return await this.#exclusive(async () => {
        const shardDir = join(this.#root, sha256.slice(0, 2));
        await mkdir(shardDir, { recursive: true });
        // Replacing an existing copy (same name, so the same bytes unless damaged) is how a corrupt blob heals.
        await rename(tempPath, this.#pathOf(sha256));
        await fsyncDir(shardDir);
        this.#sql.upsert.run(sha256, size, kind, Date.now());
        return toInfo(this.#sql.get.get(sha256)!);
      });
    } catch (error) {
      await unlink(tempPath).catch(() => undefined);
      throw error;
    } finally {
      this.#inFlightTemps.delete(tempPath);
    }
  }

  /** The blob's bytes, verified; throws {@link BlobMissingError} or {@link BlobCorruptError}. */
  async read(sha256: string): Promise<Buffer> {
    checkSha(sha256);
    let bytes: Buffer;
    try {
      bytes = await readFile(this.#pathOf(sha256));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw new BlobMissingError(sha256);
      throw error;
    }
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) throw new BlobCorruptError(sha256, actual);
    return bytes;
  }

  /**
   * Streams the blob's bytes; the hash is checked when the stream ends and a mismatch throws
   * {@link BlobCorruptError} there, so consumers must not commit what they read before the loop finishes.
   */
  async *readStream(sha256: string): AsyncGenerator<Buffer> {
    checkSha(sha256);
    const hash = createHash('sha256');
    try {
      for await (const chunk of createReadStream(this.#pathOf(sha256))) {
        hash.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw new BlobMissingError(sha256);
      throw error;
    }
    const actual = hash.digest('hex');
    if (actual !== sha256) throw new BlobCorruptError(sha256, actual);
  }

  /** Metadata of a blob, or null when none is stored under this hash. */
  info(sha256: string): BlobInfo | null {
    checkSha(sha256);
    const row = this.#sql.get.get(sha256);
    return row ? toInfo(row) : null;
  }

  /** Adds a reference to a stored blob (a second owner). */
  retain(sha256: string): void {
    checkSha(sha256);
    if (this.#sql.retain.run(sha256).changes === 0) throw new BlobMissingError(sha256);
  }

  /** Drops one reference; at 0 the blob is deleted by the next {@link sweep}. */
  release(sha256: string): void {
    checkSha(sha256);
    if (this.#sql.release.run(sha256).changes === 0) {
      if (this.#sql.exists.get(sha256)) throw new Error(`Blob ${sha256} has no references left to release.`);
      throw new BlobMissingError(sha256);
    }
  }

  /**
   * Deletes unreferenced blobs, files that have no row and abandoned temp files. Stray files younger than
   * `graceMs` are kept: another process may be between writing and recording them.
   */
  sweep(opts: { graceMs?: number } = {}): Promise<SweepReport> {
    const graceMs = opts.graceMs ?? DEFAULT_SWEEP_GRACE_MS;
    return this.#exclusive(async () => {
      const report: SweepReport = { blobs: 0, strayFiles: 0, freedBytes: 0 };
      const doomed = this.#db.transaction(() =>
        this.#sql.unreferenced.all().filter((row) => this.#sql.deleteUnreferenced.run(row.sha256).changes === 1),
      ).immediate();
      for (const row of doomed) {
        report.blobs += 1;
        if (await removeFile(this.#pathOf(row.sha256))) report.freedBytes += row.size;
      }
      const cutoff = Date.now() - graceMs;
      for (const dir of await listDir(this.#root)) {
        const isTempDir = dir === TEMP_DIR;
        if (!isTempDir && !/^[0-9a-f]{2}$/.test(dir)) continue;
        for (const name of await listDir(join(this.#root, dir))) {
          const path = join(this.#root, dir, name);
          if (isTempDir ? this.#inFlightTemps.has(path) : this.#sql.exists.get(dir + name)) continue;
          const st = await stat(path).catch(() => null);
          if (!st?.isFile() || st.mtimeMs > cutoff) continue;
          if (await removeFile(path)) {
            report.strayFiles += 1;
            report.freedBytes += st.size;
          }
        }
      }
      return report;
    });
  }

  #pathOf(sha256: string): string {
    return join(this.#root, sha256.slice(0, 2), sha256.slice(2));
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }
}

function toInfo(row: BlobRow): BlobInfo {
  return { sha256: row.sha256, size: row.size, kind: row.kind, refcount: row.refcount, createdAt: new Date(row.created_at).toISOString() };
}

function checkSha(sha256: string): void {
  // Also keeps caller-supplied names from reaching the file system as paths.
  if (!SHA256_HEX.test(sha256)) throw new RangeError(`Not a sha256 hex digest: ${JSON.stringify(sha256.slice(0, 80))}`);
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

async function removeFile(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
}

// Makes the rename itself durable; directories cannot be opened for fsync on Windows, where NTFS journals renames.
async function fsyncDir(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
