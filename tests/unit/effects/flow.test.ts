// Style space, channel relevance and edits on the tiny teacher with the tiny CLIP (real ORT sessions on CPU).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byteLevelVocabulary, loadClip, writeTinyClip, type ClipModel } from '../../../src/main/engine/clip/index.ts';
import { makeRandomTeacherWeights, Teacher, TeacherSampler } from '../../../src/main/engine/teacher/index.ts';
import { applyEdit, styleEdit, textDirection } from '../../../src/main/effects/global-directions.ts';
import { computeRelevance } from '../../../src/main/effects/relevance.ts';
import { StyleSpace, type StyleStats } from '../../../src/main/effects/style-space.ts';

let dir: string;
let clip: ClipModel;
let teacher: Teacher;
let space: StyleSpace;
let stats: StyleStats;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'effects-flow-'));
  await writeTinyClip(join(dir, 'clip'), byteLevelVocabulary());
  clip = await loadClip(join(dir, 'clip'), { providers: ['cpu'], threads: 1 });
  teacher = new Teacher(makeRandomTeacherWeights());
  space = await StyleSpace.create(teacher, { batch: 32, providers: ['cpu'], threads: 1, truncationCutoff: null });
  stats = await space.channelStats(512, 0.7);
});
afterAll(async () => {
  await space?.release();
  await clip?.release();
  rmSync(dir, { recursive: true, force: true });
});

describe('StyleSpace', () => {
  it('lays out the tiny teacher’s styles (208 editable channels, toRGB excluded)', () => {
    const { layout } = space;
    expect(layout.total).toBe(teacher.config.layers.reduce((n, l) => n + l.inChannels, 0));
    expect(layout.channels.length).toBe(208);
    const torgb = layout.layers.find((l) => l.kind === 'torgb')!;
    expect([...layout.channels].some((p) => p >= torgb.offset && p < torgb.offset + torgb.size)).toBe(false);
  });

  it('renders the same images as the teacher engine’s own z → image generator', async () => {
    const seeds = [3, 5, 8];
    const sampler = await TeacherSampler.create(teacher, { batch: 4, providers: ['cpu'], threads: 1, noise: 'const' });
    try {
      const reference = await sampler.render(seeds, 0.7);
      const mine = await space.render(await space.stylesOfSeeds(seeds, 0.7));
      expect(mine.length).toBe(reference.images.length);
      let maxDiff = 0;
      for (let i = 0; i < mine.length; i++) maxDiff = Math.max(maxDiff, Math.abs(mine[i]! - reference.images[i]!));
      expect(maxDiff).toBeLessThan(1e-4);
    } finally {
      await sampler.release();
    }
  });

  it('computes channel mean and σ as a direct two-pass computation does', async () => {
    const s = await space.stylesOfSeeds(Array.from({ length: 512 }, (_, i) => i), 0.7);
    const total = space.layout.total;
    for (const pos of [0, 17, space.layout.channels[200]!, total - 1]) {
      let mean = 0;
      for (let n = 0; n < 512; n++) mean += s[n * total + pos]! / 512;
      let v = 0;
      for (let n = 0; n < 512; n++) v += (s[n * total + pos]! - mean) ** 2 / 512;
      expect(stats.mean[pos]).toBeCloseTo(mean, 4);
      expect(stats.std[pos]).toBeCloseTo(Math.sqrt(v), 4);
      expect(stats.std[pos]).toBeGreaterThan(0);
    }
  });
});

describe('relevance and edits', () => {
  let directions: Float32Array;
  let base: Float32Array;

  beforeAll(async () => {
    base = await space.stylesOfSeeds([100, 101, 102, 103], 0.7);
    directions = new Float32Array(space.layout.channels.length * clip.dim);
    await computeRelevance(space, clip.image, { baseStyles: base, std: stats.std, fromChannel: 0, directions, chunk: 64 });
  });

  it('gives every channel a unit CLIP direction', () => {
    for (let c = 0; c < space.layout.channels.length; c++) {
      expect(Math.hypot(...directions.subarray(c * clip.dim, (c + 1) * clip.dim))).toBeCloseTo(1, 4);
    }
  });

  it('resumes from a later channel to the same directions', async () => {
    const resumed = new Float32Array(directions.length);
    resumed.set(directions.subarray(0, 100 * clip.dim));
    const done: number[] = [];
    await computeRelevance(space, clip.image, { baseStyles: base, std: stats.std, fromChannel: 100, directions: resumed, chunk: 50, onChunk: (n) => void done.push(n) });
    expect(done).toEqual([150, 200, 208]);
    for (let i = 0; i < directions.length; i++) expect(resumed[i]).toBeCloseTo(directions[i]!, 5);
  });

  it('edits the images only when some channel passes β and α ≠ 0', async () => {
    const dt = await textDirection(clip.text, 'a face with a white beard', 'a face');
    const sigma = Float32Array.from(space.layout.channels, (p) => stats.std[p]!);
    const original = await space.render(base);
    const loose = styleEdit(directions, dt, sigma, 0);
    expect(loose.touched).toBe(208);
    const changed = await space.render(applyEdit(base, 4, space.layout.channels, loose.delta, 4.1));
    expect(changed.some((v, i) => Math.abs(v - original[i]!) > 1e-3)).toBe(true);
    expect([...(await space.render(applyEdit(base, 4, space.layout.channels, loose.delta, 0)))]).toEqual([...original]);
    const strict = styleEdit(directions, dt, sigma, 1.01);
    expect(strict.touched).toBe(0);
    expect([...(await space.render(applyEdit(base, 4, space.layout.channels, strict.delta, 4.1)))]).toEqual([...original]);
  });
});
