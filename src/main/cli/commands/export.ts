// `effects-studio export` (write a .fxpkg) and `effects-studio verify FILE` (check one; exit 1 when it fails).
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { JobInfo } from '../../../shared/contract.ts';
import type { ExportInfo, ExportPackageParams } from '../../../shared/export/types.ts';

interface ExportOptions {
  run?: number;
  checkpoint?: number;
  dataDir?: string;
  model?: string;
  out: string;
  fp16?: boolean;
  preview?: string[];
  name?: string;
  description?: string;
  colorOrder: 'RGB' | 'BGR';
  valueRange: [number, number];
  json?: boolean;
}

function parseColorOrder(value: string): 'RGB' | 'BGR' {
  if (value !== 'RGB' && value !== 'BGR') throw new InvalidArgumentError(`colour order must be RGB or BGR, got "${value}"`);
  return value;
}

function parseRange(value: string): [number, number] {
  const parts = value.split(',').map((v) => Number(v.trim()));
  if (parts.length !== 2 || parts.some((v) => !Number.isFinite(v)) || !(parts[0]! < parts[1]!)) {
    throw new InvalidArgumentError(`value range must be "low,high" with low < high, e.g. "-1,1", got "${value}"`);
  }
  return [parts[0]!, parts[1]!];
}

function parseId(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a run id (a positive integer), got "${value}"`);
  return n;
}

function parseStep(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a checkpoint step (an integer ≥ 0), got "${value}"`);
  return n;
}

/**
 * Exports a run through the studio's own `exports:create` request and `export-package` job (so it is recorded with
 * the studio's exports), printing the job's progress to stderr.
 */
async function exportRun(opts: ExportOptions, runId: number): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const { resolveDataDir } = await import('../../core/data-dir.ts');
  const { Studio } = await import('../../services/studio.ts');
  const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
  const studio = await Studio.open({ dataDir: resolveDataDir({ dataDir: opts.dataDir }), host: 'browser', version: pkg.version });
  try {
    const finals = new Map<string, JobInfo>();
    let jobId: string | null = null;
    let settle: ((job: JobInfo) => void) | null = null;
    studio.onEvent((_, job) => {
      if (job.kind !== 'export-package') return;
      if (job.status === 'queued' || job.status === 'running') {
        if (!opts.json && job.id === jobId && job.progress) process.stderr.write(`[${job.progress.step}/${job.progress.total}] ${job.progress.message}\n`);
        return;
      }
      finals.set(job.id, job);
      if (job.id === jobId) settle?.(job);
    });
    const request: ExportPackageParams = {
      source: { kind: 'run', runId, checkpointStep: opts.checkpoint ?? null },
      name: opts.name ?? `run ${runId}`,
      description: opts.description ?? '',
      out: resolve(opts.out),
      fp16: opts.fp16 === true,
      colorOrder: 'RGB',
      valueRange: [0, 1],
    };
    const started = await studio.handle('exports:create', [request]);
    if (!started.ok) throw new Error(started.error.message);
    const id = (started.value as JobInfo).id;
    jobId = id;
    const job = finals.get(id) ?? (await new Promise<JobInfo>((done) => (settle = done)));
    if (job.status !== 'succeeded') throw new Error(`export of run ${runId} ${job.status}${job.error ? `: ${job.error}` : ''}`);
    const info = job.result as ExportInfo;
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(info, null, 2)}\n`
        : `wrote ${info.path} (${info.size} bytes, sha256 ${info.sha256}); ${info.medianMs?.toFixed(2) ?? '?'} ms per frame on ${info.provider ?? '?'}\n`,
    );
  } finally {
    await studio.close();
  }
}

/** Adds `export` and `verify` to the CLI. */
export function registerExportCommands(program: Command): void {
  program
    .command('export')
    .description('package a student as a .fxpkg: fp32 model (+ fp16), manifest, previews, sha256 of every file')
    .option('--run <id>', 'the training run to export (its dataset\'s validation images become the previews)', parseId)
    .option('--checkpoint <step>', 'step of the run\'s checkpoint to export (default: the best by validation PSNR)', parseStep)
    .option('--data-dir <dir>', 'data folder holding the run (default: $EFFECTS_STUDIO_HOME or the platform default)')
    .option('--model <file>', 'export a plain fp32 ONNX model (opset 17, one [1,3,H,W] image in and out) instead of a run')
    .requiredOption('--out <file>', 'the .fxpkg to write')
    .option('--fp16', 'also package a half-precision variant, checked against fp32')
    .option('--preview <images...>', 'photos for the before/after previews (with --model)')
    .option('--name <name>', 'package name')
    .option('--description <text>', 'package description')
    .option('--color-order <order>', 'colour order of the model I/O (with --model)', parseColorOrder, 'RGB')
    .option('--value-range <low,high>', 'values pixel 0 and 255 map to (with --model; the studio\'s students use 0,1)', parseRange, [0, 1])
    .option('--json', 'print the result as JSON')
    .action(async (opts: ExportOptions) => {
      const { ExportError } = await import('../../export/errors.ts');
      const { writePackage } = await import('../../export/writer.ts');
      if ((opts.run === undefined) === (opts.model === undefined)) throw new ExportError('give exactly one of --run <id> or --model <file>');
      if (opts.run !== undefined) {
        await exportRun(opts, opts.run);
        return;
      }
      if (opts.checkpoint !== undefined) throw new ExportError('--checkpoint goes with --run <id>');
      if (!opts.preview || opts.preview.length === 0) throw new ExportError('--model needs at least one --preview <image> for the before/after previews');
      const { plainModelSource } = await import('../../export/source.ts');
      const { STUDIO_VERSION } = await import('../../export/version.ts');
      const source = await plainModelSource({
        modelPath: resolve(opts.model!),
        previewPaths: opts.preview.map((p) => resolve(p)),
        name: opts.name,
        description: opts.description,
        colorOrder: opts.colorOrder,
        valueRange: opts.valueRange,
      });
      const written = await writePackage(source, {
        out: resolve(opts.out),
        fp16: opts.fp16 === true,
        studioVersion: STUDIO_VERSION,
        onProgress: opts.json ? undefined : (step, total, message) => process.stderr.write(`[${step}/${total}] ${message}\n`),
      });
      const { path, size, sha256, speed } = written;
      const summary = { path, size, sha256, variants: written.manifest.variants, speed };
      process.stdout.write(
        opts.json
          ? `${JSON.stringify(summary, null, 2)}\n`
          : `wrote ${path} (${size} bytes, sha256 ${sha256}); ${speed.medianMs.toFixed(2)} ms per frame on ${speed.provider}\n`,
      );
    });

  program
    .command('verify')
    .description('check a .fxpkg: checksums, manifest schema, models load with the declared I/O and reproduce the previews')
    .argument('<file>', 'the package')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { formatReport, verifyPackage } = await import('../../export/verify.ts');
      const report = await verifyPackage(resolve(file));
      if (opts.json) {
        const { file: path, ok, sha256, size, checks, manifest } = report;
        process.stdout.write(`${JSON.stringify({ file: path, ok, sha256, size, checks, manifest }, null, 2)}\n`);
      } else {
        process.stdout.write(formatReport(report));
      }
      if (!report.ok) process.exitCode = 1;
    });
}
