// Black-box ONNX teachers: import of a plain .onnx generator with user-declared I/O, and loading its model for jobs.
import { readFile } from 'node:fs/promises';
import type { OnnxTeacherDeclaration, TeacherInfo } from '../../shared/teachers/types.ts';
import type { BlobStore } from '../core/blob-store.ts';
import { checkOnnxGenerator, OnnxGeneratorError } from '../engine/teacher/index.ts';
import { checkTeacherName, TeacherExistsError, type TeacherStore } from './store.ts';
import { checkWeightsFile, TeacherRequestError, type ImportProgress } from './weights.ts';

/** Blob kind of a stored black-box generator (the .onnx file as imported). */
const MODEL_BLOB_KIND = 'teacher-model';

/** Whether a path names an ONNX file by its extension (the Teacher page and CLI ask for an I/O declaration then). */
export function isOnnxPath(path: string): boolean {
  return /\.onnx$/i.test(path.trim());
}

/**
 * Imports a plain ONNX generator (z → image or w → image) as a black-box teacher: the file is checked against the
 * user's declaration (signature, a load in ONNX Runtime, one test run of the declared size) and stored as it is.
 * Every mismatch is a {@link TeacherRequestError} naming the input or output with the expected and actual shapes.
 */
export async function importOnnxTeacher(
  store: TeacherStore,
  blobs: BlobStore,
  params: { path: string; name: string; onnx: OnnxTeacherDeclaration },
  opts: { signal?: AbortSignal; onProgress?: ImportProgress } = {},
): Promise<TeacherInfo> {
  const name = checkTeacherName(params.name);
  const progress = opts.onProgress ?? (() => undefined);
  if (store.find(name)) throw new TeacherExistsError(name);
  await checkWeightsFile(params.path);
  progress(0, 3, 'Reading the model');
  const bytes = await readFile(params.path);
  opts.signal?.throwIfAborted();
  progress(1, 3, 'Checking the declared input and output with a test run');
  const checked = await checkOnnxGenerator(bytes, params.onnx).catch((error: unknown) => {
    throw error instanceof OnnxGeneratorError ? new TeacherRequestError(`${params.path}: ${error.message}`) : error;
  });
  opts.signal?.throwIfAborted();
  progress(2, 3, 'Storing the model');
  const { sha256 } = await blobs.put(bytes, MODEL_BLOB_KIND);
  const info = store.insert({
    name,
    format: 'onnx',
    // Stored as imported, so the model blob's hash is the file's.
    sourceSha256: sha256,
    weightsSha256: sha256,
    onnx: checked.io,
    parameterCount: checked.parameterCount,
  });
  progress(3, 3, 'Imported');
  return info;
}

/** The stored model bytes of a black-box teacher (verified against their hash by the blob store). */
export async function loadStoredOnnxModel(blobs: BlobStore, info: TeacherInfo): Promise<Uint8Array> {
  if (info.onnx === null) throw new TeacherRequestError(`Teacher "${info.name}" is a StyleGAN2 teacher, not an ONNX generator.`);
  const buffer = await blobs.read(info.weightsSha256);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Refuses a truncation ψ other than 1 for a black-box teacher: it has no w_avg to truncate towards. */
export function checkPsiApplies(info: TeacherInfo, psi: number): void {
  if (!info.styleSpace && psi !== 1) {
    throw new TeacherRequestError(
      `Teacher "${info.name}" is a plain ONNX generator: truncation ψ does not apply to it, so ψ must be 1 (got ${psi}).`,
    );
  }
}
