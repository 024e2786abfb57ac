// Black-box ONNX teachers: import checked against the declared I/O, preview and sampling compared with the model run directly.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OnnxTeacherDeclaration, TeacherSampleProvenance } from '../../../src/shared/teachers/types.ts';
import { BlobStore } from '../../../src/main/core/blob-store.ts';
import { migrate, type Database } from '../../../src/main/core/db/database.ts';
import { MIGRATIONS } from '../../../src/main/core/db/migrations/index.ts';
import { DatasetStore } from '../../../src/main/datasets/store.ts';
import { latentFromSeed } from '../../../src/main/engine/teacher/index.ts';
import { importOnnxTeacher } from '../../../src/main/teachers/onnx.ts';
import { renderPreview, sampleToDataset, toPixels } from '../../../src/main/teachers/render.ts';
import { TeacherStore } from '../../../src/main/teachers/store.ts';
import { loadStoredTeacher, TeacherRequestError } from '../../../src/main/teachers/weights.ts';
import { buildOnnxGenerator, fixtureParameterCount, type OnnxGeneratorFixture } from './onnx-fixture.ts';

let dir: string;
let db: Database;
let blobs: BlobStore;
let teachers: TeacherStore;
let datasets: DatasetStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'effects-studio-onnx-teachers-'));
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

const Z: OnnxTeacherDeclaration = { input: 'z', inputName: 'z', dim: 16, outputName: 'image', range: '-1,1' };
const W_FIXTURE: OnnxGeneratorFixture = { inputName: 'w', dim: 12, batch: 4, resolution: 16, range: '0,1', seed: 5 };
const W: OnnxTeacherDeclaration = { input: 'w', inputName: 'w', dim: 12, outputName: 'image', range: '0,1' };

function writeModel(fixture: OnnxGeneratorFixture = {}, name = 'g.onnx'): { path: string; bytes: Uint8Array } {
  const bytes = buildOnnxGenerator(fixture);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

/** The model run directly in ONNX Runtime on each seed's latent, mapped to [-1, 1] and 8-bit pixels as a user would save it. */
async function runDirectly(bytes: Uint8Array, decl: OnnxTeacherDeclaration, batch: number, resolution: number, seeds: number[]): Promise<Buffer[]> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out: Buffer[] = [];
    for (const seed of seeds) {
      const z = new Float32Array(batch * decl.dim);
      z.set(latentFromSeed(seed, decl.dim));
      const result = await session.run({ [decl.inputName]: new ort.Tensor('float32', z, [batch, decl.dim]) });
      const image = (result[decl.outputName]!.data as Float32Array).slice(0, 3 * resolution * resolution);
      if (decl.range === '0,1') for (let i = 0; i < image.length; i++) image[i] = image[i]! * 2 - 1;
      out.push(Buffer.from(toPixels(image, 0, { resolution, imgChannels: 3 }).data));
    }
    return out;
  } finally {
    await session.release();
  }
}

async function pixelsOfBlob(sha: string): Promise<Buffer> {
  return sharp(await blobs.read(sha)).raw().toBuffer();
}

async function importAs(path: string, onnx: OnnxTeacherDeclaration, name = 'Black box'): Promise<ReturnType<typeof importOnnxTeacher>> {
  return importOnnxTeacher(teachers, blobs, { path, name, onnx });
}

describe('import of a plain ONNX generator', () => {
  it('stores a z → image model as a teacher without style space, reading its resolution from the output shape', async () => {
    const { path } = writeModel();
    const info = await importAs(path, Z);
    expect(info).toMatchObject({
      format: 'onnx',
      resolution: 8,
      architecture: null,
      styleSpace: false,
      wAvg: null,
      parameterCount: fixtureParameterCount(),
      onnx: { input: 'z', inputName: 'z', dim: 16, outputName: 'image', range: '-1,1', resolution: 8, imgChannels: 3, batch: 1 },
    });
    expect(teachers.get(info.id)).toEqual(info);
    await expect(loadStoredTeacher(blobs, info)).rejects.toThrow(/plain ONNX generator.*no StyleGAN2 style space/);
  });

  it('names the input when the declared one is missing, with what the model has', async () => {
    const { path } = writeModel();
    await expect(importAs(path, { ...Z, inputName: 'latent' })).rejects.toThrow(
      /no input "latent"; its inputs are "z" float32\[1,16\]/,
    );
  });

  it('names the input and both shapes when the declared dimension is wrong', async () => {
    const { path } = writeModel();
    await expect(importAs(path, { ...Z, dim: 512 })).rejects.toThrow(/input "z" float32\[1,16\] does not match the declared latent: expected float32\[batch,512\]/);
  });

  it('refuses an output that is not an image, naming it and its shape', async () => {
    const { path } = writeModel({ isFlat: true });
    await expect(importAs(path, Z)).rejects.toThrow(/output "image" float32\[1,192\] is not an image: expected an image float32\[batch,3,height,width\]/);
    const other = writeModel({}, 'other.onnx');
    await expect(importAs(other.path, { ...Z, outputName: 'rgb' })).rejects.toThrow(/no output "rgb"; its outputs are "image" float32\[1,3,8,8\]/);
    await expect(importAs(other.path, { ...Z, resolution: 64 })).rejects.toThrow(/is 8×8, but the declared resolution is 64/);
  });

  it('takes the declared resolution where the output shape leaves it open, and a test run catches a wrong one', async () => {
    const { path } = writeModel({ hasOpenOutputShape: true });
    await expect(importAs(path, Z)).rejects.toThrow(/output "image" float32\[1,\?,\?,\?\] leaves its height and width open; declare the resolution/);
    await expect(importAs(path, { ...Z, resolution: 16 })).rejects.toThrow(
      /a test run gave output "image" of shape \[1,3,8,8\]; expected an image \[1,3,16,16\]/,
    );
    expect(teachers.list()).toEqual([]);
    const info = await importAs(path, { ...Z, resolution: 8 });
    expect(info.onnx).toMatchObject({ resolution: 8, imgChannels: 3 });
  });

  it('refuses a file that is not an ONNX model, and stores nothing on any failed import', async () => {
    const path = join(dir, 'junk.onnx');
    writeFileSync(path, Buffer.from('this is not a protobuf at all, just text'));
    await expect(importAs(path, Z)).rejects.toThrow(TeacherRequestError);
    await expect(importAs(path, Z)).rejects.toThrow(/junk\.onnx: not an ONNX model/);
    expect(teachers.list()).toEqual([]);
    expect(db.prepare('SELECT count(*) AS n FROM blobs').get()).toEqual({ n: 0 });
  });
});

describe('black-box teachers in preview and sampling', () => {
  it('previews a z → image teacher with exactly the images the model gives for each seed’s latent', async () => {
    const { path, bytes } = writeModel();
    const info = await importAs(path, Z);
    const seeds = [0, 1, 7, 123];
    const preview = await renderPreview(blobs, info, seeds, 1);
    expect(preview.resolution).toBe(8);
    const direct = await runDirectly(bytes, Z, 1, 8, seeds);
    for (const [i, image] of preview.images.entries()) {
      expect(image.seed).toBe(seeds[i]);
      expect((await pixelsOfBlob(image.sha256)).equals(direct[i]!)).toBe(true);
    }
    // Different seeds give different faces.
    expect(direct[0]!.equals(direct[1]!)).toBe(false);
  });

  it('refuses ψ ≠ 1: truncation does not apply to a black box', async () => {
    const { path } = writeModel();
    const info = await importAs(path, Z);
    await expect(renderPreview(blobs, info, [0], 0.7)).rejects.toThrow(/truncation ψ does not apply to it, so ψ must be 1 \(got 0\.7\)/);
    await expect(
      sampleToDataset(blobs, datasets, info, { teacherId: info.id, count: 2, psi: 0.5, seed: 0, datasetName: 'x' }),
    ).rejects.toThrow(/ψ must be 1/);
    expect(datasets.findDataset('x')).toBeNull();
  });

  it('samples a w → image teacher ([0, 1] output, fixed batch 4) into a dataset whose items keep the seed and w', async () => {
    const { path, bytes } = writeModel(W_FIXTURE);
    const info = await importAs(path, W, 'W teacher');
    expect(info.onnx).toMatchObject({ input: 'w', dim: 12, resolution: 16, batch: 4, range: '0,1' });
    // 6 samples: one full batch of 4 and a padded batch of 2.
    const result = await sampleToDataset(blobs, datasets, info, { teacherId: info.id, count: 6, psi: 1, seed: 30, datasetName: 'W faces' });
    expect(result).toMatchObject({ datasetName: 'W faces', count: 6 });
    const items = datasets.listItems({ datasetId: result.datasetId, limit: 100 }).items;
    expect(items).toHaveLength(6);
    const seeds = items.map((item) => (item.provenance as TeacherSampleProvenance).seed).sort((a, b) => a - b);
    expect(seeds).toEqual([30, 31, 32, 33, 34, 35]);
    const direct = await runDirectly(bytes, W, 4, 16, seeds);
    for (const item of items) {
      const p = item.provenance as TeacherSampleProvenance;
      expect(p).toMatchObject({ source: 'teacher', teacherId: info.id, psi: 1, noise: null, latentKind: 'w', latentShape: [1, 12] });
      expect(item).toMatchObject({ width: 16, height: 16 });
      const latent = await blobs.read(p.latentSha256);
      expect(Array.from(new Float32Array(latent.buffer, latent.byteOffset, 12))).toEqual(Array.from(latentFromSeed(p.seed, 12)));
      expect((await pixelsOfBlob(item.imageSha)).equals(direct[seeds.indexOf(p.seed)]!)).toBe(true);
    }
  });
});
