// Effects benchmark: how long an edit preview takes (open, text direction, render) and how fast the relevance table fills,
// on a random-weight StyleGAN2 (config-f 256² by default) with the project's tiny CLIP-shaped encoders.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { byteLevelVocabulary, loadClip, TINY_CLIP, writeTinyClip, type ClipModel } from '../engine/clip/index.ts';
import { median } from '../engine/runtime/index.ts';
import { CONFIG_F_256, makeRandomTeacherWeights, Teacher, TINY_TEACHER } from '../engine/teacher/index.ts';
import { applyEdit, styleEdit, textDirection } from '../effects/global-directions.ts';
import { computeRelevance } from '../effects/relevance.ts';
import { StyleSpace } from '../effects/style-space.ts';

/** Options of the effects benchmark; the defaults are the published configuration. */
export interface EffectsBenchOptions {
  /** `config-f-256` (default) or `tiny` (32², a smoke run). */
  generator?: 'config-f-256' | 'tiny';
  /** Timed previews after one warm-up (default 3). */
  previews?: number;
  /** Seeds per preview (default 4, the Effects page's grid). */
  seeds?: number;
  /** Channels timed for the relevance rate (default 8, one chunk). */
  channels?: number;
}

/**
 * Times what the Effects page waits for: building the style space, the 79-template text direction, and one preview
 * (styles of the grid's seeds, originals and the edit at one α); then the relevance rate in renders (+ CLIP encodes)
 * per second, and the hours a StyleCLIP-sized table (100 images) would take at that rate. The CLIP towers are the
 * tiny ones, so CLIP's share of real timings is not in these numbers.
 */
export async function runEffectsBench(opts: EffectsBenchOptions = {}): Promise<Record<string, unknown>> {
  const generator = opts.generator ?? 'config-f-256';
  const previews = opts.previews ?? 3;
  const seedCount = opts.seeds ?? 4;
  const timedChannels = opts.channels ?? 8;
  const dir = mkdtempSync(join(tmpdir(), 'effects-bench-'));
  try {
    await writeTinyClip(join(dir, 'clip'), byteLevelVocabulary());
    const clip = await loadClip(join(dir, 'clip'), { shareCores: true });
    try {
      return await measure(clip, generator, previews, seedCount, timedChannels);
    } finally {
      await clip.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The timings of {@link runEffectsBench} with an open CLIP model. */
async function measure(clip: ClipModel, generator: 'config-f-256' | 'tiny', previews: number, seedCount: number, timedChannels: number): Promise<Record<string, unknown>> {
  const teacher = new Teacher(makeRandomTeacherWeights(generator === 'tiny' ? TINY_TEACHER : CONFIG_F_256));
  let t = performance.now();
  const space = await StyleSpace.create(teacher, { batch: seedCount, truncationCutoff: null, shareCores: true });
  const styleSpaceMs = performance.now() - t;
  try {
    t = performance.now();
    const dt = await textDirection(clip.text, 'a face with a white beard', 'a face');
    const textDirectionMs = performance.now() - t;
    const channels = space.layout.channels.length;
    const stats = await space.channelStats(64, 0.7);
    const sigma = Float32Array.from(space.layout.channels, (p) => stats.std[p]!);
    // Fixed pseudo-random directions stand in for a measured table: the edit's cost does not depend on their values.
    const directions = new Float32Array(channels * clip.dim).map((_, i) => Math.sin(i * 12.9898) * 0.5);
    const edit = styleEdit(directions, dt, sigma, 0.15);
    const seeds = Array.from({ length: seedCount }, (_, i) => i);
    const preview = async (): Promise<number> => {
      const start = performance.now();
      const s = await space.stylesOfSeeds(seeds, 0.7);
      await space.render(s);
      await space.render(applyEdit(s, seedCount, space.layout.channels, edit.delta, 4.1));
      return performance.now() - start;
    };
    await preview();
    const previewRuns: number[] = [];
    for (let i = 0; i < previews; i++) previewRuns.push(await preview());

    const images = 2;
    const base = await space.stylesOfSeeds([100, 101], 0.7);
    const partial = new Float32Array(channels * clip.dim);
    t = performance.now();
    await computeRelevance(space, clip.image, { baseStyles: base, std: stats.std, fromChannel: channels - timedChannels, directions: partial, chunk: timedChannels });
    const rendersPerSecond = (timedChannels * images * 2) / ((performance.now() - t) / 1000);
    return {
      bench: 'effects',
      generator,
      resolution: teacher.config.resolution,
      styleChannels: channels,
      clip: `tiny (${TINY_CLIP.dim}-d, ${TINY_CLIP.imageSize}², random weights)`,
      provider: space.provider,
      styleSpaceMs: round(styleSpaceMs),
      textDirectionMs: round(textDirectionMs),
      preview: { seeds: seedCount, medianMs: round(median(previewRuns)), runsMs: previewRuns.map(round) },
      relevance: { rendersPerSecond: round(rendersPerSecond), fullTableHoursAt100Images: round((channels * 100 * 2) / rendersPerSecond / 3600) },
    };
  } finally {
    await space.release();
  }
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
