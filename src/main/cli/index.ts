// Headless entry point: every studio step as a command (`effects-studio <command>`), for GPU boxes without a display.
import { Command, InvalidArgumentError } from 'commander';
import { printJson, STUDIO_VERSION } from './cli-kit.ts';
import { registerDatasetCommands } from './commands/dataset.ts';
import { registerEffectsCommands } from './commands/effects.ts';
import { registerExportCommands } from './commands/export.ts';
import { registerTeacherCommands } from './commands/teacher.ts';
import { registerTrainCommands } from './commands/train.ts';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`port must be an integer from 0 to 65535, got "${value}"`);
  }
  return port;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

const program = new Command()
  .name('effects-studio')
  .description('Effects Studio: distil a StyleGAN2 + StyleCLIP teacher into a real-time face-effect student.')
  .version(STUDIO_VERSION);

program
  .command('devices')
  .description('probe every ONNX Runtime execution provider this platform may have and report which work')
  .option('--json', 'print the report as JSON')
  .action(async (opts: { json?: boolean }) => {
    const { probeProviders } = await import('../engine/runtime/index.ts');
    const report = await probeProviders();
    if (opts.json) {
      printJson(report);
      return;
    }
    for (const p of report.providers) {
      const state = p.available ? `ok${p.ms === null ? '' : ` (${p.ms.toFixed(2)} ms)`}` : `unavailable: ${p.reason ?? ''}`;
      process.stdout.write(`${p.name.padEnd(8)} ${state}\n`);
    }
    process.stdout.write(`preferred: ${report.preferred}\n`);
  });

program
  .command('serve')
  .description('serve the studio to a browser on this machine (127.0.0.1 only, random token), e.g. over an SSH tunnel')
  .option('--port <n>', 'TCP port (0 picks a free one)', parsePort, 7860)
  .option('--data-dir <dir>', 'data folder (default: $EFFECTS_STUDIO_HOME or the platform default)')
  .action(async (opts: { port: number; dataDir?: string }) => {
    const { fileURLToPath } = await import('node:url');
    const { existsSync } = await import('node:fs');
    const { resolveDataDir } = await import('../core/data-dir.ts');
    const { Studio } = await import('../services/studio.ts');
    const { startBrowserHost } = await import('../host/browser-host.ts');
    const rendererDir = fileURLToPath(new URL('../../../out/renderer', import.meta.url));
    if (!existsSync(rendererDir)) {
      process.stderr.write(`effects-studio serve: the renderer is not built (${rendererDir} is missing); run "npm run build" first\n`);
      process.exit(1);
    }
    const dataDir = resolveDataDir({ dataDir: opts.dataDir });
    const studio = await Studio.open({ dataDir, host: 'browser', version: STUDIO_VERSION });
    const host = await startBrowserHost({
      studio,
      port: opts.port,
      rendererDir,
      blobs: studio.blobs,
      log: (line: string) => process.stderr.write(`${line}\n`),
      live: { open: (send) => studio.openNativeLive(send) },
    });
    process.stdout.write(`${JSON.stringify({ event: 'listening', url: host.url, port: host.port, token: host.token, dataDir })}\n`);
    let isClosing = false;
    const shutdown = (): void => {
      if (isClosing) return;
      isClosing = true;
      void host.close().then(() => studio.close()).then(() => process.exit(0));
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });

const bench = program.command('bench').description('speed benchmarks; each prints one JSON object');

registerDatasetCommands(program, bench);
registerExportCommands(program);
registerTeacherCommands(program);
registerEffectsCommands(program, bench);
registerTrainCommands(program, bench);

bench
  .command('train-step')
  .description('one training step of a small depthwise-separable UNet (128², batch 8) vs PyTorch on the same CPU')
  .option('--json', 'print JSON (the only format)')
  .option('--steps <n>', 'measured steps', parsePositiveInt)
  .option('--threads <n>', 'intra-op threads for both runtimes', parsePositiveInt)
  .option('--profile', "also report ORT's profile: the op types and nodes that take the most time per step")
  .action(async (opts: { steps?: number; threads?: number; profile?: boolean }) => {
    const { runTrainStepBench } = await import('../bench/train-step.ts');
    printJson(await runTrainStepBench({ steps: opts.steps, threads: opts.threads, profile: opts.profile === true }));
  });

bench
  .command('teacher')
  .description('images per second of a 256² config-f-sized StyleGAN2 generator, batch 8, vs PyTorch')
  .option('--json', 'print JSON (the only format)')
  .option('--batches <n>', 'measured batches', parsePositiveInt)
  .option('--threads <n>', 'intra-op threads for both runtimes', parsePositiveInt)
  .action(async (opts: { batches?: number; threads?: number }) => {
    const { runTeacherBench } = await import('../bench/teacher.ts');
    printJson(await runTeacherBench({ batches: opts.batches, threads: opts.threads }));
  });

bench
  .command('live')
  .description('per-frame ms of the live preview (track, crop, default 256² student, paste back) per available backend')
  .option('--json', 'print JSON (the only format)')
  .option('--frames <n>', 'measured frames per backend', parsePositiveInt)
  .option('--threads <n>', 'intra-op threads of each runtime', parsePositiveInt)
  .action(async (opts: { frames?: number; threads?: number }) => {
    const { runLiveBench } = await import('../bench/live.ts');
    printJson(await runLiveBench({ frames: opts.frames, threads: opts.threads }));
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`effects-studio: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
