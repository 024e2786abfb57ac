// `effects-studio teacher …`: import a StyleGAN2 .safetensors or a declared ONNX generator, sample PNGs (+ seeds and latents as JSON), make the tiny teacher.
import { existsSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import {
  MAX_ONNX_TEACHER_DIM,
  MAX_ONNX_TEACHER_RESOLUTION,
  MAX_TEACHER_SAMPLES,
  type OnnxOutputRange,
  type OnnxTeacherDeclaration,
} from '../../../shared/teachers/types.ts';
import type { Studio } from '../../services/studio.ts';
import type { TeacherGenerator } from '../../teachers/render.ts';
import { DATA_DIR_OPTION, printJson, withStudio } from '../cli-kit.ts';

/** ψ of `teacher sample` when none is given, for a StyleGAN2 teacher. */
const DEFAULT_PSI = 0.7;

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

/**
 * A generator on a StyleGAN2 .safetensors file when `ref` names one, else on the stored teacher of that name in the
 * data folder (a black-box ONNX teacher included). ψ defaults to 0.7 for StyleGAN2 and is refused unless 1 for ONNX.
 */
async function openGenerator(
  ref: string,
  dataDir: string | undefined,
  batch: number,
  psi: number | undefined,
): Promise<{ generator: TeacherGenerator; name: string; psi: number }> {
  const { openTeacherGenerator, styleganGenerator } = await import('../../teachers/render.ts');
  if (existsSync(ref) && statSync(ref).isFile()) {
    const { isOnnxPath } = await import('../../teachers/onnx.ts');
    if (isOnnxPath(ref)) throw new Error(`${resolve(ref)} is an ONNX model: import it first (teacher import … --onnx-input …) and sample it by name`);
    const { loadTeacher } = await import('../../engine/teacher/index.ts');
    return { generator: await styleganGenerator(await loadTeacher(ref), batch), name: resolve(ref), psi: psi ?? DEFAULT_PSI };
  }
  return withStudio(dataDir, async (studio) => {
    const info = studio.teachers.store.find(ref);
    if (!info) throw new Error(`no teacher named "${ref}" in the data folder, and no file at ${resolve(ref)}`);
    const chosen = psi ?? (info.styleSpace ? DEFAULT_PSI : 1);
    return { generator: await openTeacherGenerator(studio.blobs, info, { batch, psi: chosen }), name: info.name, psi: chosen };
  });
}

/** The `--onnx-*` options of `teacher import`. */
interface OnnxImportOptions {
  onnxInput?: 'z' | 'w';
  onnxInputName?: string;
  onnxDim?: number;
  onnxOutput?: string;
  onnxRange?: OnnxOutputRange;
  onnxResolution?: number;
}

/** The declaration of an .onnx import from its options; every one but the resolution is required. */
function onnxDeclaration(file: string, opts: OnnxImportOptions): OnnxTeacherDeclaration | undefined {
  const given = [opts.onnxInput, opts.onnxInputName, opts.onnxDim, opts.onnxOutput, opts.onnxRange, opts.onnxResolution].some((v) => v !== undefined);
  if (!given && !/\.onnx$/i.test(file)) return undefined;
  const missing = (
    [
      ['--onnx-input', opts.onnxInput],
      ['--onnx-input-name', opts.onnxInputName],
      ['--onnx-dim', opts.onnxDim],
      ['--onnx-output', opts.onnxOutput],
      ['--onnx-range', opts.onnxRange],
    ] as const
  )
    .filter(([, v]) => v === undefined)
    .map(([flag]) => flag);
  if (missing.length > 0) throw new Error(`an ONNX generator needs its I/O declared: missing ${missing.join(', ')}`);
  return {
    input: opts.onnxInput!,
    inputName: opts.onnxInputName!,
    dim: opts.onnxDim!,
    outputName: opts.onnxOutput!,
    range: opts.onnxRange!,
    ...(opts.onnxResolution !== undefined ? { resolution: opts.onnxResolution } : {}),
  };
}

function parseLatentKind(value: string): 'z' | 'w' {
  if (value !== 'z' && value !== 'w') throw new InvalidArgumentError(`expected z or w, got "${value}"`);
  return value;
}

function parseRange(value: string): OnnxOutputRange {
  const v = value.replace(/\s+/g, '');
  if (v !== '-1,1' && v !== '0,1') throw new InvalidArgumentError(`expected -1,1 or 0,1, got "${value}"`);
  return v;
}

function parsePositive(max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`expected an integer from 1 to ${max}, got "${value}"`);
    return n;
  };
}

/** Adds `teacher import | sample | make-tiny` to the program. */
export function registerTeacherCommands(program: Command): void {
  const teacher = program.command('teacher').description('teachers (StyleGAN2 weights or a plain ONNX generator): import, sample, make the tiny demo teacher');

  teacher
    .command('import')
    .description(
      'check a StyleGAN2 .safetensors (NVIDIA or rosinality naming), or a plain .onnx generator with its I/O declared, and store it as a teacher; prints it as JSON',
    )
    .argument('<file>', 'the .safetensors or .onnx file')
    .requiredOption('--name <name>', 'name to keep it under')
    .option('--onnx-input <z|w>', 'ONNX generator: whether its input is a latent z or a w', parseLatentKind)
    .option('--onnx-input-name <name>', 'ONNX generator: name of its latent input')
    .option('--onnx-dim <d>', 'ONNX generator: length of the latent', parsePositive(MAX_ONNX_TEACHER_DIM))
    .option('--onnx-output <name>', 'ONNX generator: name of its image output [batch, 3, R, R]')
    .option('--onnx-range <range>', 'ONNX generator: value range of the image, -1,1 or 0,1', parseRange)
    .option('--onnx-resolution <r>', 'ONNX generator: output side, when the model leaves it open', parsePositive(MAX_ONNX_TEACHER_RESOLUTION))
    .option(...DATA_DIR_OPTION)
    .action(async (file: string, opts: { name: string; dataDir?: string } & OnnxImportOptions) => {
      const onnx = onnxDeclaration(file, opts);
      const onProgress = (step: number, total: number, message: string): void => {
        process.stderr.write(`[${step}/${total}] ${message}\n`);
      };
      const info = await withStudio(opts.dataDir, async (studio) => {
        const params = { path: resolve(file), name: opts.name };
        if (onnx !== undefined) {
          const { importOnnxTeacher } = await import('../../teachers/onnx.ts');
          return importOnnxTeacher(studio.teachers.store, studio.blobs, { ...params, onnx }, { onProgress });
        }
        const { importTeacher } = await import('../../teachers/weights.ts');
        return importTeacher(studio.teachers.store, studio.blobs, params, { onProgress });
      });
      printJson(info);
    });

  teacher
    .command('sample')
    .description('render seeds S … S+K−1 as PNGs in DIR, with samples.json holding each seed, file and latent (ws, or an ONNX teacher\'s z or w)')
    .requiredOption('--teacher <name-or-file>', 'a stored teacher name, or a StyleGAN2 .safetensors file')
    .requiredOption('--count <k>', 'number of samples', parseCount)
    .option('--psi <ψ>', `truncation ψ in [-2, 2] (default ${DEFAULT_PSI}; a black-box ONNX teacher takes only 1)`, parsePsi)
    .option('--seed <s>', 'first seed', parseSeed, 0)
    .requiredOption('--out <dir>', 'output folder (created when missing)')
    .option('--data-dir <dir>', 'data folder holding stored teachers')
    .action(async (opts: { teacher: string; count: number; psi?: number; seed: number; out: string; dataDir?: string }) => {
      const { SAMPLE_BATCH, toPixels } = await import('../../teachers/render.ts');
      const { default: sharp } = await import('sharp');
      const { generator, name, psi } = await openGenerator(opts.teacher, opts.dataDir, Math.min(SAMPLE_BATCH, opts.count), opts.psi);
      const [rows, cols] = generator.latentShape;
      const out = resolve(opts.out);
      await mkdir(out, { recursive: true });
      const samples: Record<string, unknown>[] = [];
      try {
        for (let start = 0; start < opts.count; start += generator.batch) {
          const seeds = Array.from({ length: Math.min(generator.batch, opts.count - start) }, (_, i) => opts.seed + start + i);
          const batch = await generator.render(seeds, psi);
          for (const [i, seed] of seeds.entries()) {
            const pixels = toPixels(batch.images, i, generator);
            const file = `seed${String(seed).padStart(6, '0')}.png`;
            await sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels as 3 } })
              .png()
              .toFile(join(out, file));
            const latent = Array.from({ length: rows }, (_, l) => Array.from(batch.latents.subarray((i * rows + l) * cols, (i * rows + l + 1) * cols)));
            samples.push({ seed, file, [generator.latentKind]: generator.latentKind === 'ws' ? latent : latent[0] });
          }
          process.stderr.write(`[${start + seeds.length}/${opts.count}] samples\n`);
        }
      } finally {
        await generator.release();
      }
      await writeFile(
        join(out, 'samples.json'),
        JSON.stringify({ teacher: name, psi, provider: generator.provider, noise: generator.noise, resolution: generator.resolution, samples }),
      );
      printJson({ out, count: samples.length, provider: generator.provider });
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
