// Import benchmark: images per second importing generated 1024×1024 JPEGs (decode, thumbnail, hashes, faces), with and without detection.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import sharp, { type OverlayOptions } from 'sharp';
import { BlobStore } from '../core/blob-store.ts';
import { migrate } from '../core/db/database.ts';
import { MIGRATIONS } from '../core/db/migrations/index.ts';
import { planImport, runImport } from '../datasets/importer.ts';
import { DatasetStore } from '../datasets/store.ts';
import { FaceDetector } from '../faces/detector.ts';

/** Options of the import benchmark. */
export interface ImportBenchOptions {
  /** Images imported per run (default 1,000). */
  count?: number;
  /** Side of the generated square JPEGs (default 1024). */
  size?: number;
  /** Files processed at once (default: the importer's choice for this machine). */
  concurrency?: number;
}

/** One measured import run. */
interface RunResult {
  seconds: number;
  imagesPerSecond: number;
  imported: number;
  errors: number;
}

/**
 * Generates `count` distinct JPEGs (smooth colour fields with noise, like photos compress), then imports them twice
 * into fresh datasets: once with BlazeFace detection and once without. Every stage of the real pipeline runs.
 */
export async function runImportBench(options: ImportBenchOptions = {}): Promise<Record<string, unknown>> {
  const count = options.count ?? 1000;
  const size = options.size ?? 1024;
  const dir = mkdtempSync(join(tmpdir(), 'effects-studio-bench-import-'));
  try {
    const src = join(dir, 'photos');
    mkdirSync(src);
    const generateStart = performance.now();
    const bases = await makeBases(size);
    for (let i = 0; i < count; i++) writeFileSync(join(src, `photo-${String(i).padStart(5, '0')}.jpg`), await photoLike(bases, i, size));
    const generateSeconds = (performance.now() - generateStart) / 1000;

    const db = new BetterSqlite3(join(dir, 'studio.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, MIGRATIONS);
    const blobs = new BlobStore(db, join(dir, 'blobs'));
    const store = new DatasetStore(db, blobs);
    const detector = await FaceDetector.create();
    try {
      const run = async (name: string, withFaces: boolean): Promise<RunResult> => {
        const dataset = store.createDataset({ name, kind: 'photos' });
        const request = { datasetId: dataset.id, paths: [src], pairs: false };
        const started = performance.now();
        const importId = await planImport(store, request);
        const report = await runImport({ store, blobs, detector: withFaces ? detector : null }, importId, request, {
          concurrency: options.concurrency,
        });
        const seconds = (performance.now() - started) / 1000;
        return { seconds: round(seconds), imagesPerSecond: round(count / seconds), imported: report.counts.imported, errors: report.counts.error };
      };
      const withFaces = await run('with faces', true);
      const withoutFaces = await run('without faces', false);
      return {
        bench: 'import',
        images: count,
        size: `${size}×${size} JPEG`,
        withFaceDetection: withFaces,
        withoutFaceDetection: withoutFaces,
        generateSeconds: round(generateSeconds),
        faceProvider: detector.provider,
        cores: availableParallelism(),
        cpu: cpus()[0]?.model ?? 'unknown',
        sharpConcurrency: sharp.concurrency(),
      };
    } finally {
      await detector.release();
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Distinct backgrounds; each image adds its own marks on one, so no two files share content. */
const BASES = 16;

// Smooth colour fields under gaussian noise, so JPEG sizes and decode costs are photo-like.
async function makeBases(size: number): Promise<Buffer[]> {
  const bases: Buffer[] = [];
  for (let b = 0; b < BASES; b++) {
    const small = 8;
    const grid = Buffer.alloc(small * small * 3);
    for (let p = 0; p < small * small; p++) {
      for (let c = 0; c < 3; c++) grid[p * 3 + c] = (b * 37 + p * (11 + c * 7) + c * 85) % 256;
    }
    const noise = await sharp({ create: { width: size, height: size, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 12 } } })
      .raw()
      .toBuffer();
    const base = await sharp(grid, { raw: { width: small, height: small, channels: 3 } }).resize(size, size, { kernel: 'cubic' }).raw().toBuffer();
    for (let i = 0; i < base.length; i++) base[i] = Math.max(0, Math.min(255, base[i]! + noise[i]! - 128));
    bases.push(base);
  }
  return bases;
}

// Image `index`: a background plus two blocks whose colours and places follow from the index.
function photoLike(bases: readonly Buffer[], index: number, size: number): Promise<Buffer> {
  const block = Math.max(8, size >> 4);
  const span = size - block;
  const mark = (k: number): OverlayOptions => ({
    input: { create: { width: block, height: block, channels: 3, background: { r: (index * 53 + k * 90) % 256, g: (index * 97) % 256, b: (index * 29 + k * 40) % 256 } } },
    left: (index * (131 + k * 17)) % span,
    top: (Math.floor(index / BASES) * (71 + k * 13)) % span,
  });
  return sharp(bases[index % BASES]!, { raw: { width: size, height: size, channels: 3 } })
    .composite([mark(0), mark(1)])
    .jpeg({ quality: 90 })
    .toBuffer();
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
