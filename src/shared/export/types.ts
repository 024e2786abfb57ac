// Types of exported packages (.fxpkg): what the `exports:*` requests and the `export-package` job carry.

/** Precision of a packaged model variant (I/O is float32 for both). */
export type ExportPrecision = 'fp32' | 'fp16';

/** One package the studio exported. Times are ISO-8601. */
export interface ExportInfo {
  id: number;
  name: string;
  description: string;
  /** The training run and checkpoint sha256 it was made from; null for a plain model. */
  runId: number | null;
  checkpoint: string | null;
  /** Where the .fxpkg was written (on the studio's machine). */
  path: string;
  size: number;
  sha256: string;
  variants: ExportPrecision[];
  /** Median milliseconds per frame of the fp32 model, measured at export, and the provider it ran on. */
  medianMs: number | null;
  provider: string | null;
  createdAt: string;
}

/** What a package is made from: a plain fp32 ONNX model file and preview photos on the studio's machine. */
export interface ExportModelSource {
  kind: 'model';
  modelPath: string;
  previewPaths: string[];
}

/** What a package is made from: a checkpoint of a training run (its dataset's validation images are the previews). */
export interface ExportRunSource {
  kind: 'run';
  runId: number;
  /** Step of the checkpoint to export; null: the one with the best validation PSNR (else the newest). */
  checkpointStep: number | null;
}

/** Parameters of the `export-package` job. */
export interface ExportPackageParams {
  source: ExportModelSource | ExportRunSource;
  name: string;
  description: string;
  /** The .fxpkg file to write. */
  out: string;
  /** Also package a half-precision variant (checked against fp32). */
  fp16: boolean;
  /** Colour order of a plain model's I/O; a run's student is always RGB. */
  colorOrder: 'RGB' | 'BGR';
  /** Values pixel 0 and 255 map to for a plain model; a run's student always takes [0, 1]. */
  valueRange: [number, number];
}

/** What an `export-estimate` job measures: a plain model file, or a run's checkpoint. */
export type ExportEstimateSource = { kind: 'model'; modelPath: string } | ExportRunSource;

/** Parameters of the `export-estimate` job. */
export interface ExportEstimateParams {
  source: ExportEstimateSource;
}

/** Size and speed of what an export would package, measured on the studio's machine before exporting. */
export interface ExportEstimate {
  /** The checkpoint step measured (a run source), null for a model file. */
  checkpointStep: number | null;
  input: { name: string; shape: number[] };
  /** Trainable weights of a run's student; for a model file, the values of its float initializers. */
  parameters: number;
  /** Multiply-adds per frame (known for a run's student), null for a model file. */
  macs: number | null;
  /** Bytes of model.onnx and of model.fp16.onnx. */
  fp32Bytes: number;
  fp16Bytes: number;
  /** Median milliseconds per frame of the fp32 model, and the provider it ran on. */
  medianMs: number;
  provider: string;
}

/** One line of a package verification. */
export interface PackageCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** What the studio shows of an opened package's manifest. */
export interface PackageManifestSummary {
  name: string;
  description: string;
  createdAt: string;
  studioVersion: string;
  input: { name: string; shape: number[] };
  output: { name: string; shape: number[] };
  colorOrder: 'RGB' | 'BGR';
  valueRange: [number, number];
  variants: { file: string; precision: ExportPrecision; bytes: number; maxAbsDiffVsFp32: number }[];
  previews: number;
  prompt: { target: string; neutral: string; alpha: number; beta: number } | null;
  source: 'run' | 'model';
  /** The teacher the pairs came from (its weights' sha256), the dataset trained on, the checkpoint's validation metrics. */
  teacher: { name: string; sha256: string } | null;
  dataset: { name: string; sha256: string; items: number; train: number; validation: number } | null;
  metrics: Record<string, number> | null;
}

/** A verified (or refused) package: every check, and the manifest when it passed its schema. */
export interface PackageSummary {
  path: string;
  ok: boolean;
  sha256: string | null;
  size: number | null;
  checks: PackageCheck[];
  manifest: PackageManifestSummary | null;
}
