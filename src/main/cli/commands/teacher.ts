// `effects-studio teacher …`: import a StyleGAN2 .safetensors, sample PNGs (+ seeds and latents as JSON), make the tiny teacher.
import { existsSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { MAX_TEACHER_SAMPLES } from '../../../shared/teachers/types.ts';
import type { Teacher } from '../../engine/teacher/index.ts';
import type { Studio } from '../../services/studio.ts';

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_TEACHER_SAMPLES) {
    throw new InvalidArgumentError(`expected an integer from 1 to ${MAX_TEACHER_SAMPLES}, got "${value}"`);
  }
  return n;
}

function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`expected an integer ≥ 0, got "${value}"`);
  return n;
}

function parsePsi(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < -2 || n > 2) throw new InvalidArgumentError(`ψ must be a number in [-2, 2], got "${value}"`);
  return n;
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Opens the studio on the data folder for one command and closes it after, whatever happens. */
async function withStudio<T>(dataDir: string | undefined, fn: (studio: Studio) => Promise<T>): Promise<T> {
  const { readFileSync } = await import('node:fs');
  const { resolveDataDir } = await import('../../core/data-dir.ts');
  const { Studio } = await import('../../services/studio.ts');
  const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
  const studio = await Studio.open({ dataDir: resolveDataDir({ dataDir }), host: 'browser', version: pkg.version });
  try {
    return await fn(studio);
  } finally {
    await studio.close();
  }
}

/** A .safetensors file when `ref` names one, else the stored teacher of that name in the data folder. */
async function resolveTeacher(ref: string, dataDir: string | undefined): Promise<{ teacher: Teacher; name: string }> {
  const { loadTeacher } = await import('../../engine/teacher/index.ts');
  if (existsSync(ref) && statSync(ref).isFile()) return { teacher: await loadTeacher(ref), name: resolve(ref) };
  const { loadStoredTeacher } = await import('../../teachers/weights.ts');
  return withStudio(dataDir, async (studio) => {
    const info = studio.teachers.store.find(ref);
    if (!info) throw new Error(`no teacher named "${ref}" in the data folder, and no file at ${resolve(ref)}`);
    return { teacher: await loadStoredTeacher(studio.blobs, info), name: info.name };
  });
}

/** Adds `teacher import | sample | make-tiny` to the program. */
export function registerTeacherCommands(program: Command): void {
  const teacher = program.command('teacher').description('StyleGAN2 teachers: import, sample, make the tiny demo teacher');

  teacher
    .command('import')
    .description('check a StyleGAN2 .safetensors (NVIDIA or rosinality naming) and store it as a teacher; prints it as JSON')
    .argument('<file>', 'the .safetensors file')
    .requiredOption('--name <name>', 'name to keep it under')
    .option('--data-dir <dir>', 'data folder (default: $EFFECTS_STUDIO_HOME or the platform default)')
    .action(async (file: string, opts: { name: string; dataDir?: string }) => {
      const { importTeacher } = await import('../../teachers/weights.ts');
      const info = await withStudio(opts.dataDir, (studio) =>
        importTeacher(studio.teachers.store, studio.blobs, { path: resolve(file), name: opts.name }, {
          onProgress: (step, total, message) => process.stderr.write(`[${step}/${total}] ${message}\n`),
        }),
      );
      printJson(info);
    });

  teacher
    .command('sample')
    .description('render seeds S … S+K−1 as PNGs in DIR, with samples.json holding each seed, file and latent ws')
    .requiredOption('--teacher <name-or-file>', 'a stored teacher name, or a .safetensors file')
    .requiredOption('--count <k>', 'number of samples', parseCount)
    .option('--psi <ψ>', 'truncation ψ in [-2, 2]', parsePsi, 0.7)
    .option('--seed <s>', 'first seed', parseSeed, 0)
    .requiredOption('--out <dir>', 'output folder (created when missing)')
    .option('--data-dir <dir>', 'data folder holding stored teachers')
    .action(async (opts: { teacher: string; count: number; psi: number; seed: number; out: string; dataDir?: string }) => {
      const { TeacherSampler } = await import('../../engine/teacher/index.ts');
      const { SAMPLE_BATCH, toPixels } = await import('../../teachers/render.ts');
      const { default: sharp } = await import('sharp');
      const { teacher, name } = await resolveTeacher(opts.teacher, opts.dataDir);
      const { numWs, wDim } = teacher.config;
      const out = resolve(opts.out);
      await mkdir(out, { recursive: true });
      const sampler = await TeacherSampler.create(teacher, { batch: Math.min(SAMPLE_BATCH, opts.count) });
      const samples: { seed: number; file: string; ws: number[][] }[] = [];
      try {
        for (let start = 0; start < opts.count; start += sampler.batch) {
          const seeds = Array.from({ length: Math.min(sampler.batch, opts.count - start) }, (_, i) => opts.seed + start + i);
          const batch = await sampler.render(seeds, opts.psi);
          for (const [i, seed] of seeds.entries()) {
            const pixels = toPixels(batch.images, i, teacher.config);
            const file = `seed${String(seed).padStart(6, '0')}.png`;
            await sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels as 3 } })
              .png()
              .toFile(join(out, file));
            const ws = Array.from({ length: numWs }, (_, l) => Array.from(batch.ws.subarray((i * numWs + l) * wDim, (i * numWs + l + 1) * wDim)));
            samples.push({ seed, file, ws });
          }
          process.stderr.write(`[${start + seeds.length}/${opts.count}] samples\n`);
        }
      } finally {
        await sampler.release();
      }
      await writeFile(
        join(out, 'samples.json'),
        JSON.stringify({ teacher: name, psi: opts.psi, provider: sampler.provider.name, noise: 'const', resolution: teacher.config.resolution, samples }),
      );
      printJson({ out, count: samples.length, provider: sampler.provider.name });
    });

  teacher
    .command('make-tiny')
    .description('write the tiny random-weight teacher (32×32, NVIDIA naming) as a .safetensors file')
    .requiredOption('--out <file>', 'the .safetensors file to write')
    .action(async (opts: { out: string }) => {
      const { TINY_TEACHER, writeRandomTeacher } = await import('../../engine/teacher/index.ts');
      await writeRandomTeacher(resolve(opts.out), TINY_TEACHER);
      printJson({ out: resolve(opts.out), ...TINY_TEACHER });
    });
}
