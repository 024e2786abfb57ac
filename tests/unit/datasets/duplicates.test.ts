// Perceptual hash against numpy's DCT (imagehash's definition), and near-duplicate groups against brute force.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodePixels } from '../../../src/main/faces/pixels.ts';
import { nearDuplicateGroups, type HashedItem } from '../../../src/main/datasets/duplicates.ts';
import { planImport, runImport } from '../../../src/main/datasets/importer.ts';
import { hammingDistance, phashFromGrey, phashOfPixels } from '../../../src/main/datasets/phash.ts';
import { makeWorkspace, noiseImage } from './helpers.ts';

const ASTRONAUT = fileURLToPath(new URL('../../fixtures/faces/astronaut.png', import.meta.url));

/*
 * Reference hashes computed with numpy, following imagehash.phash (scipy.fftpack.dct = unnormalised DCT-II):
 *   C = 2*cos(pi*outer(k, 2n+1)/64); d = C @ px @ C.T; low = d[:8,:8]; bits = low > median(low), row-major, MSB first.
 * Inputs: i = 0..1023 row-major over 32×32.
 */
const REFERENCE: [string, (i: number) => number][] = [
  ['c5066476646cb9e7', (i) => (i * i * 7 + i * 13 + (i >> 3) * 29) % 256],
  ['97ca9e4386c316b3', (i) => Math.imul(i, 2654435761) >>> 24],
  ['804d2c0d7f7f0c5d', (i) => ((i % 32) * 5 + Math.floor(i / 32) * 3 + (((i % 32) * Math.floor(i / 32)) % 17))],
];

describe('phash', () => {
  it('matches the numpy reference bit for bit', () => {
    for (const [expected, f] of REFERENCE) {
      expect(phashFromGrey(Array.from({ length: 1024 }, (_, i) => f(i)))).toBe(expected);
    }
  });

  it('counts differing bits', () => {
    expect(hammingDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingDistance('8000000000000001', '0000000000000000')).toBe(2);
    expect(hammingDistance('c5066476646cb9e7', 'c5066476646cb9e7')).toBe(0);
  });

  it('barely changes under resizing and JPEG re-encoding, and differs for another image', async () => {
    const original = await phashOfPixels(await decodePixels(ASTRONAUT));
    const copy = await phashOfPixels(await decodePixels(await sharp(ASTRONAUT).resize(211).jpeg({ quality: 40 }).toBuffer()));
    const cropped = await phashOfPixels(await decodePixels(await sharp(ASTRONAUT).extract({ left: 0, top: 0, width: 480, height: 480 }).toBuffer()));
    const other = await phashOfPixels(await decodePixels(await noiseImage(512, 512, 'png')));
    expect(hammingDistance(original, copy)).toBeLessThanOrEqual(4);
    expect(hammingDistance(original, cropped)).toBeLessThanOrEqual(12);
    expect(hammingDistance(original, other)).toBeGreaterThan(16);
  });
});

describe('nearDuplicateGroups', () => {
  it('finds the same groups as comparing every pair', () => {
    // Clusters of random hashes with a few bits flipped, among unrelated ones.
    let seed = 7;
    const rand = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    const hex = (hi: number, lo: number): string => hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
    const items: HashedItem[] = [];
    for (let c = 0; c < 300; c++) {
      const hi = rand();
      const lo = rand();
      const copies = c % 3 === 0 ? 3 : 1;
      for (let k = 0; k < copies; k++) {
        const flipHi = k === 0 ? 0 : (1 << (rand() % 32)) >>> 0;
        const flipLo = k === 0 ? 0 : ((1 << (rand() % 32)) | (1 << (rand() % 32))) >>> 0;
        items.push({ id: items.length + 1, phash: hex((hi ^ flipHi) >>> 0, (lo ^ flipLo) >>> 0) });
      }
    }
    items.push({ id: items.length + 1, phash: items[0]!.phash });
    for (const maxDistance of [0, 3, 6]) {
      const expected = bruteForceGroups(items, maxDistance);
      const got = nearDuplicateGroups(items, maxDistance).map((g) => g.itemIds.join(','));
      expect(got.sort()).toEqual(expected.sort());
    }
  });
});

function bruteForceGroups(items: HashedItem[], maxDistance: number): string[] {
  const parent = items.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      if (hammingDistance(items[i]!.phash, items[j]!.phash) <= maxDistance) parent[find(i)] = find(j);
    }
  }
  const groups = new Map<number, number[]>();
  items.forEach((item, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), item.id]));
  return [...groups.values()].filter((g) => g.length > 1).map((g) => g.sort((a, b) => a - b).join(','));
}

describe('near-duplicates in a dataset', () => {
  let ws: ReturnType<typeof makeWorkspace>;
  beforeEach(() => {
    ws = makeWorkspace();
  });
  afterEach(() => ws.cleanup());

  it('groups a photo with its resized, re-encoded copy and leaves other photos out', async () => {
    const src = join(ws.dir, 'near');
    mkdirSync(src);
    writeFileSync(join(src, 'original.png'), await sharp(ASTRONAUT).png().toBuffer());
    writeFileSync(join(src, 'smaller.jpg'), await sharp(ASTRONAUT).resize(300).jpeg({ quality: 55 }).toBuffer());
    writeFileSync(join(src, 'other-1.png'), await noiseImage(200, 200, 'png'));
    writeFileSync(join(src, 'other-2.png'), await noiseImage(200, 200, 'png'));
    const dataset = ws.store.createDataset({ name: 'near', kind: 'photos' });
    const request = { datasetId: dataset.id, paths: [src], pairs: false };
    const importId = await planImport(ws.store, request);
    const report = await runImport({ store: ws.store, blobs: ws.blobs, detector: null }, importId, request);
    expect(report.counts.imported).toBe(4);
    const ids = Object.fromEntries(ws.store.importFiles(importId).map((f) => [f.path.slice(src.length + 1), f.itemId]));
    const groups = ws.store.nearDuplicates(dataset.id);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.itemIds).toEqual([ids['original.png'], ids['smaller.jpg']].sort((a, b) => a! - b!));
  });
});
