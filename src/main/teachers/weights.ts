// A teacher's weights in and out of the blob store: import from a user's file, the tiny demo teacher, loading for jobs.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { TeacherArchitecture, TeacherFormat, TeacherInfo } from '../../shared/teachers/types.ts';
import type { BlobStore } from '../core/blob-store.ts';
import { parseSafetensors, serializeSafetensors } from '../engine/safetensors/index.ts';
import {
  completeTeacher,
  importTeacherFile,
  importTeacherWeights,
  makeRandomTeacherWeights,
  styleChannels,
  Teacher,
  TeacherImportError,
  TINY_TEACHER,
  toNvidiaTensors,
  type TeacherConfig,
} from '../engine/teacher/index.ts';
import { checkTeacherName, TeacherExistsError, type TeacherStore } from './store.ts';

/** Blob kind of stored teacher weights. */
const WEIGHTS_BLOB_KIND = 'teacher-weights';

/** A request about a teacher that cannot be carried out as asked (a missing file, a file that is no generator). */
export class TeacherRequestError extends Error {
  override readonly name = 'TeacherRequestError';
}

/** What the Teacher page shows of an architecture. */
export function architectureOf(config: TeacherConfig): TeacherArchitecture {
  return {
    resolution: config.resolution,
    zDim: config.zDim,
    wDim: config.wDim,
    mappingLayers: config.mappingLayers,
    numWs: config.numWs,
    imgChannels: config.imgChannels,
    hasNoise: config.hasNoise,
    channels: Object.fromEntries(Object.entries(config.channels).map(([r, c]) => [String(r), c])),
    styleChannels: styleChannels(config),
  };
}

/** Checks that a path names a readable regular file; throws {@link TeacherRequestError} naming the problem. */
export async function checkWeightsFile(path: string): Promise<void> {
  const st = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new TeacherRequestError(
      error.code === 'ENOENT' ? `No file at ${path}.` : `Cannot read ${path}: ${error.message}`,
    );
  });
  if (!st.isFile()) throw new TeacherRequestError(`${path} is not a regular file.`);
  if (st.size === 0) throw new TeacherRequestError(`${path} is empty (0 bytes).`);
}

/** sha256 of a file's bytes, read in chunks (cancellable between them). */
export async function sha256OfFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) {
    signal?.throwIfAborted();
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/** Stores a teacher's canonical weights (NVIDIA naming, w_avg included) and records it; the row takes the blob reference. */
async function storeTeacher(
  store: TeacherStore,
  blobs: BlobStore,
  teacher: Teacher,
  fields: { name: string; format: Exclude<TeacherFormat, 'onnx'>; sourceSha256: string | null; wAvg: 'file' | 'estimated' },
): Promise<TeacherInfo> {
  const bytes = serializeSafetensors(toNvidiaTensors(teacher.weights), { format: 'pt', producer: 'effects-studio' });
  const { sha256 } = await blobs.put(bytes, WEIGHTS_BLOB_KIND);
  return store.insert({
    name: fields.name,
    format: fields.format,
    sourceSha256: fields.sourceSha256 ?? sha256,
    weightsSha256: sha256,
    architecture: architectureOf(teacher.config),
    parameterCount: teacher.parameterCount,
    wAvg: fields.wAvg,
  });
}

/** Progress of an import: step of total, and what is happening. */
export type ImportProgress = (step: number, total: number, message: string) => void;

/**
 * Imports a StyleGAN2 .safetensors file (NVIDIA or rosinality naming; every tensor checked, a missing or mis-shaped
 * one named with its expected shape) as a new teacher. A file without w_avg gets it estimated from seeded latents.
 */
export async function importTeacher(
  store: TeacherStore,
  blobs: BlobStore,
  params: { path: string; name: string },
  opts: { signal?: AbortSignal; onProgress?: ImportProgress } = {},
): Promise<TeacherInfo> {
  const name = checkTeacherName(params.name);
  const progress = opts.onProgress ?? (() => undefined);
  if (store.find(name)) throw new TeacherExistsError(name);
  await checkWeightsFile(params.path);
  progress(0, 4, 'Hashing the file');
  const sourceSha256 = await sha256OfFile(params.path, opts.signal);
  progress(1, 4, 'Reading and checking every tensor');
  const { weights, report } = await importTeacherFile(params.path);
  opts.signal?.throwIfAborted();
  progress(2, 4, report.wAvg === 'missing' ? 'Estimating w_avg from 10,000 seeded latents' : 'Weights checked');
  const teacher = await completeTeacher(new Teacher(weights, report));
  opts.signal?.throwIfAborted();
  progress(3, 4, 'Storing the weights');
  const info = await storeTeacher(store, blobs, teacher, {
    name,
    format: report.naming,
    sourceSha256,
    wAvg: report.wAvg === 'file' ? 'file' : 'estimated',
  });
  progress(4, 4, 'Imported');
  return info;
}

/** Makes the tiny random-weight demo teacher (32×32, mapping depth 2) and stores it under `name`. */
export async function makeTinyTeacher(store: TeacherStore, blobs: BlobStore, name: string): Promise<TeacherInfo> {
  const checked = checkTeacherName(name);
  if (store.find(checked)) throw new TeacherExistsError(checked);
  const teacher = new Teacher(makeRandomTeacherWeights(TINY_TEACHER));
  return storeTeacher(store, blobs, teacher, { name: checked, format: 'studio-random', sourceSha256: null, wAvg: 'file' });
}

/**
 * Loads a stored StyleGAN2 teacher's weights from the blob store (verified against their hash). A black-box ONNX
 * teacher has no StyleGAN2 weights: asking for them is refused with a message saying so.
 */
export async function loadStoredTeacher(blobs: BlobStore, info: TeacherInfo): Promise<Teacher> {
  if (!info.styleSpace) {
    throw new TeacherRequestError(
      `Teacher "${info.name}" is a plain ONNX generator (a black box): it has no StyleGAN2 style space, so edits and truncation do not apply to it.`,
    );
  }
  const buffer = await blobs.read(info.weightsSha256);
  // A plain Uint8Array view: Buffer's slice() shares memory, which the safetensors reader's copies rely on not doing.
  const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  try {
    const { weights, report } = importTeacherWeights(parseSafetensors(bytes, `teacher "${info.name}"`));
    return new Teacher(weights, report);
  } catch (error) {
    if (error instanceof TeacherImportError) throw new TeacherRequestError(`The stored weights of teacher "${info.name}" do not load: ${error.message}`);
    throw error;
  }
}
