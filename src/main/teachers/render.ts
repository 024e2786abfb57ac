// Teacher images out of the generator: pixels, PNG previews in the blob store, and the sampling of a synthetic dataset.
import sharp from 'sharp';
import type { PixelImage } from '../../shared/faces/warp.ts';
import type {
  TeacherInfo,
  TeacherPreviewResult,
  TeacherSampleParams,
  TeacherSampleProvenance,
  TeacherSampleResult,
} from '../../shared/teachers/types.ts';
import type { ProviderName } from '../../shared/contract.ts';
import type { BlobStore } from '../core/blob-store.ts';
import { phashOfPixels } from '../datasets/phash.ts';
import type { DatasetStore, NewItem } from '../datasets/store.ts';
import { OnnxGeneratorError, OnnxGeneratorSampler, TeacherSampler, type Teacher } from '../engine/teacher/index.ts';
import { checkPsiApplies, loadStoredOnnxModel } from './onnx.ts';
import { loadStoredTeacher, TeacherRequestError } from './weights.ts';

/** Images per generator run in jobs. */
export const SAMPLE_BATCH = 8;
/** Longer side of dataset thumbnails, as the dataset importer makes them. */
const THUMB_SIDE = 256;

/**
 * Image `index` of a batch ([n, C, R, R] in about [-1, 1]) as 8-bit interleaved pixels, mapped as the reference
 * code saves images: round(x · 127.5 + 128) clamped to [0, 255].
 */
export function toPixels(images: Float32Array, index: number, config: { resolution: number; imgChannels: number }): PixelImage {
  const { resolution: r, imgChannels: c } = config;
  const plane = r * r;
  const base = index * c * plane;
  const data = Buffer.alloc(plane * c);
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < plane; p++) {
      const v = Math.floor(images[base + ch * plane + p]! * 127.5 + 128);
      data[p * c + ch] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { data, width: r, height: r, channels: c };
}

function png(image: PixelImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels as 1 | 3 } })
    .png()
    .toBuffer();
}

/** Images of seeds and the latents that made them, as every kind of stored teacher renders them. */
export interface TeacherGenerator {
  /** Seeds per run. */
  readonly batch: number;
  readonly provider: ProviderName;
  readonly resolution: number;
  readonly imgChannels: number;
  /** What a sample's latent is: StyleGAN2's ws, or the z or w fed to a black-box generator. */
  readonly latentKind: TeacherSampleProvenance['latentKind'];
  /** Shape of one sample's latent. */
  readonly latentShape: [number, number];
  readonly noise: TeacherSampleProvenance['noise'];
  /** Images [n, C, R, R] in about [-1, 1] and latents [n, ...latentShape] of the seeds. */
  render(seeds: readonly number[], psi: number): Promise<{ images: Float32Array; latents: Float32Array }>;
  release(): Promise<void>;
}

/**
 * Opens a generator session on a stored teacher: the StyleGAN2 z → image model, or the black-box ONNX model as
 * imported (which refuses ψ ≠ 1 and any run whose output is not the image it was checked to give).
 */
export async function openTeacherGenerator(
  blobs: BlobStore,
  info: TeacherInfo,
  opts: { batch: number; psi: number },
): Promise<TeacherGenerator> {
  checkPsiApplies(info, opts.psi);
  if (info.onnx !== null) {
    const io = info.onnx;
    const sampler = await OnnxGeneratorSampler.create(await loadStoredOnnxModel(blobs, info), io, { batch: opts.batch });
    return {
      batch: sampler.batch,
      provider: sampler.provider.name,
      resolution: io.resolution,
      imgChannels: io.imgChannels,
      latentKind: io.input,
      latentShape: [1, io.dim],
      noise: null,
      render: async (seeds) => {
        try {
          return await sampler.render(seeds);
        } catch (error) {
          if (error instanceof OnnxGeneratorError) throw new TeacherRequestError(`Teacher "${info.name}": ${error.message}`);
          throw error;
        }
      },
      release: () => sampler.release(),
    };
  }
  return styleganGenerator(await loadStoredTeacher(blobs, info), opts.batch);
}

/** A generator session on StyleGAN2 weights (stored, or read from a file by the CLI): z → image with ψ, latents ws. */
export async function styleganGenerator(teacher: Teacher, batch: number): Promise<TeacherGenerator> {
  const { config } = teacher;
  const sampler = await TeacherSampler.create(teacher, { batch });
  return {
    batch: sampler.batch,
    provider: sampler.provider.name,
    resolution: config.resolution,
    imgChannels: config.imgChannels,
    latentKind: 'ws',
    latentShape: [config.numWs, config.wDim],
    noise: 'const',
    render: async (seeds, psi) => {
      const batch = await sampler.render(seeds, psi);
      return { images: batch.images, latents: batch.ws };
    },
    release: () => sampler.release(),
  };
}

/**
 * Renders the images of `seeds` with truncation ψ and puts them into the blob store as PNGs. The references are
 * dropped at once: previews are kept until the next sweep (the studio's next start), not forever.
 */
export async function renderPreview(
  blobs: BlobStore,
  info: TeacherInfo,
  seeds: readonly number[],
  psi: number,
  signal?: AbortSignal,
): Promise<TeacherPreviewResult> {
  const generator = await openTeacherGenerator(blobs, info, { batch: Math.min(seeds.length, SAMPLE_BATCH), psi });
  try {
    signal?.throwIfAborted();
    const batch = await generator.render(seeds, psi);
    const images = [];
    for (let i = 0; i < seeds.length; i++) {
      const { sha256 } = await blobs.put(await png(toPixels(batch.images, i, generator)), 'preview');
      blobs.release(sha256);
      images.push({ seed: seeds[i]!, sha256 });
    }
    return { teacherId: info.id, psi, resolution: generator.resolution, images, provider: generator.provider };
  } finally {
    await generator.release();
  }
}

/** Where a sampling job stands; saved after every batch so a resumed job continues after the last finished one. */
export interface SampleCheckpoint {
  datasetId: number;
  /** Samples finished (seeds `seed` … `seed + done − 1`). */
  done: number;
}

/** Hooks of {@link sampleToDataset}: cancellation, progress and checkpoints (the job runtime's). */
export interface SampleHooks {
  signal?: AbortSignal;
  progress?: (step: number, total: number, message: string) => void;
  saveCheckpoint?: (state: SampleCheckpoint) => void;
  resumeFrom?: SampleCheckpoint | null;
}

/**
 * Writes `count` samples (seeds `seed` + i, truncation ψ) as a new `synthetic` dataset: each item keeps its PNG,
 * thumbnail, pHash and provenance (teacher, seed, ψ, and its latent — ws, or an ONNX teacher's z or w — as a float32
 * blob). Batched on one generator session.
 */
export async function sampleToDataset(
  blobs: BlobStore,
  datasets: DatasetStore,
  info: TeacherInfo,
  params: TeacherSampleParams,
  hooks: SampleHooks = {},
): Promise<TeacherSampleResult> {
  checkPsiApplies(info, params.psi);
  let state: SampleCheckpoint;
  if (hooks.resumeFrom) {
    state = { ...hooks.resumeFrom };
    datasets.getDataset(state.datasetId);
  } else {
    state = { datasetId: datasets.createDataset({ name: params.datasetName, kind: 'synthetic' }).id, done: 0 };
    hooks.saveCheckpoint?.(state);
  }
  const dataset = datasets.getDataset(state.datasetId);
  const generator = await openTeacherGenerator(blobs, info, { batch: Math.min(params.count, SAMPLE_BATCH), psi: params.psi });
  try {
    hooks.progress?.(state.done, params.count, `Sampling on ${generator.provider}`);
    while (state.done < params.count) {
      hooks.signal?.throwIfAborted();
      const n = Math.min(generator.batch, params.count - state.done);
      const seeds = Array.from({ length: n }, (_, i) => params.seed + state.done + i);
      const batch = await generator.render(seeds, params.psi);
      const items = await storeBatch(blobs, dataset.id, info, generator, seeds, params.psi, batch);
      const results = datasets.insertItems(items);
      // The store releases a duplicate's image blobs, but its latent is this job's to release.
      results.forEach((r, i) => {
        if (r.duplicateOf !== null) blobs.release((items[i]!.provenance as TeacherSampleProvenance).latentSha256);
      });
      state = { datasetId: dataset.id, done: state.done + n };
      hooks.saveCheckpoint?.(state);
      hooks.progress?.(state.done, params.count, `${state.done} of ${params.count} samples`);
    }
    return { datasetId: dataset.id, datasetName: dataset.name, count: state.done, provider: generator.provider };
  } finally {
    await generator.release();
  }
}

async function storeBatch(
  blobs: BlobStore,
  datasetId: number,
  info: TeacherInfo,
  generator: TeacherGenerator,
  seeds: readonly number[],
  psi: number,
  batch: { images: Float32Array; latents: Float32Array },
): Promise<NewItem[]> {
  const [rows, cols] = generator.latentShape;
  const latentSize = rows * cols;
  const items: NewItem[] = [];
  for (let i = 0; i < seeds.length; i++) {
    const pixels = toPixels(batch.images, i, generator);
    const [image, thumb, phash] = await Promise.all([
      png(pixels),
      sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels as 1 | 3 } })
        .resize(THUMB_SIDE, THUMB_SIDE, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 80 })
        .toBuffer(),
      phashOfPixels(pixels),
    ]);
    const vector = batch.latents.slice(i * latentSize, (i + 1) * latentSize);
    const latent = await blobs.put(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength), 'latent');
    const imageBlob = await blobs.put(image, 'image');
    const thumbBlob = await blobs.put(thumb, 'thumbnail');
    const provenance: TeacherSampleProvenance = {
      source: 'teacher',
      teacherId: info.id,
      teacherName: info.name,
      seed: seeds[i]!,
      psi,
      noise: generator.noise,
      latentKind: generator.latentKind,
      latentSha256: latent.sha256,
      latentShape: [rows, cols],
    };
    items.push({
      datasetId,
      width: generator.resolution,
      height: generator.resolution,
      faces: null,
      sourcePath: null,
      targetSourcePath: null,
      provenance,
      imageSha: imageBlob.sha256,
      thumbSha: thumbBlob.sha256,
      targetSha: null,
      targetThumbSha: null,
      phash,
    });
  }
  return items;
}
