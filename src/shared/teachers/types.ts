// Teacher types shared by main and the renderer: stored teachers, and the parameters and results of their jobs.
import type { ProviderName } from '../contract.ts';

/** Longest teacher name accepted. */
export const MAX_TEACHER_NAME = 120;
/** Most samples one `teacher-sample` job writes. */
export const MAX_TEACHER_SAMPLES = 1_000_000;
/** Most seeds one `teacher-preview` job renders. */
export const MAX_TEACHER_PREVIEW = 64;
/** Longest latent a black-box ONNX teacher may take. */
export const MAX_ONNX_TEACHER_DIM = 65_536;
/** Largest output side of a black-box ONNX teacher. */
export const MAX_ONNX_TEACHER_RESOLUTION = 4096;

/**
 * Where a teacher came from: a StyleGAN2 file in NVIDIA or rosinality naming, the studio's random generator, or a
 * plain ONNX generator taken as a black box (no style space, no truncation) with its I/O declared by the user.
 */
export type TeacherFormat = 'nvidia' | 'rosinality' | 'studio-random' | 'onnx';

/** Value range of a black-box generator's image output; images are mapped to [-1, 1] as StyleGAN2's are. */
export type OnnxOutputRange = '-1,1' | '0,1';

/** What the user declares about a plain ONNX generator when importing it. */
export interface OnnxTeacherDeclaration {
  /** Whether the model's one input is a latent z or an intermediate w (fed the seed's standard normal vector either way). */
  input: 'z' | 'w';
  /** Name of the model's latent input. */
  inputName: string;
  /** Length of the latent vector (the input is [batch, dim]). */
  dim: number;
  /** Name of the model's image output ([batch, channels, height, width] with 1 or 3 channels). */
  outputName: string;
  range: OnnxOutputRange;
  /** Output side in pixels; needed only when the model's output shape leaves it open. */
  resolution?: number;
}

/** A stored black-box generator's I/O: the declaration, checked and completed from the model itself. */
export interface OnnxTeacherIO {
  input: 'z' | 'w';
  inputName: string;
  dim: number;
  outputName: string;
  range: OnnxOutputRange;
  resolution: number;
  imgChannels: number;
  /** The model's fixed batch size, or null when its batch dimension is dynamic. */
  batch: number | null;
}

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
  /** Blob holding the canonical weights (NVIDIA-named .safetensors, w_avg included), or the ONNX model as imported. */
  weightsSha256: string;
  /** Output side in pixels (square images). */
  resolution: number;
  /** StyleGAN2 architecture; null for a black-box ONNX generator. */
  architecture: TeacherArchitecture | null;
  /** Declared and checked I/O of a black-box ONNX generator; null for StyleGAN2 teachers. */
  onnx: OnnxTeacherIO | null;
  /**
   * Whether the teacher exposes StyleGAN2's style space S (so StyleCLIP edits and truncation ψ apply). False for a
   * black-box ONNX generator: edits must refuse it.
   */
  styleSpace: boolean;
  /** Initialiser elements of the generator (weights only, no buffers). */
  parameterCount: number;
  /** Where w_avg came from: the file, or an estimate over 10,000 seeded latents; null where it does not apply (ONNX). */
  wAvg: 'file' | 'estimated' | null;
  /** ISO-8601. */
  importedAt: string;
}

/**
 * Parameters of a `teacher-import` job: a file on the studio's machine and the name to keep it under. A StyleGAN2
 * .safetensors file needs nothing else; a plain .onnx generator needs `onnx`, its I/O declaration.
 */
export interface TeacherImportParams {
  path: string;
  name: string;
  onnx?: OnnxTeacherDeclaration;
}

/** Parameters of a `teacher-preview` job: images of these seeds with truncation ψ (exactly 1 for an ONNX teacher). */
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
  /** The stored constant noise; null for a black-box ONNX generator (whatever it does inside is its own). */
  noise: 'const' | null;
  /** What the latent blob holds: StyleGAN2's ws, or the z or w vector fed to an ONNX generator. */
  latentKind: 'ws' | 'z' | 'w';
  /** Blob holding the latent as float32 row-major (little-endian): ws [numWs, wDim], or z / w [1, dim]. */
  latentSha256: string;
  latentShape: [number, number];
}
