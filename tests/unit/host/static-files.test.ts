// The renderer file server maps URL paths into its folder only: traversal in any spelling is refused.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentTypeFor, loadStaticAsset, resolveStaticPath } from '../../../src/main/host/static-files.ts';

let base: string;
let root: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'static-files-'));
  root = join(base, 'renderer');
  await mkdir(join(root, 'assets'), { recursive: true });
  await writeFile(join(root, 'index.html'), '<!doctype html><title>studio</title>');
  await writeFile(join(root, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(base, 'secret.txt'), 'SECRET');
  await symlink(join(base, 'secret.txt'), join(root, 'escape.txt'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('resolveStaticPath', () => {
  it('maps / to index.html and nested paths inside the root', () => {
    expect(resolveStaticPath(root, '/')).toBe(join(root, 'index.html'));
    expect(resolveStaticPath(root, '/assets/app.js')).toBe(join(root, 'assets', 'app.js'));
    expect(resolveStaticPath(root, '/assets/a%20b.js')).toBe(join(root, 'assets', 'a b.js'));
  });

  it.each([
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/assets/../../secret.txt',
    '/..%5csecret.txt',
    '/index.html%00.js',
    '/%E0%A4%A',
    'secret.txt',
  ])('refuses %s', (path) => {
    expect(resolveStaticPath(root, path)).toBeNull();
  });
});

describe('loadStaticAsset', () => {
  it('serves files with their content type', async () => {
    const asset = await loadStaticAsset(root, '/assets/app.js');
    expect(asset.status).toBe(200);
    if (asset.status === 200) {
      expect(asset.body.toString()).toBe('console.log(1)');
      expect(asset.contentType).toMatch(/^text\/javascript/);
    }
  });

  it('does not follow a symlink out of the root', async () => {
    expect((await loadStaticAsset(root, '/escape.txt')).status).toBe(404);
  });

  it('answers 404 for missing files and folders', async () => {
    expect((await loadStaticAsset(root, '/nope.js')).status).toBe(404);
    expect((await loadStaticAsset(root, '/assets')).status).toBe(404);
  });

  it('knows the types a renderer build contains', () => {
    expect(contentTypeFor('x.wasm')).toBe('application/wasm');
    expect(contentTypeFor('x.CSS')).toMatch(/^text\/css/);
    expect(contentTypeFor('x.unknown')).toBe('application/octet-stream');
  });
});
