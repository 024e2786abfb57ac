// Dataset store queries the curation grid relies on: filters, sorts, counts, bulk edits, tags, splits, stats.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { splitOf } from '../../../src/main/datasets/splits.ts';
import { datasetStats, evenness } from '../../../src/main/datasets/stats.ts';
import { DatasetExistsError, type NewItem } from '../../../src/main/datasets/store.ts';
import { makeWorkspace } from './helpers.ts';

let ws: ReturnType<typeof makeWorkspace>;
beforeEach(() => {
  ws = makeWorkspace();
});
afterEach(() => ws.cleanup());

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

function fakeItem(datasetId: number, i: number, extra: Partial<NewItem> = {}): NewItem {
  return {
    datasetId,
    width: 256 << i % 5,
    height: 200,
    faces: i % 4 === 0 ? [] : [{ score: 0.9, box: { x: 1, y: 2, width: 3, height: 4 }, keypoints: [] }],
    sourcePath: `/photos/${i}.jpg`,
    targetSourcePath: null,
    provenance: null,
    imageSha: sha(`image ${i}`),
    thumbSha: sha(`thumb ${i}`),
    targetSha: null,
    targetThumbSha: null,
    phash: null,
    ...extra,
  };
}

describe('DatasetStore', () => {
  it('creates datasets with unique names', () => {
    const d = ws.store.createDataset({ name: ' portraits ', kind: 'photos' });
    expect(d).toMatchObject({ name: 'portraits', kind: 'photos', itemCount: 0, splitSeed: 0, validationFraction: 0.1 });
    expect(() => ws.store.createDataset({ name: 'portraits', kind: 'pairs' })).toThrow(DatasetExistsError);
    expect(ws.store.findDataset('portraits')!.id).toBe(d.id);
    expect(ws.store.listDatasets().map((x) => x.name)).toEqual(['portraits']);
  });

  it('filters, sorts and pages items, and applies bulk edits, tags and undo-style reverts', () => {
    const d = ws.store.createDataset({ name: 'grid', kind: 'photos' });
    const ids = ws.store.insertItems(Array.from({ length: 20 }, (_, i) => fakeItem(d.id, i))).map((r) => r.itemId!);
    ws.store.updateItems(ids.slice(0, 5), { status: 'accepted', rating: 4, addTags: ['age:adult', 'smile'] });
    ws.store.updateItems(ids.slice(5, 8), { status: 'rejected', addTags: ['age:child'] });
    ws.store.updateItems([ids[1]!], { rating: 5, notes: 'best one', removeTags: ['smile'] });

    expect(ws.store.listItems({ datasetId: d.id, status: 'accepted' }).total).toBe(5);
    expect(ws.store.listItems({ datasetId: d.id, status: 'pending' }).total).toBe(12);
    expect(ws.store.listItems({ datasetId: d.id, tag: 'smile' }).items.map((i) => i.id)).toEqual([ids[0], ids[2], ids[3], ids[4]]);
    expect(ws.store.listItems({ datasetId: d.id, minRating: 5 }).items.map((i) => i.id)).toEqual([ids[1]]);
    expect(ws.store.listItems({ datasetId: d.id, hasFace: false }).total).toBe(5);
    const byRating = ws.store.listItems({ datasetId: d.id, sort: '-rating', limit: 3 }).items;
    expect(byRating.map((i) => i.id)).toEqual([ids[1], ids[0], ids[2]]);
    const page = ws.store.listItems({ datasetId: d.id, sort: '-id', offset: 18, limit: 5 });
    expect(page).toMatchObject({ total: 20 });
    expect(page.items.map((i) => i.id)).toEqual([ids[1], ids[0]]);

    const best = ws.store.getItem(ids[1]!);
    expect(best).toMatchObject({ status: 'accepted', rating: 5, notes: 'best one', tags: ['age:adult'], hasFace: true, faceCount: 1 });
    // Undo is a revert to the values the grid showed before.
    ws.store.updateItems([ids[1]!], { status: 'pending', rating: 4 });
    expect(ws.store.getItem(ids[1]!)).toMatchObject({ status: 'pending', rating: 4 });
    expect(() => ws.store.updateItems([ids[0]!], { rating: 9 })).toThrow(/rating/);
    expect(ws.store.tags(d.id)).toEqual([
      { name: 'age:adult', count: 5 },
      { name: 'age:child', count: 3 },
      { name: 'smile', count: 4 },
    ]);
  });

  it('refuses a second copy of the same content and releases the copy\'s blob references', async () => {
    const d = ws.store.createDataset({ name: 'dups', kind: 'photos' });
    const image = await ws.blobs.put(Buffer.from('image bytes'), 'image');
    const thumb = await ws.blobs.put(Buffer.from('thumb bytes'), 'thumbnail');
    const first = ws.store.insertItems([fakeItem(d.id, 0, { imageSha: image.sha256, thumbSha: thumb.sha256 })]);
    await ws.blobs.put(Buffer.from('image bytes'), 'image');
    await ws.blobs.put(Buffer.from('thumb bytes'), 'thumbnail');
    const second = ws.store.insertItems([fakeItem(d.id, 0, { imageSha: image.sha256, thumbSha: thumb.sha256 })]);
    expect(second).toEqual([{ itemId: null, duplicateOf: first[0]!.itemId }]);
    expect(ws.blobs.info(image.sha256)!.refcount).toBe(1);
    ws.store.deleteDataset(d.id);
    expect(ws.blobs.info(image.sha256)!.refcount).toBe(0);
    expect(ws.store.listDatasets()).toEqual([]);
  });

  it('splits with a fixed seed: the same items land in the same split, about the asked share in validation', () => {
    const d = ws.store.createDataset({ name: 'split', kind: 'photos', splitSeed: 42, validationFraction: 0.2 });
    const ids = ws.store.insertItems(Array.from({ length: 2000 }, (_, i) => fakeItem(d.id, i))).map((r) => r.itemId!);
    const first = ws.store.listItems({ datasetId: d.id, split: 'validation', limit: 1000 }).items.map((i) => i.id);
    expect(first.length).toBeGreaterThan(330);
    expect(first.length).toBeLessThan(470);
    expect(splitOf(42, sha('image 0'), 0.2)).toBe(ws.store.getItem(ids[0]!).split);
    // Another seed moves items; going back to 42 restores exactly the first split.
    const other = ws.store.reassignSplits(d.id, 7, 0.2);
    expect(other.train + other.validation).toBe(2000);
    expect(ws.store.listItems({ datasetId: d.id, split: 'validation', limit: 1000 }).items.map((i) => i.id)).not.toEqual(first);
    ws.store.reassignSplits(d.id, 42, 0.2);
    expect(ws.store.listItems({ datasetId: d.id, split: 'validation', limit: 1000 }).items.map((i) => i.id)).toEqual(first);
  });

  it('pages, filters and sorts a large dataset correctly (timings printed, not asserted)', () => {
    const d = ws.store.createDataset({ name: 'big', kind: 'photos' });
    const items = Array.from({ length: 20_000 }, (_, i) => fakeItem(d.id, i));
    let t = performance.now();
    const ids = ws.store.insertItems(items).map((r) => r.itemId!);
    const insertMs = performance.now() - t;
    expect(ids.every((id) => id !== null)).toBe(true);
    ws.store.updateItems(ids.filter((_, i) => i % 10 === 0), { status: 'accepted', addTags: ['keep'] });
    const timings: Record<string, number> = {};
    const time = (name: string, fn: () => unknown): void => {
      const start = performance.now();
      fn();
      timings[name] = Math.round((performance.now() - start) * 100) / 100;
    };
    time('firstPage', () => ws.store.listItems({ datasetId: d.id, limit: 200 }));
    time('deepPage', () => ws.store.listItems({ datasetId: d.id, offset: 19_000, limit: 200 }));
    time('acceptedDeep', () => ws.store.listItems({ datasetId: d.id, status: 'accepted', offset: 1_800, limit: 200 }));
    time('tagFilter', () => ws.store.listItems({ datasetId: d.id, tag: 'keep', limit: 200 }));
    time('byRating', () => ws.store.listItems({ datasetId: d.id, sort: '-rating', limit: 200 }));
    time('stats', () => datasetStats(ws.db, d.id));
    t = performance.now();
    const page = ws.store.listItems({ datasetId: d.id, status: 'accepted', offset: 1_990, limit: 200 });
    expect(page.total).toBe(2_000);
    expect(page.items).toHaveLength(10);
    console.log(JSON.stringify({ bench: 'dataset-store-20k', insertMs: Math.round(insertMs), insertUsPerItem: Math.round((insertMs * 1000) / items.length), ...timings }));
  });
});

describe('datasetStats', () => {
  it('counts by status, rating, split, tag, faces and resolution, and measures tag balance', () => {
    const d = ws.store.createDataset({ name: 'stats', kind: 'photos' });
    const ids = ws.store.insertItems(Array.from({ length: 10 }, (_, i) => fakeItem(d.id, i))).map((r) => r.itemId!);
    ws.store.insertItems([fakeItem(d.id, 99, { faces: null, width: 5000, height: 100 })]);
    ws.store.updateItems(ids.slice(0, 6), { status: 'accepted' });
    ws.store.updateItems(ids.slice(0, 3), { addTags: ['age:adult'], rating: 3 });
    ws.store.updateItems(ids.slice(3, 4), { addTags: ['age:child'] });
    ws.store.updateItems(ids.slice(6, 8), { status: 'rejected', addTags: ['age:child', 'blurry'] });
    const s = datasetStats(ws.db, d.id);
    expect(s).toMatchObject({
      total: 11,
      byStatus: { accepted: 6, rejected: 2, pending: 3 },
      byRating: [8, 0, 0, 3, 0, 0],
      faces: { found: 7, notFound: 3, notChecked: 1, multiple: 0 },
    });
    expect(s.bySplit.train + s.bySplit.validation).toBe(11);
    // widths 256·2^(i mod 5): 256, 512, 1024, 2048, 4096 twice each, plus one 5000 wide.
    expect(s.resolution.map((r) => [r.label, r.count])).toEqual([
      ['< 256', 0],
      ['256–511', 2],
      ['512–1023', 2],
      ['1024–2047', 2],
      ['2048–4095', 2],
      ['≥ 4096', 3],
    ]);
    expect(s.byTag).toEqual([
      { tag: 'age:adult', count: 3, accepted: 3 },
      { tag: 'age:child', count: 3, accepted: 1 },
      { tag: 'blurry', count: 2, accepted: 0 },
    ]);
    // Accepted: 3 adult, 1 child, 2 untagged; evenness = H(3/4, 1/4) / ln 2.
    const h = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25)) / Math.log(2);
    expect(s.balance).toHaveLength(1);
    expect(s.balance[0]!.group).toBe('age');
    expect(s.balance[0]!.untagged).toBe(2);
    expect(s.balance[0]!.values).toEqual([
      { value: 'adult', count: 3, share: 0.75 },
      { value: 'child', count: 1, share: 0.25 },
    ]);
    expect(s.balance[0]!.evenness).toBeCloseTo(h, 12);
    expect(evenness([5, 5, 5])).toBeCloseTo(1, 12);
    expect(evenness([9, 0])).toBe(0);
  });
});
