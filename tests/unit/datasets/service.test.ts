// The datasets requests through the Studio (validation, error codes, undo) and the `dataset-import` job in the product worker.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobInfo, RequestChannel, RequestParams, RequestResult } from '../../../src/shared/contract.ts';
import type { ImportReport, ItemInfo } from '../../../src/shared/datasets/types.ts';
import { Studio } from '../../../src/main/services/studio.ts';
import { makeTempDir } from '../core/temp-dir.ts';
import { noiseImage } from './helpers.ts';

const ASTRONAUT = fileURLToPath(new URL('../../fixtures/faces/astronaut.png', import.meta.url));

let temp: ReturnType<typeof makeTempDir>;
let studio: Studio;

beforeEach(async () => {
  temp = makeTempDir();
  studio = await Studio.open({ dataDir: join(temp.dir, 'data'), host: 'browser', version: '0.0.0-test' });
});
afterEach(async () => {
  await studio.close();
  temp.cleanup();
});

/** Invokes a channel and returns its value, failing the test with the error when it fails. */
async function call<C extends RequestChannel>(channel: C, ...params: RequestParams<C>): Promise<RequestResult<C>> {
  const r = await studio.handle(channel, params);
  if (!r.ok) throw new Error(`${channel} failed: ${r.error.code}: ${r.error.message}`);
  return r.value as RequestResult<C>;
}

/** The job's first state that satisfies `done`, from the studio's events. */
function jobWhere(s: Studio, id: () => string | null, done: (job: JobInfo) => boolean): Promise<JobInfo> {
  return new Promise((resolve) => {
    const off = s.onEvent((event, payload) => {
      if (event !== 'jobs:did-change' || payload.id !== id() || !done(payload)) return;
      off();
      resolve(payload);
    });
  });
}

const isFinished = (job: JobInfo): boolean => !['queued', 'running'].includes(job.status);

async function photoFolder(count: number): Promise<string> {
  const dir = join(temp.dir, 'photos');
  mkdirSync(dir, { recursive: true });
  copyFileSync(ASTRONAUT, join(dir, 'astronaut.png'));
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `noise-${String(i).padStart(3, '0')}.jpg`), await noiseImage(96, 64, 'jpeg'));
  writeFileSync(join(dir, 'broken.jpg'), 'not a jpeg');
  return dir;
}

describe('datasets requests', () => {
  it('creates, lists, renames and deletes datasets, with clear errors for bad requests', async () => {
    const a = await call('datasets:create', { name: 'portraits', kind: 'photos' });
    await call('datasets:create', { name: 'pairs', kind: 'pairs', splitSeed: 3, validationFraction: 0.25 });
    expect((await call('datasets:list')).map((d) => d.name)).toEqual(['pairs', 'portraits']);
    expect(await call('datasets:rename', a.id, 'faces')).toMatchObject({ id: a.id, name: 'faces' });

    const taken = await studio.handle('datasets:rename', [a.id, 'pairs']);
    expect(taken).toMatchObject({ ok: false, error: { code: 'conflict' } });
    const dup = await studio.handle('datasets:create', [{ name: 'faces', kind: 'photos' }]);
    expect(dup).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringContaining('"faces"') } });
    expect(await studio.handle('datasets:delete', [999])).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await studio.handle('datasets:create', [{ name: '  ', kind: 'photos' }])).toMatchObject({
      ok: false,
      error: { code: 'invalid-request', message: expect.stringContaining('params[0].name') },
    });
    expect(await studio.handle('datasets:create', [{ name: 'x', kind: 'videos' }])).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    const tooMany = await studio.handle('datasets:items', [{ datasetId: a.id, limit: 501 }]);
    expect(tooMany).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringContaining('limit') } });
    const noChange = await studio.handle('datasets:update-items', [[1], {}]);
    expect(noChange).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringContaining('changes nothing') } });
    const missingPath = await studio.handle('datasets:import', [{ datasetId: a.id, paths: [join(temp.dir, 'nowhere')], pairs: false }]);
    expect(missingPath).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringContaining('no such file') } });
    const wrongKind = await studio.handle('datasets:import', [{ datasetId: a.id, paths: [temp.dir], pairs: true }]);
    expect(wrongKind).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringContaining('photos dataset') } });

    await call('datasets:delete', a.id);
    expect((await call('datasets:list')).map((d) => d.name)).toEqual(['pairs']);
  });

  it('imports a folder as a job, then curates with undo, counts and frees the blobs on delete', async () => {
    const src = await photoFolder(4);
    const dataset = await call('datasets:create', { name: 'shots', kind: 'photos' });
    let jobId: string | null = null;
    const finished = jobWhere(studio, () => jobId, isFinished);
    const progress: number[] = [];
    studio.onEvent((event, job) => {
      if (event === 'jobs:did-change' && job.id === jobId) progress.push(job.progress.step);
    });
    jobId = (await call('datasets:import', { datasetId: dataset.id, paths: [src], pairs: false })).id;
    const job = await finished;
    expect(job).toMatchObject({ status: 'succeeded', kind: 'dataset-import' });
    const report = job.result as ImportReport;
    expect(report.counts).toEqual({ total: 6, imported: 5, duplicate: 0, error: 1, skipped: 0, withFace: 1 });
    expect(report.problems).toEqual([
      expect.objectContaining({ path: join(src, 'broken.jpg'), outcome: 'error', reason: expect.stringMatching(/not an image/) }),
    ]);
    expect(Math.max(...progress)).toBe(6);

    const page = await call('datasets:items', { datasetId: dataset.id, sort: 'id', limit: 500 });
    expect(page.total).toBe(5);
    const astronaut = page.items.find((i) => i.sourcePath === join(src, 'astronaut.png'))!;
    expect(astronaut).toMatchObject({ hasFace: true, faceCount: 1 });
    expect((await call('datasets:items', { datasetId: dataset.id, hasFace: true })).items.map((i) => i.id)).toEqual([astronaut.id]);

    // Accept two (one already tagged), then undo: everything returns to what it was.
    const ids = page.items.map((i) => i.id);
    await call('datasets:update-items', [ids[0]!], { addTags: ['age:adult'], rating: 2 });
    const change = await call('datasets:update-items', ids.slice(0, 2), { status: 'accepted', rating: 5, addTags: ['keep'] });
    expect(change.updated).toBe(2);
    expect(change.previous).toEqual([
      { id: ids[0], status: 'pending', rating: 2, notes: '', tags: ['age:adult'] },
      { id: ids[1], status: 'pending', rating: 0, notes: '', tags: [] },
    ]);
    expect((await call('datasets:stats', dataset.id)).byStatus).toEqual({ pending: 3, accepted: 2, rejected: 0 });
    expect(await call('datasets:tags', dataset.id)).toEqual([
      { name: 'age:adult', count: 1 },
      { name: 'keep', count: 2 },
    ]);
    expect(await call('datasets:restore-items', change.previous)).toEqual({ updated: 2 });
    const restored = await call('datasets:items', { datasetId: dataset.id, limit: 2 });
    expect(restored.items.map((i: ItemInfo) => [i.status, i.rating, i.tags])).toEqual([
      ['pending', 2, ['age:adult']],
      ['pending', 0, []],
    ]);
    const stats = await call('datasets:stats', dataset.id);
    expect(stats).toMatchObject({ total: 5, byStatus: { pending: 5, accepted: 0, rejected: 0 }, faces: { found: 1, notFound: 4 } });
    expect(await studio.handle('datasets:update-items', [[ids[0]!, 123_456], { status: 'rejected' }])).toMatchObject({
      ok: false,
      error: { code: 'not-found', message: expect.stringContaining('123456') },
    });
    // The failed change touched nothing.
    expect((await call('datasets:items', { datasetId: dataset.id, status: 'rejected' })).total).toBe(0);

    const dupes = await call('datasets:duplicates', dataset.id, null);
    expect(dupes).toMatchObject({ datasetId: dataset.id, maxDistance: 6, groupCount: 0, groups: [] });

    expect(studio.blobs.info(astronaut.imageSha)?.refcount).toBe(1);
    await call('datasets:delete', dataset.id);
    expect(studio.blobs.info(astronaut.imageSha)).toBeNull();
    expect(studio.blobs.info(astronaut.thumbSha)).toBeNull();
  });

  it('resumes an interrupted import job from its work list: nothing lost, nothing twice', async () => {
    const src = await photoFolder(40);
    const dataset = await call('datasets:create', { name: 'interrupted', kind: 'photos' });
    let jobId: string | null = null;
    const started = jobWhere(studio, () => jobId, (job) => job.status === 'running' && job.progress.step > 0);
    jobId = (await call('datasets:import', { datasetId: dataset.id, paths: [src], pairs: false, detectFaces: false })).id;
    await started;
    await studio.close();

    studio = await Studio.open({ dataDir: join(temp.dir, 'data'), host: 'browser', version: '0.0.0-test' });
    const before = (await call('jobs:get', jobId)).status;
    if (before === 'interrupted') {
      const finished = jobWhere(studio, () => jobId, isFinished);
      await call('jobs:resume', jobId);
      expect((await finished).status).toBe('succeeded');
    } else {
      // The worker finished its last batch before the close reached it.
      expect(before).toBe('succeeded');
    }
    const job = await call('jobs:get', jobId);
    expect((job.result as ImportReport).counts).toMatchObject({ total: 42, imported: 41, error: 1 });
    expect((await call('datasets:items', { datasetId: dataset.id })).total).toBe(41);
  });

  it('cancels an import job; what was committed stays', async () => {
    const src = await photoFolder(40);
    const dataset = await call('datasets:create', { name: 'cancelled', kind: 'photos' });
    let jobId: string | null = null;
    const started = jobWhere(studio, () => jobId, (job) => job.status === 'running' && job.progress.step > 0);
    const finished = jobWhere(studio, () => jobId, isFinished);
    jobId = (await call('datasets:import', { datasetId: dataset.id, paths: [src], pairs: false, detectFaces: false })).id;
    await started;
    await call('jobs:cancel', jobId);
    const job = await finished;
    expect(['cancelled', 'succeeded']).toContain(job.status);
    const items = (await call('datasets:items', { datasetId: dataset.id })).total;
    expect(items).toBeGreaterThan(0);
    expect(items).toBeLessThanOrEqual(41);
  });
});
