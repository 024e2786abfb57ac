// Serves the built renderer's files by URL path, refusing anything outside its folder (traversal, symlinks).
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** A renderer file found for a URL path, or why none was. */
export type StaticAsset =
  | { status: 200; body: Buffer; contentType: string }
  | { status: 400 | 404; reason: string };

/** The MIME type the studio serves a file name with. */
export function contentTypeFor(fileName: string): string {
  return CONTENT_TYPES[extname(fileName).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Maps a URL path (still percent-encoded, without query) to a file inside `rootDir`, or null when the path
 * is malformed or points outside it. `/` is `index.html`. Does not touch the file system.
 */
export function resolveStaticPath(rootDir: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  // A backslash is a separator on Windows and a NUL truncates paths in native code: neither belongs in a URL.
  if (!decoded.startsWith('/') || decoded.includes('\\') || decoded.includes('\0')) return null;
  const root = resolve(rootDir);
  const relative = decoded === '/' ? 'index.html' : decoded.slice(1);
  const full = resolve(root, relative);
  return full.startsWith(root + sep) ? full : null;
}

/** Reads the renderer file for a URL path; a symlink that leads out of `rootDir` counts as not found. */
export async function loadStaticAsset(rootDir: string, urlPath: string): Promise<StaticAsset> {
  const candidate = resolveStaticPath(rootDir, urlPath);
  if (candidate === null) return { status: 400, reason: 'malformed or out-of-root path' };
  try {
    const [realRoot, realFile] = await Promise.all([realpath(rootDir), realpath(candidate)]);
    if (!realFile.startsWith(realRoot + sep)) return { status: 404, reason: 'path leaves the renderer folder' };
    if (!(await stat(realFile)).isFile()) return { status: 404, reason: 'not a file' };
    return { status: 200, body: await readFile(realFile), contentType: contentTypeFor(realFile) };
  } catch {
    return { status: 404, reason: 'no such file' };
  }
}
