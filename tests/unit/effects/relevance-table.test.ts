// The stored CLIP model and the relevance table: same embeddings as the folder, resume from a checkpoint, blob references kept exact.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TeacherInfo } from '../../../src/shared/teachers/types.ts';
import { byteLevelVocabulary, loadClip, writeTinyClip } from '../../../src/main/engine/clip/index.ts';
import { importClip, loadStoredClip } from '../../../src/main/effects/clip-store.ts';
import { computeRelevanceTable, releaseRelevanceCheckpoint, type RelevanceCheckpoint } from '../../../src/main/effects/edits.ts';
import { Studio } from '../../../src/main/services/studio.ts';
import { makeTempDir } from '../core/temp-dir.ts';

let temp: ReturnType<typeof makeTempDir>;
let studio: Studio;
let clipDir: string;

beforeEach(async () => {
  temp = makeTempDir();
  studio = await Studio.open({ dataDir: join(temp.dir, 'data'), host: 'browser', version: '0.0.0-test', log: () => undefined });
  clipDir = join(temp.dir, 'clip');
  await writeTinyClip(clipDir, byteLevelVocabulary());
});
afterEach(async () => {
  await studio.close();
  temp.cleanup();
});

function refs(sha: string): number {
  return studio.blobs.info(sha)?.refcount ?? 0;
}

async function directionsOf(teacher: TeacherInfo, clipId: number): Promise<Float32Array> {
  const table = studio.effects.store.findRelevance(teacher.id, clipId)!;
  return new Float32Array(Uint8Array.from(await studio.blobs.read(table.directionsSha)).buffer);
}

describe('stored CLIP models', () => {
  it('embed texts and images exactly as the folder they were imported from', async () => {
    const info = await importClip(studio.effects.store, studio.blobs, { path: clipDir, name: 'c' });
    const stored = await loadStoredClip(studio.blobs, studio.effects.store.getClip(info.id), { providers: ['cpu'], threads: 1 });
    const folder = await loadClip(clipDir, { providers: ['cpu'], threads: 1 });
    try {
      const texts = ['a face with a white beard', 'a photo of a smiling face.'];
      expect([...(await stored.text.encode(texts))]).toEqual([...(await folder.text.encode(texts))]);
      const image = { width: 32, height: 32, data: Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 37) % 256) };
      expect([...(await stored.image.encodeImages([image]))]).toEqual([...(await folder.image.encodeImages([image]))]);
    } finally {
      await stored.release();
      await folder.release();
    }
  });

  it('hold one reference on each blob, all released when the model is deleted', async () => {
    const info = await importClip(studio.effects.store, studio.blobs, { path: clipDir, name: 'c' });
    const clip = studio.effects.store.getClip(info.id);
    for (const sha of [clip.textSha, clip.visionSha, clip.config.tokenizerSha]) expect(refs(sha)).toBe(1);
    studio.effects.deleteClip(info.id);
    for (const sha of [clip.textSha, clip.visionSha, clip.config.tokenizerSha]) expect(refs(sha)).toBe(0);
  });
});

describe('the relevance table', () => {
  it('resumes a stopped run from its checkpoint to the directions of an uninterrupted run, and frees what it no longer needs', async () => {
    const teacher = await studio.teachers.makeTiny('t');
    const clip = await importClip(studio.effects.store, studio.blobs, { path: clipDir, name: 'c' });
    const params = { teacherId: teacher.id, clipId: clip.id, images: 2, statsSamples: 64 };

    const stop = new AbortController();
    const saved: RelevanceCheckpoint[] = [];
    const stopped = computeRelevanceTable(studio.blobs, studio.effects.store, teacher, params, {
      signal: stop.signal,
      saveCheckpoint: (state) => {
        saved.push(state);
        if (state.done >= 96) stop.abort(new Error('paused'));
      },
    }, { saveEverySeconds: 0 });
    await expect(stopped).rejects.toThrow();
    const checkpoint = saved.at(-1)!;
    expect(checkpoint.done).toBe(96);
    // A stopped run keeps its checkpoint's blobs for the resume.
    expect(refs(checkpoint.statsSha)).toBe(1);
    expect(refs(checkpoint.partialSha!)).toBe(1);
    expect(studio.effects.store.findRelevance(teacher.id, clip.id)).toBeNull();

    const steps: number[] = [];
    const resumed = await computeRelevanceTable(studio.blobs, studio.effects.store, teacher, params, {
      resumeFrom: checkpoint,
      progress: (step) => steps.push(step),
    });
    expect(resumed).toMatchObject({ channels: 208, images: 2 });
    // Progress starts after the statistics and the 96 channels done before.
    expect(steps[0]).toBe(64 + 96);
    expect(refs(checkpoint.partialSha!)).toBe(0);
    const table = studio.effects.store.findRelevance(teacher.id, clip.id)!;
    expect(table.statsSha).toBe(checkpoint.statsSha);
    expect(refs(table.statsSha)).toBe(1);
    const afterResume = await directionsOf(teacher, clip.id);

    // Measuring again from scratch gives the same directions and replaces the old table's blobs.
    await computeRelevanceTable(studio.blobs, studio.effects.store, teacher, params);
    const fresh = await directionsOf(teacher, clip.id);
    for (let i = 0; i < fresh.length; i++) expect(afterResume[i]).toBeCloseTo(fresh[i]!, 6);
    const replaced = studio.effects.store.findRelevance(teacher.id, clip.id)!;
    if (replaced.statsSha !== table.statsSha) expect(refs(table.statsSha)).toBe(0);
    expect(refs(replaced.directionsSha)).toBe(1);

    // Deleting the teacher deletes its table and releases both blobs.
    studio.teachers.delete(teacher.id);
    expect(refs(replaced.directionsSha)).toBe(0);
    expect(refs(replaced.statsSha)).toBe(0);
  });

  it('lets go of a stopped run’s blobs when its job is cancelled for good', async () => {
    const teacher = await studio.teachers.makeTiny('t');
    const clip = await importClip(studio.effects.store, studio.blobs, { path: clipDir, name: 'c' });
    const stop = new AbortController();
    let checkpoint: RelevanceCheckpoint | null = null;
    const stopped = computeRelevanceTable(studio.blobs, studio.effects.store, teacher, { teacherId: teacher.id, clipId: clip.id, images: 2, statsSamples: 64 }, {
      signal: stop.signal,
      saveCheckpoint: (state) => {
        checkpoint = state;
        if (state.done >= 96) stop.abort(new Error('cancelled'));
      },
    }, { saveEverySeconds: 0 });
    await expect(stopped).rejects.toThrow();
    const { statsSha, partialSha } = checkpoint!;
    expect([refs(statsSha), refs(partialSha!)]).toEqual([1, 1]);
    releaseRelevanceCheckpoint(studio.blobs, checkpoint);
    expect([refs(statsSha), refs(partialSha!)]).toEqual([0, 0]);
    await studio.blobs.sweep({ graceMs: 0 });
    expect(studio.blobs.info(partialSha!)).toBeNull();
  });
});
