// Import of generated folders mixing good and bad files: exact per-file outcomes, duplicates, resume, vanishing files, pairs.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FaceDetector } from '../../../src/main/faces/detector.ts';
import { planImport, runImport } from '../../../src/main/datasets/importer.ts';
import type { FileOutcome } from '../../../src/main/datasets/types.ts';
import { makeWorkspace, noiseImage } from './helpers.ts';

const ASTRONAUT = fileURLToPath(new URL('../../fixtures/faces/astronaut.png', import.meta.url));

let detector: FaceDetector;
beforeAll(async () => {
  detector = await FaceDetector.create();
});
afterAll(async () => {
  await detector.release();
});

let ws: ReturnType<typeof makeWorkspace>;
beforeEach(() => {
  ws = makeWorkspace();
});
afterEach(() => ws.cleanup());

/** Outcomes keyed by the path relative to `root`, as `outcome: reason-fragment`. */
function byName(files: FileOutcome[], root: string): Record<string, FileOutcome> {
  return Object.fromEntries(files.map((f) => [f.path.slice(root.length + 1), f]));
}

describe('photo import', () => {
  it('imports the good files and reports every bad one with its reason', async () => {
    const src = join(ws.dir, 'photos');
    mkdirSync(join(src, 'sub'), { recursive: true });
    const rotated = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian', mean: 128, sigma: 50 } } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    writeFileSync(join(src, 'a-rotated.jpg'), rotated);
    writeFileSync(join(src, 'a-copy.jpg'), rotated);
    writeFileSync(join(src, 'b.png'), await noiseImage(300, 200, 'png'));
    writeFileSync(join(src, 'c.webp'), await noiseImage(120, 120, 'webp'));
    copyFileSync(ASTRONAUT, join(src, 'face.png'));
    writeFileSync(join(src, 'sub', 'd.jpg'), await noiseImage(100, 80, 'jpeg'));
    writeFileSync(join(src, 'zero.jpg'), Buffer.alloc(0));
    const jpeg = await noiseImage(400, 300, 'jpeg');
    writeFileSync(join(src, 'truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1));
    writeFileSync(join(src, 'fake.png'), 'this is a text file with an image name\n');
    writeFileSync(join(src, 'bomb.png'), await sharp({ create: { width: 3000, height: 3000, channels: 3, background: '#000' } }).png().toBuffer());
    writeFileSync(join(src, 'notes.txt'), 'not an image');
    writeFileSync(join(src, '.DS_Store'), 'hidden');
    symlinkSync(join(src, 'nowhere.jpg'), join(src, 'broken.jpg'));
    execFileSync('mkfifo', [join(src, 'pipe.jpg')]);

    const dataset = ws.store.createDataset({ name: 'mixed', kind: 'photos' });
    const request = { datasetId: dataset.id, paths: [src], pairs: false, maxPixels: 4_000_000 };
    const importId = await planImport(ws.store, request);
    const progress: number[] = [];
    const report = await runImport({ store: ws.store, blobs: ws.blobs, detector }, importId, request, {
      onProgress: (done) => progress.push(done),
      batchSize: 4,
    });

    const files = byName(ws.store.importFiles(importId), src);
    const outcomes = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, f.outcome]));
    expect(outcomes).toEqual({
      'a-copy.jpg': 'imported',
      'a-rotated.jpg': 'duplicate',
      'b.png': 'imported',
      'bomb.png': 'error',
      'broken.jpg': 'error',
      'c.webp': 'imported',
      'face.png': 'imported',
      'fake.png': 'error',
      'notes.txt': 'skipped',
      'pipe.jpg': 'error',
      'sub/d.jpg': 'imported',
      'truncated.jpg': 'error',
      'zero.jpg': 'error',
    });
    expect(files['a-rotated.jpg']!.itemId).toBe(files['a-copy.jpg']!.itemId);
    expect(files['bomb.png']!.reason).toMatch(/3000×3000 = 9000000 pixels, over the limit of 4000000/);
    expect(files['broken.jpg']!.reason).toMatch(/file not found/);
    expect(files['fake.png']!.reason).toMatch(/not an image/);
    expect(files['pipe.jpg']!.reason).toMatch(/not a regular file/);
    expect(files['truncated.jpg']!.reason).toMatch(/truncated or corrupt/);
    expect(files['zero.jpg']!.reason).toMatch(/empty file/);
    expect(report.counts).toEqual({ total: 13, imported: 5, duplicate: 1, error: 6, skipped: 1, withFace: 1 });
    expect(progress.at(-1)).toBe(13);

    // EXIF orientation 6 turns the 64×48 image upright to 48×64; the face photo has its face recorded.
    const items = ws.store.listItems({ datasetId: dataset.id }).items;
    expect(items).toHaveLength(5);
    const rotatedItem = ws.store.getItem(files['a-copy.jpg']!.itemId!);
    expect([rotatedItem.width, rotatedItem.height]).toEqual([48, 64]);
    const thumb = await sharp(await ws.blobs.read(rotatedItem.thumbSha)).metadata();
    expect([thumb.format, thumb.width, thumb.height]).toEqual(['webp', 48, 64]);
    const face = ws.store.getItem(files['face.png']!.itemId!);
    expect(face.hasFace).toBe(true);
    expect(face.face!.box.x).toBeGreaterThan(150);
    expect(face.face!.box.x).toBeLessThan(220);
    expect(ws.store.getItem(files['b.png']!.itemId!).hasFace).toBe(false);
    // The stored image is the file's own bytes.
    expect((await ws.blobs.read(rotatedItem.imageSha)).equals(rotated)).toBe(true);

    // Importing the same folder again adds nothing: every good file is now a duplicate.
    const again = await planImport(ws.store, request);
    const second = await runImport({ store: ws.store, blobs: ws.blobs, detector: null }, again, request);
    expect(second.counts).toMatchObject({ imported: 0, duplicate: 6, error: 6, skipped: 1 });
    expect(ws.store.listItems({ datasetId: dataset.id }).total).toBe(5);
    expect(ws.blobs.info(rotatedItem.imageSha)!.refcount).toBe(1);
  });

  it('resumes a cancelled import where it stopped, without losing or duplicating anything', async () => {
    const src = join(ws.dir, 'many');
    mkdirSync(src);
    for (let i = 0; i < 10; i++) writeFileSync(join(src, `img-${i}.png`), await noiseImage(40, 30, 'png'));
    const dataset = ws.store.createDataset({ name: 'resumable', kind: 'photos' });
    const request = { datasetId: dataset.id, paths: [src], pairs: false };
    const importId = await planImport(ws.store, request);
    const controller = new AbortController();
    const ctx = { store: ws.store, blobs: ws.blobs, detector: null };
    await expect(
      runImport(ctx, importId, request, {
        signal: controller.signal,
        concurrency: 1,
        batchSize: 3,
        onProgress: () => controller.abort(new Error('cancelled by the test')),
      }),
    ).rejects.toThrow('cancelled by the test');
    const partial = ws.store.listItems({ datasetId: dataset.id }).total;
    expect(partial).toBeGreaterThanOrEqual(3);
    expect(partial).toBeLessThan(10);
    expect(ws.store.pendingImportFiles(importId)).toHaveLength(10 - partial);

    const report = await runImport(ctx, importId, request);
    expect(report.counts).toMatchObject({ total: 10, imported: 10, duplicate: 0, error: 0 });
    const items = ws.store.listItems({ datasetId: dataset.id }).items;
    expect(items).toHaveLength(10);
    expect(new Set(items.map((i) => i.sourcePath)).size).toBe(10);
    for (const item of items) expect(ws.blobs.info(item.imageSha)!.refcount).toBe(1);
  });

  it('reports files of a folder that disappears mid-import and imports the rest', async () => {
    const src = join(ws.dir, 'vanishing');
    mkdirSync(join(src, 'gone'), { recursive: true });
    writeFileSync(join(src, 'a.png'), await noiseImage(32, 32, 'png'));
    for (const n of ['x', 'y']) writeFileSync(join(src, 'gone', `${n}.png`), await noiseImage(32, 32, 'png'));
    writeFileSync(join(src, 'z.png'), await noiseImage(32, 32, 'png'));
    const dataset = ws.store.createDataset({ name: 'vanishing', kind: 'photos' });
    const request = { datasetId: dataset.id, paths: [src], pairs: false };
    const importId = await planImport(ws.store, request);
    const report = await runImport({ store: ws.store, blobs: ws.blobs, detector: null }, importId, request, {
      concurrency: 1,
      batchSize: 1,
      onProgress: (done) => {
        if (done === 1) rmSync(join(src, 'gone'), { recursive: true });
      },
    });
    const files = byName(ws.store.importFiles(importId), src);
    expect(Object.fromEntries(Object.entries(files).map(([k, f]) => [k, f.outcome]))).toEqual({
      'a.png': 'imported',
      'gone/x.png': 'error',
      'gone/y.png': 'error',
      'z.png': 'imported',
    });
    expect(files['gone/x.png']!.reason).toMatch(/file not found \(moved or deleted during the import\?\)/);
    expect(report.counts.imported).toBe(2);
  });
});

describe('unreadable files', () => {
  // Root reads files whatever their mode, so this case can only be produced as an ordinary user.
  it.skipIf(process.platform === 'win32' || process.getuid?.() === 0)('reports a file without read permission', async () => {
    const src = join(ws.dir, 'locked');
    mkdirSync(src);
    writeFileSync(join(src, 'secret.png'), await noiseImage(16, 16, 'png'));
    chmodSync(join(src, 'secret.png'), 0o000);
    const dataset = ws.store.createDataset({ name: 'locked', kind: 'photos' });
    const request = { datasetId: dataset.id, paths: [src], pairs: false };
    const importId = await planImport(ws.store, request);
    await runImport({ store: ws.store, blobs: ws.blobs, detector: null }, importId, request);
    expect(ws.store.importFiles(importId)).toMatchObject([{ outcome: 'error', reason: 'cannot read the file: permission denied' }]);
  });
});

describe('paired import', () => {
  it('matches before/after folders by name and reports files without a partner', async () => {
    const root = join(ws.dir, 'pairs');
    mkdirSync(join(root, 'before'), { recursive: true });
    mkdirSync(join(root, 'after'));
    writeFileSync(join(root, 'before', 'a.png'), await noiseImage(64, 64, 'png'));
    writeFileSync(join(root, 'after', 'a.jpg'), await noiseImage(128, 128, 'jpeg'));
    writeFileSync(join(root, 'before', 'b.png'), await noiseImage(64, 48, 'png'));
    writeFileSync(join(root, 'after', 'b.png'), await noiseImage(64, 48, 'png'));
    writeFileSync(join(root, 'before', 'c.png'), await noiseImage(64, 64, 'png'));
    writeFileSync(join(root, 'after', 'd.png'), await noiseImage(64, 64, 'png'));
    writeFileSync(join(root, 'before', 'e.png'), await noiseImage(64, 64, 'png'));
    writeFileSync(join(root, 'after', 'e.png'), await noiseImage(64, 32, 'png'));
    const dataset = ws.store.createDataset({ name: 'pairs', kind: 'pairs' });
    const request = { datasetId: dataset.id, paths: [root], pairs: true };
    const importId = await planImport(ws.store, request);
    await runImport({ store: ws.store, blobs: ws.blobs, detector: null }, importId, request);
    const files = byName(ws.store.importFiles(importId), root);
    expect(Object.fromEntries(Object.entries(files).map(([k, f]) => [k, [f.outcome, f.targetPath?.slice(root.length + 1) ?? null]]))).toEqual({
      'before/a.png': ['imported', 'after/a.jpg'],
      'before/b.png': ['imported', 'after/b.png'],
      'before/c.png': ['error', null],
      'after/d.png': ['error', null],
      'before/e.png': ['error', 'after/e.png'],
    });
    expect(files['before/c.png']!.reason).toMatch(/no "after" image named c/);
    expect(files['after/d.png']!.reason).toMatch(/no "before" image named d/);
    expect(files['before/e.png']!.reason).toMatch(/shapes must match/);
    const item = ws.store.getItem(files['before/a.png']!.itemId!);
    expect(item.targetSha).not.toBeNull();
    expect(item.targetThumbSha).not.toBeNull();
  });

  it('matches X_before / X_after files in one folder', async () => {
    const root = join(ws.dir, 'suffix');
    mkdirSync(root);
    writeFileSync(join(root, 'x_before.png'), await noiseImage(50, 50, 'png'));
    writeFileSync(join(root, 'x_after.png'), await noiseImage(50, 50, 'png'));
    writeFileSync(join(root, 'y_before.png'), await noiseImage(50, 50, 'png'));
    writeFileSync(join(root, 'loose.png'), await noiseImage(50, 50, 'png'));
    const dataset = ws.store.createDataset({ name: 'suffix', kind: 'pairs' });
    const request = { datasetId: dataset.id, paths: [root], pairs: true };
    const importId = await planImport(ws.store, request);
    await runImport({ store: ws.store, blobs: ws.blobs, detector: null }, importId, request);
    const files = byName(ws.store.importFiles(importId), root);
    expect(Object.fromEntries(Object.entries(files).map(([k, f]) => [k, f.outcome]))).toEqual({
      'loose.png': 'error',
      'x_before.png': 'imported',
      'y_before.png': 'error',
    });
    expect(files['x_before.png']!.targetPath).toBe(join(root, 'x_after.png'));
    expect(files['y_before.png']!.reason).toMatch(/no y_after image/);
  });
});
