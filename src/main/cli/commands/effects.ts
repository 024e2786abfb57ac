// `effects-studio clip …`, `relevance`, `edit preview` and `pairs …`: CLIP folders, relevance, preview grids, pairs datasets or shards and their merge, headless.
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import {
  ALPHA_RANGE,
  BETA_RANGE,
  DEFAULT_ALPHA,
  DEFAULT_BETA,
  MAX_EFFECT_PAIRS,
  MAX_PAIR_SHARDS,
  MAX_PREVIEW_ALPHAS,
  MAX_PREVIEW_SEEDS,
  MAX_RELEVANCE_IMAGES,
  MAX_RELEVANCE_STATS,
  type PairShard,
} from '../../../shared/effects/types.ts';
import type { TeacherInfo } from '../../../shared/teachers/types.ts';
import type { StoredClip } from '../../effects/store.ts';
import type { Studio } from '../../services/studio.ts';
import { DATA_DIR_OPTION, intIn, numberIn, printJson, printProgress, withStudio } from '../cli-kit.ts';

function findTeacher(studio: Studio, name: string): TeacherInfo {
  const info = studio.teachers.store.find(name);
  if (!info) throw new Error(`no teacher named "${name}" in the data folder`);
  return info;
}

function findClip(studio: Studio, name: string): StoredClip {
  const clip = studio.effects.store.findClip(name);
  if (!clip) throw new Error(`no CLIP model named "${name}" in the data folder`);
  return clip;
}

/** The CLIP model to use when none is named: the only one the teacher has a relevance table under. */
function onlyClipOf(studio: Studio, teacher: TeacherInfo): StoredClip {
  const measured = studio.effects.store.relevanceOf(teacher.id).map((r) => studio.effects.store.getClip(r.clipId));
  if (measured.length === 1) return measured[0]!;
  if (measured.length === 0) throw new Error(`teacher "${teacher.name}" has no channel relevance under any CLIP model yet; run \`relevance\` first`);
  throw new Error(`teacher "${teacher.name}" has relevance tables under ${measured.map((c) => `"${c.name}"`).join(', ')}: pick one with --clip`);
}

/** A comma-separated list of at most `most` numbers in [min, max]. */
function numberListIn(min: number, max: number, what: string, most: number): (value: string) => number[] {
  return (value) => {
    const parts = value.split(',');
    if (parts.length > most) throw new InvalidArgumentError(`at most ${most} values of ${what}, got ${parts.length}`);
    return parts.map((part) => numberIn(min, max, what)(part));
  };
}

/** The named CLIP model, or the only one stored. */
function clipOrOnly(studio: Studio, name: string | undefined): StoredClip {
  if (name !== undefined) return findClip(studio, name);
  const clips = studio.effects.store.listClips();
  if (clips.length !== 1) throw new Error(clips.length === 0 ? 'no CLIP model is stored yet; run `clip import` first' : 'several CLIP models are stored: pick one with --clip');
  return clips[0]!;
}

/** Parses `I/N` (shard I of N). */
function parseShard(value: string): PairShard {
  const match = /^(\d{1,9})\/(\d{1,9})$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`expected a shard as I/N (e.g. 0/4), got "${value}"`);
  const shard = { index: Number(match[1]), count: Number(match[2]) };
  if (shard.count < 1 || shard.count > MAX_PAIR_SHARDS) throw new InvalidArgumentError(`the shard count must be from 1 to ${MAX_PAIR_SHARDS}, got "${value}"`);
  if (shard.index >= shard.count) throw new InvalidArgumentError(`the shard index must be from 0 to ${shard.count - 1}, got "${value}"`);
  return shard;
}

/** Adds `clip import | list`, `relevance`, `edit preview`, `pairs [make] | merge` and `bench effects` to the program. */
export function registerEffectsCommands(program: Command, bench: Command): void {
  const clip = program.command('clip').description('CLIP models (Hugging Face ONNX exports): import, list');
  clip
    .command('import')
    .description('check a CLIP ONNX export folder and copy it into the studio; prints the stored model as JSON')
    .argument('<folder>', 'folder with text_model.onnx + vision_model.onnx (or model.onnx) and the tokenizer files')
    .requiredOption('--name <name>', 'name to keep it under')
    .option(...DATA_DIR_OPTION)
    .action(async (folder: string, opts: { name: string; dataDir?: string }) => {
      const { importClip } = await import('../../effects/clip-store.ts');
      printJson(await withStudio(opts.dataDir, (studio) => importClip(studio.effects.store, studio.blobs, { path: resolve(folder), name: opts.name }, printProgress)));
    });
  clip
    .command('list')
    .description('print the stored CLIP models as JSON')
    .option(...DATA_DIR_OPTION)
    .action(async (opts: { dataDir?: string }) => {
      printJson(await withStudio(opts.dataDir, async (studio) => studio.effects.listClips()));
    });

  program
    .command('relevance')
    .description("measure a teacher's per-channel CLIP directions under a CLIP model and keep them (done once per teacher and model)")
    .requiredOption('--teacher <name>', 'a stored teacher')
    .option('--clip <name>', 'a stored CLIP model (default: the only one)')
    .option('--images <n>', 'images the directions are averaged over', intIn(1, MAX_RELEVANCE_IMAGES), 100)
    .option('--stats <n>', 'latents the per-channel σ is taken over', intIn(2, MAX_RELEVANCE_STATS), 100_000)
    .option(...DATA_DIR_OPTION)
    .action(async (opts: { teacher: string; clip?: string; images: number; stats: number; dataDir?: string }) => {
      const { computeRelevanceTable } = await import('../../effects/edits.ts');
      const result = await withStudio(opts.dataDir, (studio) => {
        const teacher = findTeacher(studio, opts.teacher);
        const params = { teacherId: teacher.id, clipId: clipOrOnly(studio, opts.clip).id, images: opts.images, statsSamples: opts.stats };
        studio.effects.checkRelevance(params);
        return computeRelevanceTable(studio.blobs, studio.effects.store, teacher, params, { progress: printProgress });
      });
      printJson(result);
    });

  const edit = program.command('edit').description('edits from text prompts (StyleCLIP global directions)');
  edit
    .command('preview')
    .description('render seeds unedited and edited at each α into one PNG grid (a row per seed), and keep the prompt for `pairs --prompt`')
    .requiredOption('--teacher <name>', 'a stored teacher with a relevance table')
    .option('--clip <name>', 'a stored CLIP model (default: the only one with a relevance table for the teacher)')
    .requiredOption('--target <text>', 'what the faces should become, e.g. "a smiling face"')
    .option('--neutral <text>', 'the neutral text', 'a face')
    .option('--alpha <α>', `strength in [${ALPHA_RANGE.join(', ')}]; repeat as a,b,c for a strength sweep`, numberListIn(ALPHA_RANGE[0], ALPHA_RANGE[1], 'α', MAX_PREVIEW_ALPHAS), [DEFAULT_ALPHA])
    .option('--beta <β>', `disentanglement threshold in [${BETA_RANGE.join(', ')}]`, numberIn(BETA_RANGE[0], BETA_RANGE[1], 'β'), DEFAULT_BETA)
    .option('--seeds <list>', `up to ${MAX_PREVIEW_SEEDS} seeds, e.g. 0,1,2,3`, numberListIn(0, Number.MAX_SAFE_INTEGER, 'a seed', MAX_PREVIEW_SEEDS), [0, 1, 2, 3])
    .option('--psi <ψ>', 'truncation ψ in [-2, 2]', numberIn(-2, 2, 'ψ'), 0.7)
    .requiredOption('--out <file>', 'the PNG grid to write')
    .option(...DATA_DIR_OPTION)
    .action(
      async (opts: { teacher: string; clip?: string; target: string; neutral: string; alpha: number[]; beta: number; seeds: number[]; psi: number; out: string; dataDir?: string }) => {
        const { renderEffectPreview } = await import('../../effects/edits.ts');
        const { previewGridPng } = await import('../../effects/preview-grid.ts');
        const { writeFile } = await import('node:fs/promises');
        if (!opts.seeds.every(Number.isSafeInteger)) throw new InvalidArgumentError(`seeds must be whole numbers, got ${opts.seeds.join(',')}`);
        const result = await withStudio(opts.dataDir, async (studio) => {
          const teacher = findTeacher(studio, opts.teacher);
          const clip = opts.clip === undefined ? onlyClipOf(studio, teacher) : findClip(studio, opts.clip);
          const params = { teacherId: teacher.id, clipId: clip.id, target: opts.target, neutral: opts.neutral, beta: opts.beta, seeds: opts.seeds, psi: opts.psi, alphas: opts.alpha };
          studio.effects.checkPreview(params);
          const preview = await renderEffectPreview(studio.blobs, studio.effects.store, teacher, params);
          await writeFile(resolve(opts.out), await previewGridPng(studio.blobs, preview));
          const prompt = studio.effects.savePrompt({ teacherId: teacher.id, target: opts.target, neutral: opts.neutral, alpha: opts.alpha[0]!, beta: opts.beta });
          return { out: resolve(opts.out), prompt, touched: preview.touched, channels: preview.channels, seeds: opts.seeds, alphas: preview.alphas, provider: preview.provider };
        });
        printJson(result);
      },
    );

  const pairs = program.command('pairs').description("a prompt's (original, edited) pairs, whole or as one shard of several machines; merge shards");
  pairs
    .command('make', { isDefault: true })
    .description(
      'render pairs k = 0 … N−1 of a stored prompt (pair k from seed S+k) into a new pairs dataset, or with --out into a shard file; ' +
        'with --shard I/N only the pairs with k mod N = I, so N machines (a Kubernetes Indexed Job, a Slurm array) each make one shard for `pairs merge`',
    )
    .requiredOption('--prompt <id>', 'a stored prompt (its teacher, target, neutral, α and β)', intIn(1, Number.MAX_SAFE_INTEGER))
    .option('--clip <name>', 'a stored CLIP model (default: the only one with a relevance table for the teacher)')
    .requiredOption('--count <n>', 'pairs in the whole run', intIn(1, MAX_EFFECT_PAIRS))
    .option('--seed <s>', 'first seed', intIn(0, Number.MAX_SAFE_INTEGER - MAX_EFFECT_PAIRS), 0)
    .option('--psi <ψ>', 'truncation ψ in [-2, 2]', numberIn(-2, 2, 'ψ'), 0.7)
    .option('--shard <I/N>', 'make only shard I of N (0 ≤ I < N)', parseShard)
    .option('--out <file>', 'write a shard file (zip: both PNGs per pair and a manifest) instead of a dataset')
    .option('--dataset <name>', 'name of the new pairs dataset')
    .option(...DATA_DIR_OPTION)
    .action(async (opts: { prompt: number; clip?: string; count: number; seed: number; psi: number; shard?: PairShard; out?: string; dataset?: string; dataDir?: string }) => {
      if ((opts.out === undefined) === (opts.dataset === undefined)) throw new InvalidArgumentError('give exactly one of --out FILE (a shard file) and --dataset NAME');
      const { generatePairs } = await import('../../effects/edits.ts');
      const { writePairShard } = await import('../../effects/shards.ts');
      const result = await withStudio(opts.dataDir, async (studio) => {
        const prompt = studio.effects.store.getPrompt(opts.prompt);
        const teacher = studio.teachers.store.get(prompt.teacherId);
        const clip = opts.clip === undefined ? onlyClipOf(studio, teacher) : findClip(studio, opts.clip);
        const params = { teacherId: teacher.id, clipId: clip.id, target: prompt.target, neutral: prompt.neutral, alpha: prompt.alpha, beta: prompt.beta, psi: opts.psi, seed: opts.seed, count: opts.count };
        studio.effects.checkEdit(params);
        if (opts.out !== undefined) {
          return writePairShard(studio.blobs, studio.effects.store, teacher, { ...params, shard: opts.shard ?? { index: 0, count: 1 } }, resolve(opts.out), { progress: printProgress });
        }
        const pairsParams = { ...params, datasetName: opts.dataset!, ...(opts.shard ? { shard: opts.shard } : {}) };
        studio.effects.checkPairs(pairsParams);
        return generatePairs(studio.blobs, studio.effects.store, studio.datasets.store, teacher, pairsParams, { progress: printProgress });
      });
      printJson(result);
    });
  pairs
    .command('merge')
    .description('check the shard files of one pairs run (all N of them) and merge them into one new pairs dataset, as an unsharded run would have made it')
    .argument('<shards...>', 'shard files written by `pairs --shard I/N --out FILE`')
    .requiredOption('--dataset <name>', 'name of the new pairs dataset')
    .option(...DATA_DIR_OPTION)
    .action(async (files: string[], opts: { dataset: string; dataDir?: string }) => {
      const { mergePairShards } = await import('../../effects/shards.ts');
      const result = await withStudio(opts.dataDir, (studio) =>
        mergePairShards(
          { blobs: studio.blobs, datasets: studio.datasets.store, teachers: studio.teachers.store, effects: studio.effects.store },
          files.map((f) => resolve(f)),
          opts.dataset,
          { progress: printProgress },
        ),
      );
      printJson(result);
    });

  bench
    .command('effects')
    .description('edit preview latency and relevance renders per second on a random config-f 256² StyleGAN2 (tiny CLIP)')
    .option('--json', 'print JSON (the only format)')
    .option('--generator <name>', 'config-f-256 (default) or tiny (a quick smoke run)', (v: string) => {
      if (v !== 'config-f-256' && v !== 'tiny') throw new InvalidArgumentError(`expected config-f-256 or tiny, got "${v}"`);
      return v;
    })
    .option('--previews <n>', 'timed previews', intIn(1, 100))
    .action(async (opts: { generator?: 'config-f-256' | 'tiny'; previews?: number }) => {
      const { runEffectsBench } = await import('../../bench/effects.ts');
      printJson(await runEffectsBench({ ...(opts.generator ? { generator: opts.generator } : {}), ...(opts.previews ? { previews: opts.previews } : {}) }));
    });
}
