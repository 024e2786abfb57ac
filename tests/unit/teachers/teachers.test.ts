// Teachers: import (both namings, checked), the tiny demo teacher, previews, and sampling a resumable synthetic dataset.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TeacherSampleProvenance } from '../../../src/shared/teachers/types.ts';
import { BlobStore } from '../../../src/main/core/blob-store.ts';
import { migrate, type Database } from '../../../src/main/core/db/database.ts';
import { MIGRATIONS } from '../../../src/main/core/db/migrations/index.ts';
import { DatasetStore } from '../../../src/main/datasets/store.ts';
import { serializeSafetensors, writeSafetensorsFile } from '../../../src/main/engine/safetensors/index.ts';
import {
  makeRandomTeacherWeights,
  Teacher,
  TeacherImportError,
  TeacherSampler,
  toNvidiaTensors,
  toRosinalityTensors,
} from '../../../src/main/engine/teacher/index.ts';
import { renderPreview, sampleToDataset, toPixels, type SampleCheckpoint } from '../../../src/main/teachers/render.ts';
import { TeacherExistsError, TeacherNotFoundError, TeacherStore } from '../../../src/main/teachers/store.ts';
import { importTeacher, loadStoredTeacher, makeTinyTeacher, TeacherRequestError } from '../../../src/main/teachers/weights.ts';

let dir: string;
let db: Database;
let blobs: BlobStore;
let teachers: TeacherStore;
let datasets: DatasetStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'effects-studio-teachers-'));
  db = new BetterSqlite3(join(dir, 'studio.db'));
  db.pragma('foreign_keys = ON');
  migrate(db, MIGRATIONS);
  blobs = new BlobStore(db, join(dir, 'blobs'));
  teachers = new TeacherStore(db, blobs);
  datasets = new DatasetStore(db, blobs);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function refcount(sha: string): number {
  return blobs.info(sha)?.refcount ?? -1;
}

/** Images of seeds from a fresh sampler on the given teacher, as 8-bit pixels. */
async function expectedPixels(teacher: Teacher, seeds: number[], psi: number): Promise<{ pixels: Buffer[]; ws: Float32Array }> {
  const sampler = await TeacherSampler.create(teacher, { batch: seeds.length, providers: ['cpu'] });
  try {
    const batch = await sampler.render(seeds, psi);
    return { pixels: seeds.map((_, i) => toPixels(batch.images, i, teacher.config).data as Buffer), ws: batch.ws };
  } finally {
    await sampler.release();
  }
}

async function decodePng(sha: string): Promise<Buffer> {
  return sharp(await blobs.read(sha)).raw().toBuffer();
}

describe('stored teachers', () => {
  it('makes the tiny demo teacher with its architecture, and refuses a second one under the same name', async () => {
    const info = await makeTinyTeacher(teachers, blobs, ' Demo ');
    expect(info).toMatchObject({ name: 'Demo', format: 'studio-random', wAvg: 'file' });
    expect(info.architecture).toMatchObject({ resolution: 32, zDim: 32, wDim: 32, mappingLayers: 2, numWs: 8, hasNoise: true });
    expect(info.parameterCount).toBeGreaterThan(10_000);
    expect(refcount(info.weightsSha256)).toBe(1);
    await expect(makeTinyTeacher(teachers, blobs, 'Demo')).rejects.toThrow(TeacherExistsError);
    expect(teachers.list().map((t) => t.name)).toEqual(['Demo']);
  });

  it('renames, refuses a taken name, and deletes with the weights released', async () => {
    const a = await makeTinyTeacher(teachers, blobs, 'a');
    await makeTinyTeacher(teachers, blobs, 'b');
    expect(teachers.rename(a.id, 'c').name).toBe('c');
    expect(() => teachers.rename(a.id, 'b')).toThrow(TeacherExistsError);
    expect(() => teachers.rename(999, 'x')).toThrow(TeacherNotFoundError);
    // Both tiny teachers share one weights blob (same content): two references.
    expect(refcount(a.weightsSha256)).toBe(2);
    teachers.delete(a.id);
    expect(refcount(a.weightsSha256)).toBe(1);
    expect(() => teachers.get(a.id)).toThrow(TeacherNotFoundError);
  });
});

describe('import from a file', () => {
  const weights = makeRandomTeacherWeights({ seed: 7 });

  it('reads NVIDIA and rosinality naming of the same generator to the same images', async () => {
    const nvidiaPath = join(dir, 'nvidia.safetensors');
    const rosinalityPath = join(dir, 'rosinality.safetensors');
    await writeSafetensorsFile(nvidiaPath, toNvidiaTensors(weights));
    await writeSafetensorsFile(rosinalityPath, toRosinalityTensors(weights, 'g_ema.'));
    const steps: string[] = [];
    const nvidia = await importTeacher(teachers, blobs, { path: nvidiaPath, name: 'nv' }, { onProgress: (_, __, m) => steps.push(m) });
    const rosinality = await importTeacher(teachers, blobs, { path: rosinalityPath, name: 'ros' });
    expect(nvidia.format).toBe('nvidia');
    expect(rosinality.format).toBe('rosinality');
    expect(nvidia.sourceSha256).not.toBe(rosinality.sourceSha256);
    expect(steps.at(-1)).toBe('Imported');
    const reference = await expectedPixels(new Teacher(weights), [3, 4], 0.7);
    for (const info of [nvidia, rosinality]) {
      const preview = await renderPreview(blobs, info, [3, 4], 0.7);
      expect(preview.provider).toBeTypeOf('string');
      for (const [i, image] of preview.images.entries()) {
        const got = await decodePng(image.sha256);
        let maxDiff = 0;
        for (let p = 0; p < got.length; p++) maxDiff = Math.max(maxDiff, Math.abs(got[p]! - reference.pixels[i]![p]!));
        expect(maxDiff, `${info.format} seed ${image.seed}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('names the missing tensor and its expected shape, and stores nothing', async () => {
    const tensors = toNvidiaTensors(weights);
    tensors.delete('synthesis.b8.conv1.weight');
    const path = join(dir, 'broken.safetensors');
    writeFileSync(path, serializeSafetensors(tensors));
    const error = await importTeacher(teachers, blobs, { path, name: 'broken' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TeacherImportError);
    expect((error as Error).message).toMatch('missing tensor "synthesis.b8.conv1.weight" (expected shape [32, 32, 3, 3])');
    expect(teachers.list()).toEqual([]);
    expect(db.prepare('SELECT count(*) AS n FROM blobs').get()).toEqual({ n: 0 });
  });

  it('refuses a missing file, a folder, and a truncated file with clear messages', async () => {
    await expect(importTeacher(teachers, blobs, { path: join(dir, 'nope.safetensors'), name: 'x' })).rejects.toThrow(
      new TeacherRequestError(`No file at ${join(dir, 'nope.safetensors')}.`),
    );
    await expect(importTeacher(teachers, blobs, { path: dir, name: 'x' })).rejects.toThrow(/is not a regular file/);
    const bytes = serializeSafetensors(toNvidiaTensors(weights));
    const path = join(dir, 'short.safetensors');
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    await expect(importTeacher(teachers, blobs, { path, name: 'x' })).rejects.toThrow(/short\.safetensors/);
    expect(teachers.list()).toEqual([]);
  });

  it('refuses a taken name before reading the file', async () => {
    await makeTinyTeacher(teachers, blobs, 'taken');
    await expect(importTeacher(teachers, blobs, { path: join(dir, 'nope'), name: 'taken' })).rejects.toThrow(TeacherExistsError);
  });

  it('loads the stored weights back exactly', async () => {
    const path = join(dir, 'w.safetensors');
    await writeSafetensorsFile(path, toNvidiaTensors(weights));
    const info = await importTeacher(teachers, blobs, { path, name: 'w' });
    const loaded = await loadStoredTeacher(blobs, info);
    expect(loaded.weights.wAvg).toEqual(weights.wAvg);
    expect(loaded.weights.layers[3]!.weight).toEqual(weights.layers[3]!.weight);
  });
});

describe('sampling into a synthetic dataset', () => {
  it('writes seeds start…start+N−1 with image, thumbnail, pHash and provenance whose latent re-renders the image', async () => {
    const info = await makeTinyTeacher(teachers, blobs, 'tiny');
    const progress: [number, number][] = [];
    const result = await sampleToDataset(blobs, datasets, info, { teacherId: info.id, count: 10, psi: 0.7, seed: 100, datasetName: 'faces' }, {
      progress: (step, total) => progress.push([step, total]),
    });
    expect(result).toMatchObject({ datasetName: 'faces', count: 10 });
    expect(progress.at(-1)).toEqual([10, 10]);
    expect(progress.filter(([s]) => s > 0).map(([s]) => s)).toEqual([8, 10]);
    const dataset = datasets.getDataset(result.datasetId);
    expect(dataset.kind).toBe('synthetic');
    const page = datasets.listItems({ datasetId: dataset.id, limit: 100 });
    expect(page.items).toHaveLength(10);
    const provenance = page.items.map((item) => item.provenance as TeacherSampleProvenance);
    expect(provenance.map((p) => p.seed)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    expect(provenance.every((p) => p.teacherId === info.id && p.psi === 0.7 && p.source === 'teacher')).toBe(true);

    const teacher = await loadStoredTeacher(blobs, info);
    const seeds = [100, 105, 109];
    const expected = await expectedPixels(teacher, seeds, 0.7);
    const wsSize = teacher.config.numWs * teacher.config.wDim;
    for (const [k, seed] of seeds.entries()) {
      const item = page.items[seed - 100]!;
      expect(item.width).toBe(32);
      expect(item.phash).toMatch(/^[0-9a-f]{16}$/);
      expect(await decodePng(item.imageSha)).toEqual(expected.pixels[k]);
      const p = provenance[seed - 100]!;
      expect(p.latentShape).toEqual([teacher.config.numWs, teacher.config.wDim]);
      const latent = await blobs.read(p.latentSha256);
      expect(new Float32Array(latent.buffer, latent.byteOffset, latent.byteLength / 4)).toEqual(expected.ws.slice(k * wsSize, (k + 1) * wsSize));
      expect(refcount(p.latentSha256)).toBe(1);
    }
    // Deleting the dataset releases the latents too (migration 003's trigger).
    datasets.deleteDataset(dataset.id);
    expect(refcount(provenance[0]!.latentSha256)).toBe(0);
  });

  it('cancelled after the first batch, resumes from its checkpoint and writes each seed exactly once', async () => {
    const info = await makeTinyTeacher(teachers, blobs, 'tiny');
    const params = { teacherId: info.id, count: 12, psi: 0.5, seed: 0, datasetName: 'resumed' };
    const controller = new AbortController();
    let last: SampleCheckpoint | null = null;
    const first = sampleToDataset(blobs, datasets, info, params, {
      signal: controller.signal,
      saveCheckpoint: (state) => {
        last = state;
        if (state.done > 0) controller.abort(new Error('cancelled'));
      },
    });
    await expect(first).rejects.toThrow('cancelled');
    expect(last).toMatchObject({ done: 8 });
    const result = await sampleToDataset(blobs, datasets, info, params, { resumeFrom: last });
    expect(result.count).toBe(12);
    const items = datasets.listItems({ datasetId: result.datasetId, limit: 100 }).items;
    expect(items.map((item) => (item.provenance as TeacherSampleProvenance).seed).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 12 }, (_, i) => i),
    );
  });

  it('a batch re-run after a crash before its checkpoint adds no duplicates and leaks no latent', async () => {
    const info = await makeTinyTeacher(teachers, blobs, 'tiny');
    const params = { teacherId: info.id, count: 4, psi: 1, seed: 5, datasetName: 'again' };
    const done = await sampleToDataset(blobs, datasets, info, params);
    const again = await sampleToDataset(blobs, datasets, info, params, { resumeFrom: { datasetId: done.datasetId, done: 0 } });
    const items = datasets.listItems({ datasetId: again.datasetId, limit: 100 }).items;
    expect(items).toHaveLength(4);
    for (const item of items) expect(refcount((item.provenance as TeacherSampleProvenance).latentSha256)).toBe(1);
  });

  it('ψ = 0 gives every seed the same image (that of w_avg)', async () => {
    const info = await makeTinyTeacher(teachers, blobs, 'tiny');
    const preview = await renderPreview(blobs, info, [1, 2, 3], 0);
    expect(new Set(preview.images.map((i) => i.sha256)).size).toBe(1);
    const varied = await renderPreview(blobs, info, [1, 2, 3], 1);
    expect(new Set(varied.images.map((i) => i.sha256)).size).toBe(3);
  });
});
