// Verifies a .fxpkg: safe archive, manifest vs schema, files vs manifest, checksums, models load with the declared
// I/O and reproduce the packaged previews within tolerance.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Session } from '../engine/runtime/index.ts';
import { openModelSession, runImage } from './inference.ts';
import { checkManifest, MANIFEST_FILE, MODEL_FILE, MODEL_FP16_FILE, type Manifest, type ManifestTensor } from './manifest.ts';
import { formatShape, readModelInfo, type TensorSignature } from './model-info.ts';
import { maxPixelDiff, pngToPixels, pngToTensor, tensorToPixels } from './preview.ts';
import { DEFAULT_LIMITS, PackageRejectedError, readPackageEntries, type ReadLimits } from './reader.ts';
import { FP16_TOLERANCE, FP32_TOLERANCE } from './writer.ts';

/** One line of a verification report. */
export interface VerifyCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** What `verify` found; `ok` only when every check passed. */
export interface VerifyReport {
  file: string;
  ok: boolean;
  /** sha256 and size of the .fxpkg file, when it could be read. */
  sha256: string | null;
  size: number | null;
  checks: VerifyCheck[];
  /** The manifest, when it passed its schema. */
  manifest: Manifest | null;
  /** The checked entries, when the archive was safe (callers that open a package use them). */
  entries: ReadonlyMap<string, Buffer> | null;
}

/** Verifies a package file; never throws for a bad package (the report says what is wrong). */
export async function verifyPackage(file: string, limits: ReadLimits = DEFAULT_LIMITS): Promise<VerifyReport> {
  const checks: VerifyCheck[] = [];
  const report: VerifyReport = { file, ok: false, sha256: null, size: null, checks, manifest: null, entries: null };
  const pass = (name: string, detail: string): void => void checks.push({ name, ok: true, detail });
  const fail = (name: string, detail: string): VerifyReport => {
    checks.push({ name, ok: false, detail });
    return report;
  };

  let entries: Map<string, Buffer>;
  try {
    entries = await readPackageEntries(file, limits);
    const whole = await readFile(file);
    report.sha256 = createHash('sha256').update(whole).digest('hex');
    report.size = whole.length;
  } catch (error) {
    const message = error instanceof PackageRejectedError ? error.message : `cannot read ${file}: ${errorText(error)}`;
    return fail('archive', message);
  }
  pass('archive', `${entries.size} entries; names, types, sizes and compression within limits`);

  const manifestBytes = entries.get(MANIFEST_FILE);
  if (!manifestBytes) return fail('manifest', `${MANIFEST_FILE} is missing`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes));
  } catch (error) {
    return fail('manifest', `${MANIFEST_FILE} is not valid JSON: ${errorText(error)}`);
  }
  const checked = checkManifest(parsed);
  if (!checked.ok) return fail('manifest', `${MANIFEST_FILE} fails its schema: ${checked.errors.slice(0, 5).join('; ')}`);
  const manifest = checked.manifest;
  const policy = variantPolicyProblems(manifest);
  if (policy.length > 0) return fail('manifest', policy.join('; '));
  report.manifest = manifest;
  pass('manifest', `format ${manifest.formatVersion}, "${manifest.name}", written by Effects Studio ${manifest.studioVersion}`);

  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  const problems: string[] = [];
  if (listed.size !== manifest.files.length) problems.push('the manifest lists a file twice');
  const referenced = [...manifest.variants.map((v) => v.file), ...manifest.previews.flatMap((p) => [p.before, p.after])];
  for (const path of referenced) if (!listed.has(path)) problems.push(`"${path}" is used by the manifest but not in its file list`);
  if (!manifest.variants.some((v) => v.file === MODEL_FILE && v.precision === 'fp32')) problems.push(`the fp32 variant ${MODEL_FILE} is not declared`);
  for (const path of listed.keys()) if (!entries.has(path)) problems.push(`missing file "${path}"`);
  for (const path of entries.keys()) if (path !== MANIFEST_FILE && !listed.has(path)) problems.push(`extra file "${path}" is not in the manifest`);
  if (problems.length > 0) return fail('files', problems.join('; '));
  pass('files', `${listed.size} files, exactly those the manifest lists`);

  const mismatched = manifest.files.filter((f) => {
    const bytes = entries.get(f.path)!;
    return bytes.length !== f.size || createHash('sha256').update(bytes).digest('hex') !== f.sha256;
  });
  if (mismatched.length > 0) return fail('checksums', `sha256 or size mismatch: ${mismatched.map((f) => f.path).join(', ')}`);
  pass('checksums', `sha256 of ${manifest.files.length} files match`);

  const previews = await Promise.all(
    manifest.previews.map(async (p) => ({
      path: p.before,
      input: await pngToTensor(entries.get(p.before)!, manifest.io),
      after: await pngToPixels(entries.get(p.after)!),
    })),
  );
  const [, , height, width] = manifest.io.input.shape;
  const wrongSize = previews.find((p) => p.input.width !== width || p.input.height !== height);
  if (wrongSize) return fail('previews', `${wrongSize.path} is ${wrongSize.input.width}×${wrongSize.input.height}, the model takes ${width}×${height}`);

  for (const variant of manifest.variants) {
    const bytes = entries.get(variant.file)!;
    const label = `${variant.file} (${variant.precision})`;
    let info;
    try {
      info = readModelInfo(bytes);
    } catch (error) {
      return fail(`${label} loads`, errorText(error));
    }
    if (info.opset !== variant.opset) return fail(`${label} loads`, `opset ${info.opset ?? 'none'}, the manifest says ${variant.opset}`);
    if (info.externalInitializers.length > 0) return fail(`${label} loads`, 'weights kept in external files');
    let session: Session;
    try {
      session = await openModelSession(bytes);
    } catch (error) {
      return fail(`${label} loads`, `onnxruntime-node cannot load it: ${errorText(error)}`);
    }
    try {
      pass(`${label} loads`, `onnxruntime-node ${session.provider}, opset ${info.opset}, ${info.initializerCount} initializers`);
      const ioProblems = [
        ...ioMismatch('input', info.inputs, manifest.io.input),
        ...ioMismatch('output', info.outputs, manifest.io.output),
      ];
      if (ioProblems.length > 0) return fail(`${label} I/O`, ioProblems.join('; '));
      pass(`${label} I/O`, `${manifest.io.input.name} ${formatShape(manifest.io.input.shape)} → ${manifest.io.output.name} ${formatShape(manifest.io.output.shape)}`);
      let worst = 0;
      for (const preview of previews) {
        const out = await runImage(session, manifest.io, preview.input);
        if (out.width !== preview.after.width || out.height !== preview.after.height) {
          return fail(`${label} previews`, `output is ${out.width}×${out.height}, the after image ${preview.after.width}×${preview.after.height}`);
        }
        worst = Math.max(worst, maxPixelDiff(tensorToPixels(out, manifest.io), preview.after.pixels));
      }
      if (worst > variant.tolerance) {
        return fail(`${label} previews`, `differs from the packaged after images by up to ${worst} levels, over its tolerance of ${variant.tolerance}`);
      }
      pass(`${label} previews`, `${previews.length} preview(s) reproduced, largest difference ${worst} level(s) (tolerance ${variant.tolerance})`);
    } catch (error) {
      return fail(`${label} previews`, `running it failed: ${errorText(error)}`);
    } finally {
      await session.release();
    }
  }
  report.ok = true;
  report.entries = entries;
  return report;
}

/** A report as the lines `verify` prints. */
export function formatReport(report: VerifyReport): string {
  const lines = report.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  lines.push(report.ok ? `verified: ${report.file}${report.sha256 ? ` (sha256 ${report.sha256})` : ''}` : `REJECTED: ${report.file}`);
  return `${lines.join('\n')}\n`;
}

/** A package cannot loosen its own check: each variant's file, precision and tolerance must be what this studio writes. */
function variantPolicyProblems(manifest: Manifest): string[] {
  const expected = {
    fp32: { file: MODEL_FILE, tolerance: FP32_TOLERANCE },
    fp16: { file: MODEL_FP16_FILE, tolerance: FP16_TOLERANCE },
  } as const;
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const v of manifest.variants) {
    const want = expected[v.precision];
    if (seen.has(v.precision)) problems.push(`the ${v.precision} variant is declared twice`);
    seen.add(v.precision);
    if (v.file !== want.file) problems.push(`the ${v.precision} variant must be ${want.file}, not ${v.file}`);
    if (v.tolerance > want.tolerance) {
      problems.push(`the ${v.precision} variant declares a tolerance of ${v.tolerance} levels, more than the ${want.tolerance} verify accepts`);
    }
  }
  return problems;
}

function ioMismatch(role: string, actual: readonly TensorSignature[], declared: ManifestTensor): string[] {
  if (actual.length !== 1) return [`the model has ${actual.length} ${role}s, the manifest declares one`];
  const a = actual[0]!;
  const problems: string[] = [];
  if (a.name !== declared.name) problems.push(`${role} is named "${a.name}", the manifest says "${declared.name}"`);
  if (a.dtype !== declared.dtype) problems.push(`${role} is ${a.dtype}, the manifest says ${declared.dtype}`);
  if (formatShape(a.shape) !== formatShape(declared.shape)) problems.push(`${role} shape is ${formatShape(a.shape)}, the manifest says ${formatShape(declared.shape)}`);
  return problems;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
