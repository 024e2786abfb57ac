// Effects through the studio service: CLIP import, relevance, prompts, previews and pairs in the product job worker.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorCode, JobInfo, Result } from '../../../src/shared/contract.ts';
import type { ItemPage } from '../../../src/shared/datasets/types.ts';
import type {
  ClipModelInfo,
  EffectPairProvenance,
  EffectPairsResult,
  EffectPreviewResult,
  PromptInfo,
  RelevanceInfo,
  RelevanceResult,
} from '../../../src/shared/effects/types.ts';
import type { TeacherInfo } from '../../../src/shared/teachers/types.ts';
import { byteLevelVocabulary, writeTinyClip } from '../../../src/main/engine/clip/index.ts';
import { Studio } from '../../../src/main/services/studio.ts';
import { makeTempDir } from '../core/temp-dir.ts';

let temp: ReturnType<typeof makeTempDir>;
let studio: Studio;

beforeEach(async () => {
  temp = makeTempDir();
  studio = await Studio.open({ dataDir: join(temp.dir, 'data'), host: 'browser', version: '0.0.0-test', log: () => undefined });
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

/** Resolves with the job once it reaches a final state. */
function finished(id: string): Promise<JobInfo> {
  return new Promise((resolve) => {
    const off = studio.onEvent((_, job) => {
      if (job.id === id && ['succeeded', 'failed', 'cancelled'].includes(job.status)) {
        off();
        resolve(job);
      }
    });
  });
}

async function run<T>(job: Result<unknown>): Promise<T> {
  const info = value<JobInfo>(job);
  const done = await finished(info.id);
  if (done.status !== 'succeeded') throw new Error(`${info.kind} ${done.status}: ${done.error}`);
  return done.result as T;
}

async function tinyClipFolder(): Promise<string> {
  const dir = join(temp.dir, 'clip-tiny');
  await writeTinyClip(dir, byteLevelVocabulary());
  return dir;
}

async function pixelsOf(sha: string): Promise<Buffer> {
  return sharp(await studio.blobs.read(sha)).raw().toBuffer();
}

describe('CLIP models', () => {
  it('imports a CLIP folder as a job, lists it, refuses a taken name or a bad folder, and deletes it', async () => {
    const dir = await tinyClipFolder();
    const clip = await run<ClipModelInfo>(await studio.handle('clips:import', [{ path: dir, name: 'Tiny CLIP' }]));
    expect(clip).toMatchObject({ name: 'Tiny CLIP', dim: 32, layout: 'towers', imageSize: { width: 32, height: 32 }, sourceDir: dir });
    expect(clip.bytes).toBeGreaterThan(0);
    expect(value<ClipModelInfo[]>(await studio.handle('clips:list', []))).toEqual([clip]);

    expectError(await studio.handle('clips:import', [{ path: dir, name: 'Tiny CLIP' }]), 'conflict', /"Tiny CLIP" exists already/);
    const empty = join(temp.dir, 'empty');
    mkdirSync(empty);
    expectError(await studio.handle('clips:import', [{ path: empty, name: 'x' }]), 'invalid-request', /holds no CLIP ONNX export/);
    const noTokenizer = join(temp.dir, 'no-tokenizer');
    await writeTinyClip(noTokenizer, byteLevelVocabulary());
    rmSync(join(noTokenizer, 'merges.txt'));
    expectError(await studio.handle('clips:import', [{ path: noTokenizer, name: 'y' }]), 'invalid-request', /no CLIP tokenizer/);

    expect(value<null>(await studio.handle('clips:delete', [clip.id]))).toBeNull();
    expect(value<ClipModelInfo[]>(await studio.handle('clips:list', []))).toEqual([]);
    expectError(await studio.handle('clips:delete', [clip.id]), 'not-found', /No CLIP model with id/);
  });
});

describe('prompts', () => {
  it('saves a prompt once per text pair, updates α/β and the favourite mark, lists favourites first, deletes', async () => {
    const teacher = value<TeacherInfo>(await studio.handle('teachers:make-tiny', ['t']));
    const smile = value<PromptInfo>(await studio.handle('effects:save-prompt', [{ teacherId: teacher.id, target: ' a smiling face ', neutral: 'a face', alpha: 4.1, beta: 0.15 }]));
    expect(smile).toMatchObject({ target: 'a smiling face', neutral: 'a face', alpha: 4.1, beta: 0.15, isFavorite: false });
    const beard = value<PromptInfo>(await studio.handle('effects:save-prompt', [{ teacherId: teacher.id, target: 'a face with a beard', neutral: 'a face', alpha: 3, beta: 0.1 }]));
    const again = value<PromptInfo>(await studio.handle('effects:save-prompt', [{ teacherId: teacher.id, target: 'a smiling face', neutral: 'a face', alpha: -2, beta: 0.2, isFavorite: true }]));
    expect(again).toMatchObject({ id: smile.id, alpha: -2, beta: 0.2, isFavorite: true });
    expect(value<PromptInfo[]>(await studio.handle('effects:prompts', [teacher.id])).map((p) => p.id)).toEqual([smile.id, beard.id]);

    expectError(await studio.handle('effects:save-prompt', [{ teacherId: teacher.id, target: '  ', neutral: 'a face', alpha: 1, beta: 0.1 }]), 'invalid-request', /params\[0\]\.target/);
    expectError(await studio.handle('effects:save-prompt', [{ teacherId: teacher.id, target: 'x', neutral: 'a face', alpha: 11, beta: 0.1 }]), 'invalid-request', /params\[0\]\.alpha/);
    expectError(await studio.handle('effects:save-prompt', [{ teacherId: 99, target: 'x', neutral: 'y', alpha: 1, beta: 0.1 }]), 'not-found', /No teacher with id 99/);

    expect(value<null>(await studio.handle('effects:delete-prompt', [beard.id]))).toBeNull();
    expectError(await studio.handle('effects:delete-prompt', [beard.id]), 'not-found', /No prompt with id/);
    expect(value<PromptInfo[]>(await studio.handle('effects:prompts', [teacher.id])).map((p) => p.id)).toEqual([smile.id]);
  });
});

describe('edits from prompts', () => {
  it('refuses an edit before the relevance table exists, then measures it, previews the edit and writes a pairs dataset', async () => {
    const teacher = value<TeacherInfo>(await studio.handle('teachers:make-tiny', ['Tiny']));
    const clip = await run<ClipModelInfo>(await studio.handle('clips:import', [{ path: await tinyClipFolder(), name: 'clip' }]));
    const spec = { teacherId: teacher.id, clipId: clip.id, target: 'a face with a white beard', neutral: 'a face', beta: 0 };
    expectError(await studio.handle('effects:preview', [{ ...spec, seeds: [1], psi: 0.7, alphas: [4] }]), 'conflict', /no channel relevance .* compute it first/);
    expectError(await studio.handle('effects:compute-relevance', [{ teacherId: teacher.id, clipId: 42, images: 2, statsSamples: 64 }]), 'not-found', /No CLIP model with id 42/);

    const table = await run<RelevanceResult>(await studio.handle('effects:compute-relevance', [{ teacherId: teacher.id, clipId: clip.id, images: 2, statsSamples: 64 }]));
    expect(table).toMatchObject({ teacherId: teacher.id, clipId: clip.id, images: 2, channels: 208, dim: 32, provider: 'cpu' });
    expect(value<RelevanceInfo[]>(await studio.handle('effects:relevance', [teacher.id]))).toEqual([
      { teacherId: teacher.id, clipId: clip.id, images: 2, channels: 208, dim: 32, createdAt: table.createdAt },
    ]);

    // β = 0 keeps every channel, so α moves the image; α = 0 reproduces the original exactly.
    const preview = await run<EffectPreviewResult>(await studio.handle('effects:preview', [{ ...spec, seeds: [3, 4], psi: 0.7, alphas: [0, 6] }]));
    expect(preview).toMatchObject({ touched: 208, channels: 208, resolution: 32, alphas: [0, 6] });
    expect(preview.images.map((i) => i.seed)).toEqual([3, 4]);
    for (const image of preview.images) {
      const original = await pixelsOf(image.originalSha256);
      expect(await pixelsOf(image.editedSha256[0]!)).toEqual(original);
      expect((await pixelsOf(image.editedSha256[1]!)).equals(original)).toBe(false);
    }
    // The text direction comes back; passed in again it skips CLIP and gives the same images.
    expect(preview.direction).toHaveLength(32);
    expect(Math.hypot(...preview.direction)).toBeCloseTo(1, 5);
    const reused = await run<EffectPreviewResult>(await studio.handle('effects:preview', [{ ...spec, seeds: [3, 4], psi: 0.7, alphas: [0, 6], direction: preview.direction }]));
    expect(reused.images).toEqual(preview.images);
    expectError(
      await studio.handle('effects:preview', [{ ...spec, seeds: [3], psi: 0.7, alphas: [6], direction: [1, 0, 0] }]),
      'invalid-request',
      /the text direction has 3 values but the CLIP model embeds in 32/,
    );
    // β above every relevance touches nothing.
    const none = await run<EffectPreviewResult>(await studio.handle('effects:preview', [{ ...spec, beta: 1, seeds: [3], psi: 0.7, alphas: [6] }]));
    expect(none.touched).toBe(0);
    expect(none.images[0]!.editedSha256[0]).toBe(none.images[0]!.originalSha256);

    const pairs = await run<EffectPairsResult>(
      await studio.handle('effects:generate-pairs', [{ ...spec, alpha: 6, psi: 0.7, seed: 3, count: 10, datasetName: 'Beards' }]),
    );
    expect(pairs).toMatchObject({ datasetName: 'Beards', count: 10, touched: 208 });
    const page = value<ItemPage>(await studio.handle('datasets:items', [{ datasetId: pairs.datasetId }]));
    expect(page.total).toBe(10);
    const first = page.items.find((i) => (i.provenance as EffectPairProvenance).seed === 3)!;
    expect(first.provenance).toMatchObject({ source: 'effect', teacherId: teacher.id, clipName: 'clip', seed: 3, psi: 0.7, alpha: 6, beta: 0, target: 'a face with a white beard' });
    // The pair's original is the preview's original of the same seed, and its target the preview's edit at the same α.
    expect(first.imageSha).toBe(preview.images[0]!.originalSha256);
    expect(first.targetSha).toBe(preview.images[0]!.editedSha256[1]);

    expectError(await studio.handle('effects:generate-pairs', [{ ...spec, alpha: 6, psi: 0.7, seed: 3, count: 2, datasetName: 'Beards' }]), 'conflict', /Beards/);
  });
});
