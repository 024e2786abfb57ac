// Teacher types shared by main and the renderer: stored teachers, and the parameters and results of their jobs.
import type { ProviderName } from '../contract.ts';

/** Longest teacher name accepted. */
export const MAX_TEACHER_NAME = 120;
/** Most samples one `teacher-sample` job writes. */
export const MAX_TEACHER_SAMPLES = 1_000_000;
/** Most seeds one `teacher-preview` job renders. */
export const MAX_TEACHER_PREVIEW = 64;

/** Where a teacher's weights came from: a file in NVIDIA or rosinality naming, or the studio's random generator. */
export type TeacherFormat = 'nvidia' | 'rosinality' | 'studio-random';

/** Architecture facts read from a teacher's weights. */
export interface TeacherArchitecture {
  resolution: number;
  zDim: number;
  wDim: number;
  /** Fully-connected mapping layers (8 in the paper configs, 2 in stylegan2-ada's `auto`). */
  mappingLayers: number;
  /** w vectors the synthesis network takes. */
  numWs: number;
  imgChannels: number;
  hasNoise: boolean;
  /** Output channels per block resolution ("4", "8", …). */
  channels: Record<string, number>;
  /** Length of style space S (every styled layer's input channels). */
  styleChannels: number;
}

/** One teacher stored in the studio. */
export interface TeacherInfo {
  id: number;
  name: string;
  format: TeacherFormat;
  /** sha256 of the file the user imported (of the generated weights for a random teacher). */
  sourceSha256: string;
  /** Blob holding the canonical weights (NVIDIA-named .safetensors, w_avg included). */
  weightsSha256: string;
  architecture: TeacherArchitecture;
  parameterCount: number;
  /** Where w_avg came from: the file, or an estimate over 10,000 seeded latents. */
  wAvg: 'file' | 'estimated';
  /** ISO-8601. */
  importedAt: string;
}

/** Parameters of a `teacher-import` job: a .safetensors file on the studio's machine and the name to keep it under. */
export interface TeacherImportParams {
  path: string;
  name: string;
}

/** Parameters of a `teacher-preview` job: images of these seeds with truncation ψ. */
export interface TeacherPreviewParams {
  teacherId: number;
  seeds: number[];
  psi: number;
}

/** One rendered preview image (PNG in the blob store; preview blobs are not kept past the studio's next start). */
export interface TeacherPreviewImage {
  seed: number;
  sha256: string;
}

/** Result of a `teacher-preview` job. */
export interface TeacherPreviewResult {
  teacherId: number;
  psi: number;
  resolution: number;
  images: TeacherPreviewImage[];
  /** The execution provider the generator ran on. */
  provider: ProviderName;
}

/** Parameters of a `teacher-sample` job: `count` images from seeds `seed`, `seed + 1`, … into a new synthetic dataset. */
export interface TeacherSampleParams {
  teacherId: number;
  count: number;
  psi: number;
  seed: number;
  datasetName: string;
}

/** Result of a `teacher-sample` job. */
export interface TeacherSampleResult {
  datasetId: number;
  datasetName: string;
  /** Items in the dataset from this job. */
  count: number;
  provider: ProviderName;
}

/** What each synthetic item keeps about how it was made, so it can be re-rendered or edited later. */
export interface TeacherSampleProvenance {
  source: 'teacher';
  teacherId: number;
  teacherName: string;
  seed: number;
  psi: number;
  noise: 'const';
  /** Blob holding ws as float32 [numWs, wDim] row-major (little-endian). */
  latentSha256: string;
  latentShape: [number, number];
}
