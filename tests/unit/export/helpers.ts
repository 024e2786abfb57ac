// Helpers of the export tests: a small image-to-image net built with the graph builder, preview photos, temp folders.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Graph } from '../../../src/main/engine/graph/index.ts';
import type { PackageSource } from '../../../src/main/export/writer.ts';

/** A small residual UNet-like student (conv, HardSwish, stride-2 conv, nearest ×2 Resize, skip concat, tanh). */
export function buildTinyStudent(size = 32, seed = 7): Uint8Array {
  const g = new Graph('tiny-student', { seed });
  const x = g.input('image', 'float32', [1, 3, size, size]);
  const w1 = g.param('enc.w', [8, 3, 3, 3], 'he');
  const b1 = g.param('enc.b', [8], { kind: 'normal', std: 0.1 });
  const f1 = g.hardSwish(g.conv(x, w1, b1, { pads: 1 }));
  const w2 = g.param('down.w', [8, 8, 3, 3], 'he');
  const f2 = g.relu(g.conv(f1, w2, null, { pads: 1, strides: 2 }));
  const up = g.resize(f2, { scales: [1, 1, 2, 2], mode: 'nearest' });
  const w3 = g.param('dec.w', [3, 16, 3, 3], { kind: 'normal', std: 0.1 });
  const b3 = g.param('dec.b', [3], { kind: 'normal', std: 0.05 });
  const residual = g.mul(g.tanh(g.conv(g.concat([up, f1], 1), w3, b3, { pads: 1 })), 0.5);
  g.output('stylized', g.clip(g.add(x, residual), -1, 1));
  return g.toModelBytes({ params: 'initializers' });
}

/** A deterministic photo-like test image (gradients and a disc), PNG, `width`×`height`. */
export async function makePhoto(width: number, height: number, variant = 0): Promise<Uint8Array> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const inDisc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (Math.min(width, height) / 3) ** 2;
      pixels[i] = (x * 255) / width;
      pixels[i + 1] = inDisc ? 200 - variant * 40 : (y * 255) / height;
      pixels[i + 2] = ((x + y + variant * 17) * 7) % 256;
    }
  }
  return new Uint8Array(await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer());
}

/** A package source around `model` with two preview photos and plain-model provenance. */
export async function makeSource(model: Uint8Array): Promise<PackageSource> {
  return {
    model,
    name: 'Tiny test effect',
    description: 'A small student built by the export tests.',
    colorOrder: 'RGB',
    valueRange: [-1, 1],
    faceCrop: null,
    prompt: { target: 'a smiling face', neutral: 'a face', alpha: 4.1, beta: 0.15 },
    provenance: { source: 'model', run: null, teacher: null, dataset: null, training: null, metrics: null },
    previewImages: [await makePhoto(48, 40, 0), await makePhoto(32, 32, 1)],
  };
}

/** A fresh temp folder; `cleanup` removes it. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'effects-studio-export-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
