// `effects-studio dataset …` (create, list, import, stats, export) and `effects-studio bench import`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { DatasetKind } from '../../../shared/datasets/types.ts';
import type { Studio } from '../../services/studio.ts';
import { DATA_DIR_OPTION, printJson, withStudio } from '../cli-kit.ts';

const KINDS: readonly DatasetKind[] = ['photos', 'pairs', 'synthetic'];

function parseKind(value: string): DatasetKind {
  if (!(KINDS as readonly string[]).includes(value)) throw new InvalidArgumentError(`kind must be one of ${KINDS.join(', ')}, got "${value}"`);
  return value as DatasetKind;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

function datasetByName(studio: Studio, name: string): number {
  const found = studio.datasets.store.findDataset(name);
  if (!found) throw new Error(`no dataset named "${name}"; see "effects-studio dataset list"`);
  return found.id;
}

/** Adds the `dataset` commands to the program and `import` to its `bench` command. */
export function registerDatasetCommands(program: Command, bench: Command): void {
  const dataset = program.command('dataset').description('datasets of photos and before/after pairs: create, import, inspect, export');
  const dataDirOption = ['--data-dir <dir>', 'data folder (default: $EFFECTS_STUDIO_HOME or the platform default)'] as const;

  dataset
    .command('create <name>')
    .description('create an empty dataset')
    .option('--kind <kind>', 'photos, pairs or synthetic', parseKind, 'photos')
    .option(...dataDirOption)
    .option('--json', 'print the dataset as JSON')
    .action(async (name: string, opts: { kind: DatasetKind; dataDir?: string; json?: boolean }) => {
      const info = await withStudio(opts.dataDir, async (studio) => studio.datasets.create({ name, kind: opts.kind }));
      if (opts.json) printJson(info);
      else process.stdout.write(`created ${info.kind} dataset "${info.name}" (id ${info.id})\n`);
    });

  dataset
    .command('list')
    .description('list datasets, newest first')
    .option(...dataDirOption)
    .option('--json', 'print JSON')
    .action(async (opts: { dataDir?: string; json?: boolean }) => {
      const list = await withStudio(opts.dataDir, async (studio) => studio.datasets.list());
      if (opts.json) {
        printJson(list);
        return;
      }
      for (const d of list) process.stdout.write(`${String(d.id).padStart(4)}  ${d.kind.padEnd(9)} ${String(d.itemCount).padStart(7)} items  ${d.name}\n`);
    });

  dataset
    .command('import <paths...>')
    .description('import files and folders (or before/after pairs with --pairs) into a dataset, created when missing')
    .requiredOption('--name <name>', 'the dataset')
    .option('--pairs', 'import before/after pairs: one folder (before/ and after/, or *_before/*_after) or two folders')
    .option('--no-faces', 'skip face detection')
    .option(...dataDirOption)
    .option('--json', 'print the import report as JSON')
    .action(async (paths: string[], opts: { name: string; pairs?: boolean; faces: boolean; dataDir?: string; json?: boolean }) => {
      const { planImport, runImport } = await import('../../datasets/importer.ts');
      const { FaceDetector } = await import('../../faces/detector.ts');
      const report = await withStudio(opts.dataDir, async (studio) => {
        const pairs = opts.pairs === true;
        const existing = studio.datasets.store.findDataset(opts.name);
        const datasetId = existing?.id ?? studio.datasets.create({ name: opts.name, kind: pairs ? 'pairs' : 'photos' }).id;
        const request = { datasetId, paths: paths.map((p) => resolve(p)), pairs };
        await studio.datasets.checkImport(request);
        const importId = await planImport(studio.datasets.store, request);
        const detector = opts.faces ? await FaceDetector.create() : null;
        const controller = new AbortController();
        const stop = (): void => controller.abort(new Error('interrupted; run the same import again to add the rest'));
        process.once('SIGINT', stop);
        try {
          return await runImport({ store: studio.datasets.store, blobs: studio.blobs, detector }, importId, request, {
            signal: controller.signal,
            onProgress: (done, total, message) => process.stderr.write(`\r${done}/${total} ${message}`),
          });
        } finally {
          process.removeListener('SIGINT', stop);
          process.stderr.write('\n');
          await detector?.release();
        }
      });
      if (opts.json) {
        printJson(report);
        return;
      }
      const c = report.counts;
      process.stdout.write(`${c.imported} imported, ${c.duplicate} duplicate, ${c.error} failed, ${c.skipped} skipped, ${c.withFace} with a face (${report.filesPerSecond.toFixed(1)} files/s)\n`);
      for (const p of report.problems) process.stdout.write(`  ${p.outcome}: ${p.path}: ${p.reason ?? ''}\n`);
    });

  dataset
    .command('stats <name>')
    .description('counts by status, rating, tag, faces and resolution, and tag balance')
    .option(...dataDirOption)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { dataDir?: string; json?: boolean }) => {
      const stats = await withStudio(opts.dataDir, async (studio) => studio.datasets.stats(datasetByName(studio, name)));
      if (opts.json) {
        printJson(stats);
        return;
      }
      const s = stats.byStatus;
      process.stdout.write(`${stats.name} (${stats.kind}): ${stats.total} items; ${s.accepted} accepted, ${s.rejected} rejected, ${s.pending} pending\n`);
      process.stdout.write(`faces: ${stats.faces.found} found, ${stats.faces.notFound} without, ${stats.faces.notChecked} not checked\n`);
      for (const t of stats.byTag) process.stdout.write(`  ${t.tag}: ${t.count} (${t.accepted} accepted)\n`);
    });

  dataset
    .command('export <name>')
    .description('write the accepted items (and "after" images of pairs) and a manifest.json to a folder')
    .requiredOption('--out <dir>', 'the folder to write')
    .option('--all', 'export every item, not only accepted ones')
    .option(...dataDirOption)
    .action(async (name: string, opts: { out: string; all?: boolean; dataDir?: string }) => {
      const written = await withStudio(opts.dataDir, async (studio) => {
        const datasetId = datasetByName(studio, name);
        const out = resolve(opts.out);
        mkdirSync(out, { recursive: true });
        const manifest: Record<string, unknown>[] = [];
        const page = 500;
        for (let offset = 0; ; offset += page) {
          const { items } = studio.datasets.items({ datasetId, status: opts.all ? undefined : 'accepted', offset, limit: page });
          for (const item of items) {
            const image = `${item.id}${extname(item.sourcePath ?? '') || '.img'}`;
            writeFileSync(join(out, image), await studio.blobs.read(item.imageSha));
            let target: string | null = null;
            if (item.targetSha !== null) {
              target = `${item.id}-after${extname(item.targetSourcePath ?? '') || '.img'}`;
              writeFileSync(join(out, target), await studio.blobs.read(item.targetSha));
            }
            const { id, status, rating, tags, notes, width, height, face, split, provenance, imageSha, targetSha } = item;
            manifest.push({ id, image, target, status, rating, tags, notes, width, height, face, split, provenance, imageSha, targetSha });
          }
          if (items.length < page) break;
        }
        writeFileSync(join(out, 'manifest.json'), `${JSON.stringify({ dataset: name, items: manifest }, null, 2)}\n`);
        return manifest.length;
      });
      process.stdout.write(`exported ${written} item(s) to ${resolve(opts.out)}\n`);
    });

  bench
    .command('import')
    .description('images per second importing generated 1024×1024 JPEGs, with and without face detection')
    .option('--json', 'print JSON (the only format)')
    .option('--count <n>', 'images per run (default 1000)', parseCount)
    .option('--concurrency <n>', 'files processed at once', parseCount)
    .action(async (opts: { count?: number; concurrency?: number }) => {
      const { runImportBench } = await import('../../bench/import.ts');
      printJson(await runImportBench({ count: opts.count, concurrency: opts.concurrency }));
    });
}
