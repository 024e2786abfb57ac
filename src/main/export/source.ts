// Package sources: what an export is made from (for now a plain fp32 ONNX model and preview photos on disk).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ManifestIo } from './manifest.ts';
import { ExportError } from './errors.ts';
import type { PackageSource } from './writer.ts';

/** Options of {@link plainModelSource}. */
export interface PlainModelSourceOptions {
  /** Path of an fp32 ONNX model (opset 17, one float32 [1,3,H,W] input and output, weights as initialisers). */
  modelPath: string;
  /** Photos shown before/after; fitted to the model's input size. */
  previewPaths: readonly string[];
  /** Package name (default: the model file's name). */
  name?: string | undefined;
  description?: string | undefined;
  colorOrder?: ManifestIo['colorOrder'] | undefined;
  valueRange?: ManifestIo['valueRange'] | undefined;
}

/** A package source around a plain ONNX model: no run, teacher or dataset to record, previews from files. */
export async function plainModelSource(opts: PlainModelSourceOptions): Promise<PackageSource> {
  const model = await readInput(opts.modelPath, 'model');
  const previewImages = await Promise.all(opts.previewPaths.map((p) => readInput(p, 'preview image')));
  return {
    model,
    name: opts.name ?? basename(opts.modelPath).replace(/\.onnx$/i, ''),
    description: opts.description ?? '',
    colorOrder: opts.colorOrder ?? 'RGB',
    // The studio's students take RGB in [0, 1].
    valueRange: opts.valueRange ?? [0, 1],
    faceCrop: null,
    prompt: null,
    provenance: { source: 'model', run: null, teacher: null, dataset: null, training: null, metrics: null },
    previewImages,
  };
}

async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new ExportError(`cannot read the ${what} ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
