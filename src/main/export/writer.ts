// Writes a .fxpkg: fp32 model (+ optional checked fp16 variant), manifest, before/after previews, sha256 of every file.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import yazl from 'yazl';
import { ExportError } from './errors.ts';
import { convertToFp16 } from './fp16.ts';
import { maxAbsDiff, measureMedianMs, openModelSession, runImage } from './inference.ts';
import {
  checkManifest,
  MANIFEST_FILE,
  MODEL_FILE,
  MODEL_FP16_FILE,
  type Manifest,
  type ManifestFaceCrop,
  type ManifestFile,
  type ManifestIo,
  type ManifestPrompt,
  type ManifestProvenance,
  type ManifestTensor,
  type ManifestVariant,
} from './manifest.ts';
import { formatShape, readModelInfo, type TensorSignature } from './model-info.ts';
import { fitPreviewImage, maxPixelDiff, pixelsToPng, pngToTensor, tensorToPixels, type ImageTensor } from './preview.ts';

/** Allowed difference (8-bit levels) between the fp32 model's output and its packaged `after` image: rounding only. */
export const FP32_TOLERANCE = 1;
/** Allowed difference (8-bit levels) of the fp16 variant from the fp32 `after` images; export fails beyond it. */
export const FP16_TOLERANCE = 4;
/** At most this many preview pairs go into a package. */
export const MAX_PREVIEWS = 16;

/** Everything a package is made from: the trained forward model and what the manifest says about it. */
export interface PackageSource {
  /** ONNX bytes of the fp32 forward model with its weights as initialisers (opset 17). */
  model: Uint8Array;
  name: string;
  description: string;
  colorOrder: ManifestIo['colorOrder'];
  valueRange: ManifestIo['valueRange'];
  faceCrop: ManifestFaceCrop | null;
  prompt: ManifestPrompt | null;
  provenance: Omit<ManifestProvenance, 'modelSha256'>;
  /** Images (any format sharp reads) to show before/after; each is fitted to the model's input size. */
  previewImages: readonly Uint8Array[];
}

/** Options of {@link writePackage}. */
export interface WritePackageOptions {
  /** The .fxpkg file to write (replaced atomically). */
  out: string;
  /** Also package a half-precision variant, checked against fp32 on the previews. */
  fp16: boolean;
  studioVersion: string;
  /** Called as work advances. */
  onProgress?: (step: number, total: number, message: string) => void;
  signal?: AbortSignal;
  /** Export time (default now). */
  now?: Date;
}

/** A package that was written. */
export interface WrittenPackage {
  path: string;
  size: number;
  /** sha256 of the whole .fxpkg file. */
  sha256: string;
  manifest: Manifest;
  /** Median milliseconds per frame of the fp32 model on the first preview, and the provider it ran on. */
  speed: { medianMs: number; provider: string };
}

/** Builds and writes a package; nothing is left at `out` when it fails. */
export async function writePackage(source: PackageSource, options: WritePackageOptions): Promise<WrittenPackage> {
  const { signal } = options;
  const previewCount = source.previewImages.length;
  if (previewCount === 0) throw new ExportError('a package needs at least one preview image');
  if (previewCount > MAX_PREVIEWS) throw new ExportError(`a package holds at most ${MAX_PREVIEWS} preview images, got ${previewCount}`);
  const [lo, hi] = source.valueRange;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) throw new ExportError(`value range [${lo}, ${hi}] must have low < high`);
  const total = previewCount * (options.fp16 ? 2 : 1) + 2;
  let step = 0;
  const progress = (message: string): void => options.onProgress?.(step++, total, message);

  progress('checking the model');
  const { input, output } = checkPackageModel(source.model);
  const io: ManifestIo = { input, output, layout: 'NCHW', colorOrder: source.colorOrder, valueRange: source.valueRange };
  const files = new Map<string, Uint8Array>([[MODEL_FILE, source.model]]);
  const previews: Manifest['previews'] = [];
  const fp32Outputs: ImageTensor[] = [];
  const afterPixels: Uint8Array[] = [];
  const befores: ImageTensor[] = [];

  const session = await openModelSession(source.model);
  let speed: WrittenPackage['speed'];
  try {
    for (let i = 0; i < previewCount; i++) {
      signal?.throwIfAborted();
      progress(`preview ${i + 1} of ${previewCount}`);
      const tag = String(i).padStart(2, '0');
      const beforePng = await fitPreviewImage(source.previewImages[i]!, input.shape[3], input.shape[2]);
      const before = await pngToTensor(beforePng, io);
      const after = await runImage(session, io, before);
      const pixels = tensorToPixels(after, io);
      files.set(`preview/${tag}-before.png`, beforePng);
      files.set(`preview/${tag}-after.png`, await pixelsToPng(pixels, after.width, after.height));
      previews.push({ before: `preview/${tag}-before.png`, after: `preview/${tag}-after.png` });
      befores.push(before);
      fp32Outputs.push(after);
      afterPixels.push(pixels);
    }
    speed = { medianMs: await measureMedianMs(session, io, befores[0]!), provider: session.provider };
  } finally {
    await session.release();
  }

  const variants: ManifestVariant[] = [{ file: MODEL_FILE, precision: 'fp32', opset: 17, tolerance: FP32_TOLERANCE, maxAbsDiffVsFp32: 0 }];
  if (options.fp16) {
    const half = convertToFp16(source.model);
    const halfSession = await openModelSession(half);
    let worstValue = 0;
    let worstLevels = 0;
    try {
      for (let i = 0; i < previewCount; i++) {
        signal?.throwIfAborted();
        progress(`fp16 check ${i + 1} of ${previewCount}`);
        const out = await runImage(halfSession, io, befores[i]!);
        worstValue = Math.max(worstValue, maxAbsDiff(out.data, fp32Outputs[i]!.data));
        worstLevels = Math.max(worstLevels, maxPixelDiff(tensorToPixels(out, io), afterPixels[i]!));
      }
    } finally {
      await halfSession.release();
    }
    if (worstLevels > FP16_TOLERANCE) {
      throw new ExportError(
        `the fp16 variant differs from fp32 by ${worstLevels} levels (of 255) on the previews, more than the ${FP16_TOLERANCE} allowed; export without fp16`,
      );
    }
    files.set(MODEL_FP16_FILE, half);
    variants.push({ file: MODEL_FP16_FILE, precision: 'fp16', opset: 17, tolerance: FP16_TOLERANCE, maxAbsDiffVsFp32: worstValue });
  }

  const listed: ManifestFile[] = [...files].map(([path, bytes]) => ({ path, size: bytes.length, sha256: sha256Hex(bytes) }));
  const manifest: Manifest = {
    formatVersion: 1,
    name: source.name,
    description: source.description,
    createdAt: (options.now ?? new Date()).toISOString(),
    studioVersion: options.studioVersion,
    io,
    variants,
    faceCrop: source.faceCrop,
    effect: { prompt: source.prompt },
    provenance: { ...source.provenance, modelSha256: sha256Hex(source.model) },
    previews,
    files: listed,
  };
  const checked = checkManifest(manifest);
  if (!checked.ok) throw new ExportError(`the manifest would not pass its schema: ${checked.errors.join('; ')}`);

  signal?.throwIfAborted();
  progress(`writing ${options.out}`);
  const written = await writeZip(options.out, [[MANIFEST_FILE, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`)], ...files], manifest.createdAt);
  options.onProgress?.(total, total, 'done');
  return { path: options.out, ...written, manifest, speed };
}

/** sha256 of bytes as lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Checks that model bytes fit a package (opset 17, weights inside, one float32 [1,3,H,W] image in and out); returns its I/O. */
export function checkPackageModel(bytes: Uint8Array): { input: ManifestTensor; output: ManifestTensor } {
  let info;
  try {
    info = readModelInfo(bytes);
  } catch (error) {
    throw new ExportError(error instanceof Error ? error.message : String(error));
  }
  if (info.opset !== 17) throw new ExportError(`the model uses opset ${info.opset ?? 'none'}; packages hold opset 17 models`);
  if (info.externalInitializers.length > 0) {
    throw new ExportError(`the model keeps weights in external files (${info.externalInitializers.slice(0, 3).join(', ')}); a package needs them inside`);
  }
  if (info.inputs.length !== 1 || info.outputs.length !== 1) {
    throw new ExportError(
      `a packaged effect takes one image and returns one image; the model has ${info.inputs.length} input(s) and ${info.outputs.length} output(s) (weights must be initialisers, not inputs)`,
    );
  }
  const input = imageTensor('input', info.inputs[0]!);
  const output = imageTensor('output', info.outputs[0]!);
  return { input, output };
}

function imageTensor(role: string, sig: TensorSignature): ManifestTensor {
  const [n, c, h, w] = sig.shape;
  if (sig.dtype !== 'float32' || sig.shape.length !== 4 || n !== 1 || c !== 3 || !h || !w) {
    throw new ExportError(`the model's ${role} "${sig.name}" is ${sig.dtype} ${formatShape(sig.shape)}; expected float32 [1,3,H,W] with fixed H and W`);
  }
  return { name: sig.name, dtype: 'float32', shape: [1, 3, h, w] };
}

async function writeZip(out: string, entries: readonly [string, Uint8Array][], createdAt: string): Promise<{ size: number; sha256: string }> {
  const zip = new yazl.ZipFile();
  const mtime = new Date(createdAt);
  for (const [path, bytes] of entries) {
    // PNGs are already compressed; models deflate well.
    zip.addBuffer(Buffer.from(bytes), path, { mtime, mode: 0o100644, compress: !path.endsWith('.png') });
  }
  zip.end();
  const temp = `${out}.partial-${process.pid}`;
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(zip.outputStream, tap, createWriteStream(temp));
    await rename(temp, out);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return { size: (await stat(out)).size, sha256: hash.digest('hex') };
}
