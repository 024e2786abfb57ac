// The work list of an import: image files under the given folders, or before/after pairs matched by name.
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { IMAGE_EXTENSIONS } from './process-image.ts';

/** One entry of an import's work list; `preset` settles it without reading it (not an image name, unmatched pair). */
export interface WorkEntry {
  path: string;
  targetPath: string | null;
  preset?: { outcome: 'skipped' | 'error'; reason: string };
}

/** A path given to an import does not exist or cannot be read: the import cannot start. */
export class ImportSourceError extends Error {
  override readonly name = 'ImportSourceError';
}

/**
 * Every file under `paths` (files are taken as they are, folders recursively, in sorted order). Hidden files and
 * folders (names starting with ".") are left out; other non-image names become `skipped` entries, and a folder
 * that cannot be listed becomes an `error` entry, so the user sees what was not imported.
 */
export async function enumeratePhotos(paths: readonly string[]): Promise<WorkEntry[]> {
  const out: WorkEntry[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    const st = await statOrThrow(abs);
    if (st.isDirectory()) await walk(abs, out);
    else out.push(entryFor(abs));
  }
  return out;
}

/**
 * Before/after pairs. Two folders: files matched by their path inside each folder without the extension
 * (`before/a.jpg` ↔ `after/a.png`). One folder: its `before` and `after` subfolders matched the same way, or else
 * files named `X_before.*` ↔ `X_after.*` in the same folder. Files without a partner become `error` entries.
 */
export async function enumeratePairs(paths: readonly string[]): Promise<WorkEntry[]> {
  const dirs = paths.map((p) => resolve(p));
  for (const d of dirs) {
    if (!(await statOrThrow(d)).isDirectory()) throw new ImportSourceError(`${d} is not a folder; paired import takes folders`);
  }
  if (dirs.length === 2) return pairFolders(dirs[0]!, dirs[1]!);
  if (dirs.length !== 1) throw new ImportSourceError(`paired import takes one folder or two (before, after), got ${dirs.length}`);
  const root = dirs[0]!;
  const names = await readdir(root, { withFileTypes: true });
  const sub = (wanted: string): string | undefined =>
    names.find((n) => n.isDirectory() && n.name.toLowerCase() === wanted)?.name;
  const before = sub('before');
  const after = sub('after');
  if (before !== undefined && after !== undefined) return pairFolders(join(root, before), join(root, after));
  return pairBySuffix(root);
}

async function pairFolders(beforeDir: string, afterDir: string): Promise<WorkEntry[]> {
  const before = await imagesByStem(beforeDir);
  const after = await imagesByStem(afterDir);
  const out: WorkEntry[] = [...before.problems, ...after.problems];
  for (const [stem, path] of before.images) {
    const target = after.images.get(stem);
    if (target === undefined) out.push({ path, targetPath: null, preset: { outcome: 'error', reason: `no "after" image named ${stem}.* in ${afterDir}` } });
    else out.push({ path, targetPath: target });
  }
  for (const [stem, path] of after.images) {
    if (!before.images.has(stem)) out.push({ path, targetPath: null, preset: { outcome: 'error', reason: `no "before" image named ${stem}.* in ${beforeDir}` } });
  }
  return out.sort(byPath);
}

const SUFFIX = /^(.*)[_-](before|after)$/i;

async function pairBySuffix(root: string): Promise<WorkEntry[]> {
  const { images, problems } = await imagesByStem(root);
  const halves = new Map<string, { before?: string; after?: string }>();
  const out: WorkEntry[] = [...problems];
  for (const [stem, path] of images) {
    const m = SUFFIX.exec(stem);
    if (!m) {
      out.push({ path, targetPath: null, preset: { outcome: 'error', reason: 'name does not end in _before or _after' } });
      continue;
    }
    const key = m[1]!;
    const pair = halves.get(key) ?? {};
    if (m[2]!.toLowerCase() === 'before') pair.before = path;
    else pair.after = path;
    halves.set(key, pair);
  }
  for (const [key, pair] of halves) {
    if (pair.before !== undefined && pair.after !== undefined) out.push({ path: pair.before, targetPath: pair.after });
    else if (pair.before !== undefined) out.push({ path: pair.before, targetPath: null, preset: { outcome: 'error', reason: `no ${key}_after image` } });
    else if (pair.after !== undefined) out.push({ path: pair.after, targetPath: null, preset: { outcome: 'error', reason: `no ${key}_before image` } });
  }
  return out.sort(byPath);
}

/** Images under `dir` keyed by their relative path without extension; two files with one key are both errors. */
async function imagesByStem(dir: string): Promise<{ images: Map<string, string>; problems: WorkEntry[] }> {
  const entries: WorkEntry[] = [];
  await walk(dir, entries);
  const images = new Map<string, string>();
  const clashes = new Set<string>();
  const problems: WorkEntry[] = [];
  for (const e of entries) {
    if (e.preset) {
      problems.push(e);
      continue;
    }
    const rel = relative(dir, e.path);
    const stem = rel.slice(0, rel.length - extname(rel).length).split(sep).join('/');
    if (images.has(stem)) clashes.add(stem);
    images.set(stem, e.path);
  }
  for (const stem of clashes) {
    images.delete(stem);
    problems.push({ path: join(dir, stem), targetPath: null, preset: { outcome: 'error', reason: `several images named ${stem}.* in ${dir}; cannot tell which to pair` } });
  }
  return { images, problems };
}

async function walk(dir: string, out: WorkEntry[]): Promise<void> {
  let names;
  try {
    names = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    out.push({ path: dir, targetPath: null, preset: { outcome: 'error', reason: `cannot list the folder: ${describe(error)}` } });
    return;
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const n of names) {
    if (n.name.startsWith('.')) continue;
    const path = join(dir, n.name);
    // Symbolic links to folders are not followed, so a link cycle cannot make the walk endless. Pipes and devices
    // are listed too: reading them is refused per file, so the user sees them in the report.
    if (n.isDirectory()) await walk(path, out);
    else out.push(entryFor(path));
  }
}

function entryFor(path: string): WorkEntry {
  const ext = extname(path).toLowerCase();
  if (IMAGE_EXTENSIONS.includes(ext)) return { path, targetPath: null };
  return { path, targetPath: null, preset: { outcome: 'skipped', reason: `not an image file name (${basename(path)})` } };
}

async function statOrThrow(path: string): Promise<Awaited<ReturnType<typeof stat>>> {
  try {
    return await stat(path);
  } catch (error) {
    throw new ImportSourceError(`cannot import ${path}: ${describe(error)}`);
  }
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}

function byPath(a: WorkEntry, b: WorkEntry): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
