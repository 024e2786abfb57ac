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
import type { BlobStore } from '../core/blob-store.ts';
import { phashOfPixels } from '../datasets/phash.ts';
import type { DatasetStore, NewItem } from '../datasets/store.ts';
import { TeacherSampler, type SampleBatch, type TeacherConfig } from '../engine/teacher/index.ts';
import { loadStoredTeacher } from './weights.ts';

/** Images per generator run in jobs. */
export const SAMPLE_BATCH = 8;
/** Longer side of dataset thumbnails, as the dataset importer makes them. */
const THUMB_SIDE = 256;

/**
 * Image `index` of a batch ([n, C, R, R] in about [-1, 1]) as 8-bit interleaved pixels, mapped as the reference
 * code saves images: round(x · 127.5 + 128) clamped to [0, 255].
 */
export function toPixels(images: Float32Array, index: number, config: TeacherConfig): PixelImage {
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
  const teacher = await loadStoredTeacher(blobs, info);
  signal?.throwIfAborted();
  const sampler = await TeacherSampler.create(teacher, { batch: Math.min(seeds.length, SAMPLE_BATCH) });
  try {
    const batch = await sampler.render(seeds, psi);
    const images = [];
    for (let i = 0; i < seeds.length; i++) {
      const { sha256 } = await blobs.put(await png(toPixels(batch.images, i, teacher.config)), 'preview');
      blobs.release(sha256);
      images.push({ seed: seeds[i]!, sha256 });
    }
    return { teacherId: info.id, psi, resolution: teacher.config.resolution, images, provider: sampler.provider.name };
  } finally {
    await sampler.release();
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
 * thumbnail, pHash and provenance (teacher, seed, ψ, and ws as a float32 blob). Batched on one generator session.
 */
export async function sampleToDataset(
  blobs: BlobStore,
  datasets: DatasetStore,
  info: TeacherInfo,
  params: TeacherSampleParams,
  hooks: SampleHooks = {},
): Promise<TeacherSampleResult> {
  const teacher = await loadStoredTeacher(blobs, info);
  let state: SampleCheckpoint;
  if (hooks.resumeFrom) {
    state = { ...hooks.resumeFrom };
    datasets.getDataset(state.datasetId);
  } else {
    state = { datasetId: datasets.createDataset({ name: params.datasetName, kind: 'synthetic' }).id, done: 0 };
    hooks.saveCheckpoint?.(state);
  }
  const dataset = datasets.getDataset(state.datasetId);
  const sampler = await TeacherSampler.create(teacher, { batch: Math.min(params.count, SAMPLE_BATCH) });
  try {
    hooks.progress?.(state.done, params.count, `Sampling on ${sampler.provider.name}`);
    while (state.done < params.count) {
      hooks.signal?.throwIfAborted();
      const n = Math.min(sampler.batch, params.count - state.done);
      const seeds = Array.from({ length: n }, (_, i) => params.seed + state.done + i);
      const batch = await sampler.render(seeds, params.psi);
      const items = await storeBatch(blobs, dataset.id, info, teacher.config, seeds, params.psi, batch);
      const results = datasets.insertItems(items);
      // The store releases a duplicate's image blobs, but its latent is this job's to release.
      results.forEach((r, i) => {
        if (r.duplicateOf !== null) blobs.release((items[i]!.provenance as TeacherSampleProvenance).latentSha256);
      });
      state = { datasetId: dataset.id, done: state.done + n };
      hooks.saveCheckpoint?.(state);
      hooks.progress?.(state.done, params.count, `${state.done} of ${params.count} samples`);
    }
    return { datasetId: dataset.id, datasetName: dataset.name, count: state.done, provider: sampler.provider.name };
  } finally {
    await sampler.release();
  }
}

async function storeBatch(
  blobs: BlobStore,
  datasetId: number,
  info: TeacherInfo,
  config: TeacherConfig,
  seeds: readonly number[],
  psi: number,
  batch: SampleBatch,
): Promise<NewItem[]> {
  const wsSize = config.numWs * config.wDim;
  const items: NewItem[] = [];
  for (let i = 0; i < seeds.length; i++) {
    const pixels = toPixels(batch.images, i, config);
    const [image, thumb, phash] = await Promise.all([
      png(pixels),
      sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels as 1 | 3 } })
        .resize(THUMB_SIDE, THUMB_SIDE, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 80 })
        .toBuffer(),
      phashOfPixels(pixels),
    ]);
    const ws = batch.ws.slice(i * wsSize, (i + 1) * wsSize);
    const latent = await blobs.put(new Uint8Array(ws.buffer, ws.byteOffset, ws.byteLength), 'latent');
    const imageBlob = await blobs.put(image, 'image');
    const thumbBlob = await blobs.put(thumb, 'thumbnail');
    const provenance: TeacherSampleProvenance = {
      source: 'teacher',
      teacherId: info.id,
      teacherName: info.name,
      seed: seeds[i]!,
      psi,
      noise: 'const',
      latentSha256: latent.sha256,
      latentShape: [config.numWs, config.wDim],
    };
    items.push({
      datasetId,
      width: config.resolution,
      height: config.resolution,
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
