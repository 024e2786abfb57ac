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

/** Parameters of the `export-package` job. */
export interface ExportPackageParams {
  source: ExportModelSource;
  name: string;
  description: string;
  /** The .fxpkg file to write. */
  out: string;
  /** Also package a half-precision variant (checked against fp32). */
  fp16: boolean;
  colorOrder: 'RGB' | 'BGR';
  /** Values pixel 0 and 255 map to. */
  valueRange: [number, number];
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
