// `effects-studio train …` and `effects-studio runs list | show`: train a student as a job (Ctrl-C pauses it) and read its runs.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { JobInfo, Result } from '../../../shared/contract.ts';
import { DEFAULT_ADVERSARIAL, DEFAULT_PERCEPTUAL, DEFAULT_TRAIN_PARAMS, TRAIN_LIMITS, TRAIN_PRESETS, type TrainPreset } from '../../../shared/student/config.ts';
import type { RunDetail, RunInfo, StudentTrainParams, StudentTrainResult } from '../../../shared/student/types.ts';
import type { Studio } from '../../services/studio.ts';

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function parseSteps(value: string): number {
  const n = Number(value);
  const { min, max } = TRAIN_LIMITS.steps;
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

function parsePreset(value: string): TrainPreset {
  if (value !== 'fast' && value !== 'quality') throw new InvalidArgumentError(`expected "fast" or "quality", got "${value}"`);
  return value;
}

function parseWeight(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

function parseNames(value: string): string[] {
  const names = value.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) throw new InvalidArgumentError(`expected comma-separated value names, got "${value}"`);
  return names;
}

/** The loss flags of `train`. */
interface LossFlags {
  perceptual?: string;
  perceptualOutputs?: string[];
  perceptualWeight?: number;
  adversarialWeight?: number;
}

/**
 * Applies the loss flags over the settings: `--perceptual FILE` (with `--perceptual-outputs`) turns the perceptual
 * term on with the config's or the default normalisation; `--perceptual-weight` and `--adversarial-weight` set the
 * weights (the adversarial one turns that term on).
 */
function withLossFlags(base: StudentTrainParams, flags: LossFlags): StudentTrainParams {
  const p = { ...base };
  if (flags.perceptual !== undefined) {
    // The file replaces whatever network the config named; its other perceptual settings (or the defaults) stay.
    const from = p.perceptual ?? { ...DEFAULT_PERCEPTUAL, outputs: [] };
    p.perceptual = {
      path: resolve(flags.perceptual),
      outputs: [...from.outputs],
      weight: from.weight,
      distance: from.distance,
      range: [from.range[0], from.range[1]],
      mean: [from.mean[0], from.mean[1], from.mean[2]],
      std: [from.std[0], from.std[1], from.std[2]],
    };
  }
  if (flags.perceptualOutputs !== undefined || flags.perceptualWeight !== undefined) {
    if (!p.perceptual) throw new Error('--perceptual-outputs and --perceptual-weight need --perceptual FILE (or a perceptual section in --config)');
    p.perceptual = {
      ...p.perceptual,
      ...(flags.perceptualOutputs === undefined ? {} : { outputs: flags.perceptualOutputs }),
      ...(flags.perceptualWeight === undefined ? {} : { weight: flags.perceptualWeight }),
    };
  }
  if (p.perceptual && p.perceptual.outputs.length === 0) throw new Error('--perceptual needs --perceptual-outputs NAME[,NAME…]: the feature maps to compare');
  if (flags.adversarialWeight !== undefined) p.adversarial = { ...DEFAULT_ADVERSARIAL, ...p.adversarial, weight: flags.adversarialWeight };
  return p;
}

function parseRunId(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected a run id (a positive integer), got "${value}"`);
  return n;
}

/** Opens the studio on the data folder for one command and closes it after, whatever happens. */
async function withStudio<T>(dataDir: string | undefined, fn: (studio: Studio) => Promise<T>): Promise<T> {
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

function valueOf<T>(result: Result<unknown>): T {
  if (!result.ok) throw new Error(result.error.message);
  return result.value as T;
}

/**
 * The settings of a new run: the defaults, then the preset or the JSON config file (any subset of the training
 * settings; `student` and `augment` merge field by field), then `--steps`. Range checks happen in `runs:start`.
 */
function trainParamsFrom(datasetId: number, opts: { config?: string; preset?: TrainPreset; steps?: number }): StudentTrainParams {
  if (opts.config !== undefined && opts.preset !== undefined) throw new Error('give either --config or --preset, not both');
  let base: Omit<StudentTrainParams, 'datasetId'> = opts.preset ? TRAIN_PRESETS[opts.preset].params : DEFAULT_TRAIN_PARAMS;
  if (opts.config !== undefined) {
    const path = resolve(opts.config);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new Error(`the config file ${path} could not be read as JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`the config file ${path} must hold a JSON object`);
    const file = parsed as Partial<StudentTrainParams>;
    if ('datasetId' in file) throw new Error(`the config file ${path} must not name a dataset; pass --dataset`);
    base = { ...base, ...file, student: { ...base.student, ...file.student }, augment: { ...base.augment, ...file.augment } };
  }
  return { ...base, datasetId, ...(opts.steps === undefined ? {} : { steps: opts.steps }) };
}

/** Follows a job until it ends, writing its progress to stderr; Ctrl-C pauses it (resume with `train --resume`). */
function follow(studio: Studio, job: JobInfo): Promise<JobInfo> {
  return new Promise((resolvePromise) => {
    let lastStep = -1;
    const onSignal = (): void => {
      process.stderr.write('pausing… (resume with: effects-studio train --resume ' + job.id + ')\n');
      void studio.handle('jobs:pause', [job.id]);
    };
    process.once('SIGINT', onSignal);
    const off = studio.onEvent((_, j) => {
      if (j.id !== job.id) return;
      if (j.progress.step !== lastStep && j.status === 'running') {
        lastStep = j.progress.step;
        process.stderr.write(`[${j.progress.step}/${j.progress.total}] ${j.progress.message}\n`);
      }
      if (j.status !== 'queued' && j.status !== 'running') {
        off();
        process.off('SIGINT', onSignal);
        resolvePromise(j);
      }
    });
  });
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

/** Adds `train`, `runs list | show` and `bench student` to the program. */
export function registerTrainCommands(program: Command, bench: Command): void {
  bench
    .command('student')
    .description('the default student (256², batch 8): training ms/step, ORT CPU inference ms/frame, MACs, parameters, vs PyTorch')
    .option('--json', 'print JSON (the only format)')
    .option('--steps <n>', 'measured training steps', parsePositiveInt)
    .option('--frames <n>', 'measured inference frames', parsePositiveInt)
    .option('--threads <n>', 'intra-op threads for both runtimes', parsePositiveInt)
    .action(async (opts: { steps?: number; frames?: number; threads?: number }) => {
      const { runStudentBench } = await import('../../bench/student.ts');
      printJson(await runStudentBench({ steps: opts.steps, frames: opts.frames, threads: opts.threads }));
    });

  program
    .command('train')
    .description('train a student on a pairs dataset (a job: checkpoints, validation, previews); Ctrl-C pauses it')
    .option('--dataset <id-or-name>', 'the pairs dataset to train on')
    .option('--config <file>', 'JSON file with training settings (any subset; see DEFAULT_TRAIN_PARAMS)')
    .option('--preset <name>', 'fast or quality', parsePreset)
    .option('--steps <n>', 'optimizer steps (overrides the config or preset)', parseSteps)
    .option('--perceptual <file>', 'add a perceptual loss through this frozen ONNX feature network')
    .option('--perceptual-outputs <names>', 'comma-separated values of the feature network to compare (graph outputs or inner values)', parseNames)
    .option('--perceptual-weight <w>', `weight of the perceptual term (default ${DEFAULT_PERCEPTUAL.weight})`, parseWeight)
    .option('--adversarial-weight <w>', 'add a PatchGAN adversarial loss with this weight (a discriminator trains in alternation)', parseWeight)
    .option('--resume <job-id>', 'resume a paused or interrupted training job instead of starting one')
    .option('--data-dir <dir>', 'data folder (default: $EFFECTS_STUDIO_HOME or the platform default)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { dataset?: string; config?: string; preset?: TrainPreset; steps?: number; resume?: string; dataDir?: string; json?: boolean } & LossFlags) => {
      const outcome = await withStudio(opts.dataDir, async (studio) => {
        let job: JobInfo;
        if (opts.resume !== undefined) {
          job = valueOf<JobInfo>(await studio.handle('jobs:resume', [opts.resume]));
        } else {
          if (opts.dataset === undefined) throw new Error('--dataset is required (or --resume a job)');
          const ref = opts.dataset;
          const byName = studio.datasets.store.findDataset(ref);
          const datasetId = byName?.id ?? (/^\d+$/.test(ref) ? Number(ref) : null);
          if (datasetId === null) throw new Error(`no dataset named "${ref}"`);
          job = valueOf<JobInfo>(await studio.handle('runs:start', [withLossFlags(trainParamsFrom(datasetId, opts), opts)]));
        }
        process.stderr.write(`job ${job.id}: training\n`);
        return follow(studio, job);
      });
      if (outcome.status === 'succeeded') {
        const result = outcome.result as StudentTrainResult;
        if (opts.json) printJson(result);
        else {
          const best = result.best ? `best PSNR ${result.best.psnr.toFixed(2)} dB at step ${result.best.step}` : 'no validation';
          process.stdout.write(`run ${result.runId}: ${result.steps} steps on ${result.provider}, ${best}${result.stoppedEarly ? ' (stopped early)' : ''}\n`);
        }
        return;
      }
      if (outcome.status === 'interrupted') {
        process.stderr.write(`paused at step ${outcome.progress.step}; resume with: effects-studio train --resume ${outcome.id}\n`);
        process.exitCode = 3;
        return;
      }
      throw new Error(`training ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}`);
    });

  const runs = program.command('runs').description('student training runs');
  runs
    .command('list')
    .description('every training run, newest first')
    .option('--data-dir <dir>', 'data folder (default: $EFFECTS_STUDIO_HOME or the platform default)')
    .option('--json', 'print JSON')
    .action(async (opts: { dataDir?: string; json?: boolean }) => {
      const list = await withStudio(opts.dataDir, async (studio) => valueOf<RunInfo[]>(await studio.handle('runs:list', [])));
      if (opts.json) {
        printJson(list);
        return;
      }
      for (const r of list) {
        const psnr = r.bestPsnr === null ? '—' : `${r.bestPsnr.toFixed(2)} dB`;
        const s = r.config.student;
        process.stdout.write(`${String(r.id).padStart(4)}  ${r.status.padEnd(13)} ${`${r.step}/${r.config.steps}`.padEnd(13)} ${`${s.size}² ×${s.width}`.padEnd(11)} best ${psnr}  ${r.provider ?? ''}\n`);
      }
    });
  runs
    .command('show')
    .description('one run with its metric series, checkpoints and previews')
    .argument('<run>', 'run id', parseRunId)
    .option('--data-dir <dir>', 'data folder (default: $EFFECTS_STUDIO_HOME or the platform default)')
    .option('--json', 'print JSON')
    .action(async (runId: number, opts: { dataDir?: string; json?: boolean }) => {
      const run = await withStudio(opts.dataDir, async (studio) => valueOf<RunDetail>(await studio.handle('runs:get', [runId])));
      if (opts.json) {
        printJson(run);
        return;
      }
      const last = (name: string): string => {
        const v = run.metrics[name]?.at(-1)?.value;
        return v === undefined ? '—' : v.toFixed(4);
      };
      process.stdout.write(
        `run ${run.id} (job ${run.jobId}) on dataset ${run.datasetId}: ${run.status}, step ${run.step}/${run.config.steps}, ${run.provider ?? 'not started'}\n` +
          `last train loss ${last('train/loss')}, validation L1 ${last('validation/l1')}, PSNR ${last('validation/psnr')}, SSIM ${last('validation/ssim')}\n` +
          `checkpoints: ${run.checkpoints.map((c) => c.step).join(', ') || 'none'}\n`,
      );
    });
}
