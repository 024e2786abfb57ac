// Teachers through the studio service: requests validated, and import / preview / sample jobs in the product job worker.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorCode, JobInfo, Result } from '../../../src/shared/contract.ts';
import type {
  TeacherInfo,
  TeacherPreviewResult,
  TeacherSampleProvenance,
  TeacherSampleResult,
} from '../../../src/shared/teachers/types.ts';
import { writeSafetensorsFile } from '../../../src/main/engine/safetensors/index.ts';
import { makeRandomTeacherWeights, toRosinalityTensors } from '../../../src/main/engine/teacher/index.ts';
import { Studio } from '../../../src/main/services/studio.ts';
import { makeTempDir } from '../core/temp-dir.ts';
import { buildOnnxGenerator } from './onnx-fixture.ts';

let temp: ReturnType<typeof makeTempDir>;
let studio: Studio;

function open(): Promise<Studio> {
  return Studio.open({ dataDir: temp.dir, host: 'browser', version: '0.0.0-test', log: () => undefined });
}

beforeEach(async () => {
  temp = makeTempDir();
  studio = await open();
});
afterEach(async () => {
  await studio.close();
  temp.cleanup();
});

function value<T>(result: Result<unknown>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value as T;
}

function expectError(result: Result<unknown>, code: ErrorCode, message: RegExp): void {
  expect(result.ok ? null : result.error.code).toBe(code);
  if (!result.ok) expect(result.error.message).toMatch(message);
}

/** Resolves when the job reaches a final state, or when `until` holds for one of its updates. */
function waitFor(id: string, until: (job: JobInfo) => boolean = (job) => ['succeeded', 'failed', 'cancelled'].includes(job.status)): Promise<JobInfo> {
  return new Promise((resolve) => {
    const off = studio.onEvent((_, job) => {
      if (job.id === id && until(job)) {
        off();
        resolve(job);
      }
    });
  });
}

describe('teachers requests', () => {
  it('make-tiny, list, rename, delete, with not-found and conflict answers', async () => {
    const tiny = value<TeacherInfo>(await studio.handle('teachers:make-tiny', ['Demo']));
    expectError(await studio.handle('teachers:make-tiny', ['Demo']), 'conflict', /Demo/);
    expect(value<TeacherInfo[]>(await studio.handle('teachers:list', [])).map((t) => t.name)).toEqual(['Demo']);
    expect(value<TeacherInfo>(await studio.handle('teachers:rename', [tiny.id, 'Renamed'])).name).toBe('Renamed');
    expectError(await studio.handle('teachers:get', [tiny.id + 1]), 'not-found', /No teacher with id/);
    expect(value<null>(await studio.handle('teachers:delete', [tiny.id]))).toBeNull();
    expectError(await studio.handle('teachers:delete', [tiny.id]), 'not-found', /No teacher/);
  });

  it('refuses out-of-range fields by name and queues nothing', async () => {
    const tiny = value<TeacherInfo>(await studio.handle('teachers:make-tiny', ['t']));
    const sample = { teacherId: tiny.id, count: 10, psi: 0.7, seed: 0, datasetName: 'd' };
    expectError(await studio.handle('teachers:sample', [{ ...sample, psi: 2.5 }]), 'invalid-request', /params\[0\]\.psi/);
    expectError(await studio.handle('teachers:sample', [{ ...sample, count: 1_000_001 }]), 'invalid-request', /params\[0\]\.count/);
    expectError(await studio.handle('teachers:sample', [{ ...sample, seed: -1 }]), 'invalid-request', /params\[0\]\.seed/);
    expectError(await studio.handle('teachers:sample', [{ ...sample, datasetName: ' ' }]), 'invalid-request', /datasetName/);
    expectError(await studio.handle('teachers:sample', [{ ...sample, teacherId: 99 }]), 'not-found', /No teacher with id 99/);
    expectError(await studio.handle('teachers:make-tiny', ['x'.repeat(121)]), 'invalid-request', /params\[0\]/);
    expectError(await studio.handle('teachers:import', [{ path: join(temp.dir, 'none.safetensors'), name: 'n' }]), 'invalid-request', /No file at/);
    expectError(
      await studio.handle('jobs:start', [{ kind: 'teacher-preview', params: { teacherId: tiny.id, seeds: [], psi: 1 } }]),
      'invalid-request',
      /seeds/,
    );
    expect(value<JobInfo[]>(await studio.handle('jobs:list', []))).toEqual([]);
  });
});

describe('teacher jobs in the worker', () => {
  it('imports a rosinality file, previews it, samples it into a dataset', async () => {
    const path = join(temp.dir, 'g.safetensors');
    await writeSafetensorsFile(path, toRosinalityTensors(makeRandomTeacherWeights({ seed: 3 }), 'g_ema.'));
    const importJob = value<JobInfo>(await studio.handle('teachers:import', [{ path, name: 'Imported' }]));
    const imported = await waitFor(importJob.id);
    expect(imported.status, imported.error ?? '').toBe('succeeded');
    const teacher = imported.result as TeacherInfo;
    expect(teacher).toMatchObject({ name: 'Imported', format: 'rosinality' });

    const previewJob = value<JobInfo>(
      await studio.handle('jobs:start', [{ kind: 'teacher-preview', params: { teacherId: teacher.id, seeds: [1, 2, 3, 4], psi: 0.7 } }]),
    );
    const preview = await waitFor(previewJob.id);
    expect(preview.status, preview.error ?? '').toBe('succeeded');
    const result = preview.result as TeacherPreviewResult;
    expect(result.images.map((i) => i.seed)).toEqual([1, 2, 3, 4]);
    for (const image of result.images) expect((await studio.blobs.read(image.sha256)).subarray(1, 4).toString()).toBe('PNG');

    const sampleJob = value<JobInfo>(
      await studio.handle('teachers:sample', [{ teacherId: teacher.id, count: 10, psi: 0.7, seed: 40, datasetName: 'Synth' }]),
    );
    const sampled = await waitFor(sampleJob.id);
    expect(sampled.status, sampled.error ?? '').toBe('succeeded');
    expect(sampled.progress).toMatchObject({ step: 10, total: 10 });
    const { datasetId } = sampled.result as TeacherSampleResult;
    expect(studio.datasets.store.getDataset(datasetId)).toMatchObject({ name: 'Synth', kind: 'synthetic', itemCount: 10 });
    expectError(
      await studio.handle('teachers:sample', [{ teacherId: teacher.id, count: 1, psi: 0.7, seed: 0, datasetName: 'Synth' }]),
      'conflict',
      /Synth/,
    );
  });

  it('an import of a broken file fails with the tensor named', async () => {
    const path = join(temp.dir, 'bad.safetensors');
    const tensors = toRosinalityTensors(makeRandomTeacherWeights({ seed: 3 }));
    tensors.delete('to_rgbs.0.conv.weight');
    await writeSafetensorsFile(path, tensors);
    const job = value<JobInfo>(await studio.handle('teachers:import', [{ path, name: 'Bad' }]));
    const done = await waitFor(job.id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/to_rgbs\.0\.conv\.weight/);
    expect(value<TeacherInfo[]>(await studio.handle('teachers:list', []))).toEqual([]);
  });

  it('a sample job interrupted by a restart resumes after its last batch; a cancelled one stops', async () => {
    const tiny = value<TeacherInfo>(await studio.handle('teachers:make-tiny', ['t']));
    const job = value<JobInfo>(
      await studio.handle('teachers:sample', [{ teacherId: tiny.id, count: 96, psi: 0.5, seed: 0, datasetName: 'R' }]),
    );
    await waitFor(job.id, (j) => j.progress.step >= 16);
    await studio.close();
    studio = await open();
    expect(value<JobInfo>(await studio.handle('jobs:get', [job.id])).status).toBe('interrupted');
    const finished = waitFor(job.id);
    value<JobInfo>(await studio.handle('jobs:resume', [job.id]));
    const done = await finished;
    expect(done.status, done.error ?? '').toBe('succeeded');
    const { datasetId } = done.result as TeacherSampleResult;
    const items = studio.datasets.store.listItems({ datasetId, limit: 1000 }).items;
    expect(items.map((i) => (i.provenance as TeacherSampleProvenance).seed).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 96 }, (_, i) => i),
    );

    const big = value<JobInfo>(
      await studio.handle('teachers:sample', [{ teacherId: tiny.id, count: 1_000_000, psi: 0.5, seed: 0, datasetName: 'Big' }]),
    );
    await waitFor(big.id, (j) => j.progress.step >= 8);
    const cancelled = waitFor(big.id);
    value<JobInfo>(await studio.handle('jobs:cancel', [big.id]));
    expect((await cancelled).status).toBe('cancelled');
  });
});

describe('black-box ONNX teachers through the studio', () => {
  it('imports a declared .onnx generator in the worker, previews and samples it; refuses ψ ≠ 1 and an undeclared .onnx', async () => {
    const path = join(temp.dir, 'generator.onnx');
    writeFileSync(path, buildOnnxGenerator({ dim: 8, batch: 2, resolution: 8 }));
    expectError(await studio.handle('teachers:import', [{ path, name: 'Box' }]), 'invalid-request', /is an ONNX model: declare its input/);
    const onnx = { input: 'z', inputName: 'z', dim: 8, outputName: 'image', range: '-1,1' } as const;
    expectError(await studio.handle('teachers:import', [{ path, name: 'Box', onnx: { ...onnx, range: '0,255' } }]), 'invalid-request', /params\[0\]\.onnx\.range/);

    const wrong = await waitFor(value<JobInfo>(await studio.handle('teachers:import', [{ path, name: 'Box', onnx: { ...onnx, dim: 9 } }])).id);
    expect(wrong.status).toBe('failed');
    expect(wrong.error).toMatch(/input "z" float32\[2,8\] does not match the declared latent: expected float32\[batch,9\]/);

    const imported = await waitFor(value<JobInfo>(await studio.handle('teachers:import', [{ path, name: 'Box', onnx }])).id);
    expect(imported.status, imported.error ?? '').toBe('succeeded');
    const teacher = imported.result as TeacherInfo;
    expect(teacher).toMatchObject({ format: 'onnx', styleSpace: false, architecture: null, resolution: 8 });

    expectError(
      await studio.handle('jobs:start', [{ kind: 'teacher-preview', params: { teacherId: teacher.id, seeds: [1], psi: 0.7 } }]),
      'invalid-request',
      /ψ must be 1/,
    );
    expectError(
      await studio.handle('teachers:sample', [{ teacherId: teacher.id, count: 3, psi: 0.7, seed: 0, datasetName: 'Box samples' }]),
      'invalid-request',
      /truncation ψ does not apply/,
    );
    const preview = await waitFor(
      value<JobInfo>(await studio.handle('jobs:start', [{ kind: 'teacher-preview', params: { teacherId: teacher.id, seeds: [1, 2, 3], psi: 1 } }])).id,
    );
    expect(preview.status, preview.error ?? '').toBe('succeeded');
    expect((preview.result as TeacherPreviewResult).images.map((i) => i.seed)).toEqual([1, 2, 3]);

    const sampled = await waitFor(
      value<JobInfo>(await studio.handle('teachers:sample', [{ teacherId: teacher.id, count: 3, psi: 1, seed: 0, datasetName: 'Box samples' }])).id,
    );
    expect(sampled.status, sampled.error ?? '').toBe('succeeded');
    const { datasetId } = sampled.result as TeacherSampleResult;
    expect(studio.datasets.store.getDataset(datasetId)).toMatchObject({ kind: 'synthetic', itemCount: 3 });
  });
});
