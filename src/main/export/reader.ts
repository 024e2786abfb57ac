// Reads a .fxpkg (or another studio zip, such as a pairs shard) without trusting it: entry names, types, sizes and compression ratio are checked while streaming.
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import yauzl from 'yauzl';

/** Limits a package must stay within; the defaults fit any student the studio trains. */
export interface ReadLimits {
  /** Size of the .fxpkg file itself. */
  maxFileBytes: number;
  /** Sum of the entries' uncompressed sizes. */
  maxTotalBytes: number;
  /** Uncompressed size of one entry. */
  maxEntryBytes: number;
  maxEntries: number;
  /** Uncompressed ÷ compressed size of an entry larger than {@link RATIO_FLOOR_BYTES}. */
  maxRatio: number;
}

/** Default {@link ReadLimits}. */
export const DEFAULT_LIMITS: ReadLimits = {
  maxFileBytes: 1024 * 1024 * 1024,
  maxTotalBytes: 1024 * 1024 * 1024,
  maxEntryBytes: 512 * 1024 * 1024,
  maxEntries: 40,
  maxRatio: 100,
};

/** Entries smaller than this are not held to the compression-ratio limit (small JSON compresses well). */
export const RATIO_FLOOR_BYTES = 64 * 1024;

/** Which names an archive may hold, and which empty folder entries are passed over. */
export interface ZipRules {
  allowedName: RegExp;
  folders: readonly string[];
}

/** The names a package may contain. */
const PACKAGE_RULES: ZipRules = {
  allowedName: /^(manifest\.json|model\.onnx|model\.fp16\.onnx|preview\/[0-9]{2}-(before|after)\.png)$/,
  folders: ['preview/'],
};

/** Thrown when a package is refused; the message names the entry and the reason. */
export class PackageRejectedError extends Error {
  override name = 'PackageRejectedError';
}

/** Reads every entry of a package into memory after checking it; throws {@link PackageRejectedError} on any problem. */
export async function readPackageEntries(file: string, limits: ReadLimits = DEFAULT_LIMITS): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  await forEachZipEntry(file, limits, PACKAGE_RULES, async (name, bytes) => {
    entries.set(name, bytes);
  });
  return entries;
}

/**
 * Checks a zip archive's entries as {@link readPackageEntries} does, under other naming rules, handing each entry to
 * `visit` (awaited) once it is read and checked, so that only one entry is in memory at a time. Throws
 * {@link PackageRejectedError} on any problem; what `visit` throws passes through unchanged.
 */
export async function forEachZipEntry(file: string, limits: ReadLimits, rules: ZipRules, visit: (name: string, bytes: Buffer) => Promise<void>): Promise<void> {
  const size = (await stat(file)).size;
  if (size > limits.maxFileBytes) throw new PackageRejectedError(`the package is ${size} bytes, over the ${limits.maxFileBytes}-byte limit`);
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, decodeStrings: false, validateEntrySizes: false, autoClose: false });
  } catch (error) {
    throw new PackageRejectedError(`not a readable zip archive: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw new PackageRejectedError(`the package has ${zip.entryCount} entries, over the limit of ${limits.maxEntries}`);
    }
    const seen = new Set<string>();
    let total = 0;
    for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) {
      const name = entryName(entry);
      if (rules.folders.includes(name) && entry.uncompressedSize === 0) continue;
      checkEntry(entry, name, limits, rules);
      if (seen.has(name)) throw new PackageRejectedError(`entry "${name}" appears more than once`);
      seen.add(name);
      total += entry.uncompressedSize;
      if (total > limits.maxTotalBytes) {
        throw new PackageRejectedError(`the entries add up to more than the ${limits.maxTotalBytes}-byte limit (at "${name}")`);
      }
      const bytes = await readEntry(zip, entry, name);
      try {
        await visit(name, bytes);
      } catch (error) {
        throw new VisitError(error);
      }
    }
  } catch (error) {
    if (error instanceof VisitError) throw error.cause;
    if (error instanceof PackageRejectedError) throw error;
    throw new PackageRejectedError(`the zip archive is damaged: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    zip.close();
  }
}

/**
 * Writes checked entries into `targetDir` (created; must be empty or absent). Every path is resolved and must stay
 * inside it; files go to a temporary sibling folder that is renamed into place only when all were written.
 */
export async function writeEntries(entries: ReadonlyMap<string, Uint8Array>, targetDir: string): Promise<void> {
  const target = resolve(targetDir);
  const temp = `${target}.partial-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  try {
    for (const [name, bytes] of entries) {
      const path = resolve(temp, name);
      const rel = relative(temp, path);
      if (rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) {
        throw new PackageRejectedError(`entry "${name}" would be written outside ${targetDir}`);
      }
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes, { flag: 'wx' });
    }
    await mkdir(dirname(target), { recursive: true });
    await rm(target, { recursive: true, force: true });
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

function entryName(entry: yauzl.Entry): string {
  const raw = entry.fileNameRaw;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new PackageRejectedError(`an entry name is not valid UTF-8 (${raw.toString('hex').slice(0, 40)})`);
  }
}

/** Carries an error of the caller's visitor past the "damaged archive" wrapping. */
class VisitError extends Error {
  constructor(override readonly cause: unknown) {
    super('visitor failed');
  }
}

function checkEntry(entry: yauzl.Entry, name: string, limits: ReadLimits, rules: ZipRules): void {
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) {
    throw new PackageRejectedError(`entry "${name}" has an absolute path`);
  }
  if (name.split(/[\\/]/).includes('..')) throw new PackageRejectedError(`entry "${name}" climbs out of the package with ".."`);
  if (name.includes('\\')) throw new PackageRejectedError(`entry "${name}" uses backslashes in its path`);
  const unixMode = (entry.externalFileAttributes >>> 16) & 0o170000;
  if (unixMode === 0o120000) throw new PackageRejectedError(`entry "${name}" is a symbolic link`);
  if (unixMode !== 0 && unixMode !== 0o100000) throw new PackageRejectedError(`entry "${name}" is not a regular file`);
  if (!rules.allowedName.test(name)) throw new PackageRejectedError(`entry "${name}" is not a file a package may contain (extra file)`);
  if (entry.isEncrypted()) throw new PackageRejectedError(`entry "${name}" is encrypted`);
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    throw new PackageRejectedError(`entry "${name}" uses compression method ${entry.compressionMethod}; only stored and deflate are read`);
  }
  if (entry.uncompressedSize > limits.maxEntryBytes) {
    throw new PackageRejectedError(`entry "${name}" declares ${entry.uncompressedSize} bytes, over the ${limits.maxEntryBytes}-byte limit`);
  }
  if (entry.uncompressedSize > RATIO_FLOOR_BYTES && entry.uncompressedSize > entry.compressedSize * limits.maxRatio) {
    throw new PackageRejectedError(
      `entry "${name}" would expand ${entry.compressedSize} bytes to ${entry.uncompressedSize} (more than ${limits.maxRatio}:1): a zip bomb`,
    );
  }
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolvePromise, reject) => {
    const onEntry = (entry: yauzl.Entry): void => {
      cleanup();
      resolvePromise(entry);
    };
    const onEnd = (): void => {
      cleanup();
      resolvePromise(null);
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const cleanup = (): void => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, name: string): Promise<Buffer> {
  const declared = entry.uncompressedSize;
  const stream = await zip.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  let count = 0;
  // Count while inflating: the stream is destroyed the moment it passes the declared size, so a lying header
  // cannot make the reader inflate more than the limits allow.
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    count += chunk.length;
    if (count > declared) {
      stream.destroy();
      throw new PackageRejectedError(`entry "${name}" holds more data than the ${declared} bytes it declares`);
    }
    chunks.push(chunk);
  }
  if (count !== declared) throw new PackageRejectedError(`entry "${name}" holds ${count} bytes, not the ${declared} it declares`);
  return Buffer.concat(chunks, count);
}

