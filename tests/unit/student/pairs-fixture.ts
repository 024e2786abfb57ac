// Synthetic pairs for the student tests: smooth random images and their target under a known effect (colour matrix + blur).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { BlobStore } from '../../../src/main/core/blob-store.ts';
import type { DatasetStore } from '../../../src/main/datasets/store.ts';
import { Rng } from '../../../src/main/engine/graph/index.ts';

/** The effect's colour matrix (a warm tint with some channel mixing) applied before the blur. */
export const EFFECT_MATRIX: [[number, number, number], [number, number, number], [number, number, number]] = [
  [0.85, 0.2, 0.0],
  [0.05, 0.8, 0.1],
  [0.0, 0.15, 0.65],
];
/** Gaussian blur sigma of the effect, in pixels. */
export const EFFECT_BLUR_SIGMA = 0.8;

/** A smooth random RGB image (gradient plus soft discs), raw interleaved bytes, deterministic in `index`. */
export function smoothImage(width: number, height: number, index: number): Buffer {
  const rng = new Rng(index, 'pairs-fixture');
  const base = [0, 1, 2].map(() => ({ a: 60 + 120 * rng.uniform(), gx: 80 * (rng.uniform() - 0.5), gy: 80 * (rng.uniform() - 0.5) }));
  const discs = Array.from({ length: 4 }, () => ({
    x: rng.uniform() * width,
    y: rng.uniform() * height,
    r: (0.12 + 0.25 * rng.uniform()) * Math.min(width, height),
    rgb: [0, 1, 2].map(() => 120 * (rng.uniform() - 0.5)),
  }));
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const b = base[c]!;
        let v = b.a + (b.gx * x) / width + (b.gy * y) / height;
        for (const d of discs) {
          const t = Math.hypot(x - d.x, y - d.y) / d.r;
          v += d.rgb[c]! / (1 + Math.exp(6 * (t - 1)));
        }
        out[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return out;
}

/** One pair as PNGs: the input, and the target = blur(matrix · input). */
export async function effectPair(size: number, index: number): Promise<{ input: Buffer; target: Buffer }> {
  const raw = smoothImage(size, size, index);
  const image = (): ReturnType<typeof sharp> => sharp(raw, { raw: { width: size, height: size, channels: 3 } });
  const input = await image().png().toBuffer();
  const target = await image().recomb(EFFECT_MATRIX).blur(EFFECT_BLUR_SIGMA).png().toBuffer();
  return { input, target };
}

/** A second pair whose target is a different size from its input (for the mismatched-sizes check). */
export async function mismatchedPair(size: number): Promise<{ input: Buffer; target: Buffer }> {
  const pair = await effectPair(size, 999);
  return { input: pair.input, target: await sharp(pair.target).resize(size + 8, size).png().toBuffer() };
}

/** Inserts `count` effect pairs (images `size`² pixels) into a new pairs dataset; returns its id. */
export async function insertPairsDataset(
  store: DatasetStore,
  blobs: BlobStore,
  options: { name: string; count: number; size: number; validationFraction?: number; extra?: { input: Buffer; target: Buffer }[] },
): Promise<number> {
  const dataset = store.createDataset({ name: options.name, kind: 'pairs', validationFraction: options.validationFraction ?? 0.2 });
  const pairs = await Promise.all(Array.from({ length: options.count }, (_, i) => effectPair(options.size, i + 1)));
  for (const pair of [...pairs, ...(options.extra ?? [])]) {
    const image = await blobs.put(pair.input, 'image');
    const thumb = await blobs.put(pair.input, 'thumbnail');
    const target = await blobs.put(pair.target, 'image');
    const targetThumb = await blobs.put(pair.target, 'thumbnail');
    const meta = await sharp(pair.input).metadata();
    store.insertItems([
      {
        datasetId: dataset.id,
        width: meta.width!,
        height: meta.height!,
        faces: null,
        sourcePath: null,
        targetSourcePath: null,
        provenance: null,
        imageSha: image.sha256,
        thumbSha: thumb.sha256,
        targetSha: target.sha256,
        targetThumbSha: targetThumb.sha256,
        phash: null,
      },
    ]);
  }
  return dataset.id;
}

/** Writes `count` effect pairs as `before/NNN.png` and `after/NNN.png` under `dir` (an importable pairs folder). */
export async function writePairsFolder(dir: string, count: number, size: number): Promise<void> {
  mkdirSync(join(dir, 'before'), { recursive: true });
  mkdirSync(join(dir, 'after'), { recursive: true });
  for (let i = 1; i <= count; i++) {
    const pair = await effectPair(size, i);
    const name = `${String(i).padStart(3, '0')}.png`;
    writeFileSync(join(dir, 'before', name), pair.input);
    writeFileSync(join(dir, 'after', name), pair.target);
  }
}
