// The .fxpkg manifest: its TypeScript shape and validation against resources/schemas/fxpkg-manifest.schema.json (ajv).
import { Ajv } from 'ajv';
import schema from '../../../resources/schemas/fxpkg-manifest.schema.json' with { type: 'json' };

/** The manifest format version this studio writes and reads. */
export const MANIFEST_FORMAT_VERSION = 1;

/** Name of the manifest entry inside a package. */
export const MANIFEST_FILE = 'manifest.json';
/** The fp32 model entry. */
export const MODEL_FILE = 'model.onnx';
/** The optional fp16 model entry. */
export const MODEL_FP16_FILE = 'model.fp16.onnx';

/** A model input or output: always a float32 NCHW image tensor. */
export interface ManifestTensor {
  name: string;
  dtype: 'float32';
  shape: [number, number, number, number];
}

/** The fixed I/O contract every variant follows. */
export interface ManifestIo {
  input: ManifestTensor;
  output: ManifestTensor;
  layout: 'NCHW';
  colorOrder: 'RGB' | 'BGR';
  /** Pixel 0 maps to `[0]`, pixel 255 to `[1]`, for the input and the output. */
  valueRange: [number, number];
}

/** One model file of the package. */
export interface ManifestVariant {
  file: typeof MODEL_FILE | typeof MODEL_FP16_FILE;
  /** Precision of weights and compute; I/O stays float32. */
  precision: 'fp32' | 'fp16';
  opset: 17;
  /** Largest allowed difference, in 8-bit levels, between this variant's output and a preview's `after` image. */
  tolerance: number;
  /** Largest absolute difference from the fp32 model on the preview inputs, measured at export (value units). */
  maxAbsDiffVsFp32: number;
}

/** The face crop a model expects (the studio's FFHQ-style similarity alignment of BlazeFace keypoints). */
export interface ManifestFaceCrop {
  detector: 'blazeface-front';
  alignment: 'ffhq-similarity';
  size: number;
  eyeDistance: number;
  eyeToMouth: number;
  centreShift: number;
}

/** The StyleCLIP prompt the effect was authored with. */
export interface ManifestPrompt {
  target: string;
  neutral: string;
  alpha: number;
  beta: number;
}

/** Where the packaged model came from. */
export interface ManifestProvenance {
  source: 'run' | 'model';
  run: { id: string; checkpoint: string } | null;
  /** sha256 of the fp32 model bytes. */
  modelSha256: string;
  teacher: { name: string; sha256: string } | null;
  dataset: { name: string; sha256: string; items: number; train: number; validation: number } | null;
  training: Record<string, unknown> | null;
  metrics: Record<string, number> | null;
}

/** One file of the package other than the manifest. */
export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

/** The whole manifest.json of a package (format version 1). */
export interface Manifest {
  formatVersion: 1;
  name: string;
  description: string;
  createdAt: string;
  studioVersion: string;
  io: ManifestIo;
  variants: ManifestVariant[];
  faceCrop: ManifestFaceCrop | null;
  effect: { prompt: ManifestPrompt | null };
  provenance: ManifestProvenance;
  previews: { before: string; after: string }[];
  files: ManifestFile[];
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile<Manifest>(schema);

/** The outcome of checking a value against the manifest schema. */
export type ManifestCheck = { ok: true; manifest: Manifest } | { ok: false; errors: string[] };

/** Checks a parsed manifest against the JSON Schema; errors name the offending field. */
export function checkManifest(value: unknown): ManifestCheck {
  if (validate(value)) return { ok: true, manifest: value };
  const errors = (validate.errors ?? []).map((e) => `manifest${e.instancePath.replace(/\//g, '.')} ${e.message ?? 'is invalid'}`);
  return { ok: false, errors: [...new Set(errors)] };
}

/** The manifest JSON Schema (for tests and the consumer page documentation). */
export const MANIFEST_SCHEMA: unknown = schema;
