// Turns a verification report into what the studio shows of a package (no entry bytes cross to the renderer).
import type { PackageSummary } from '../../shared/export/types.ts';
import type { VerifyReport } from './verify.ts';

/** The renderer's view of a verified (or refused) package. */
export function toPackageSummary(report: VerifyReport): PackageSummary {
  const m = report.manifest;
  return {
    path: report.file,
    ok: report.ok,
    sha256: report.sha256,
    size: report.size,
    checks: report.checks,
    manifest: m && {
      name: m.name,
      description: m.description,
      createdAt: m.createdAt,
      studioVersion: m.studioVersion,
      input: { name: m.io.input.name, shape: [...m.io.input.shape] },
      output: { name: m.io.output.name, shape: [...m.io.output.shape] },
      colorOrder: m.io.colorOrder,
      valueRange: m.io.valueRange,
      variants: m.variants.map((v) => ({
        file: v.file,
        precision: v.precision,
        bytes: m.files.find((f) => f.path === v.file)?.size ?? 0,
        maxAbsDiffVsFp32: v.maxAbsDiffVsFp32,
      })),
      previews: m.previews.length,
      prompt: m.effect.prompt,
      source: m.provenance.source,
      teacher: m.provenance.teacher,
      dataset: m.provenance.dataset,
      metrics: m.provenance.metrics,
    },
  };
}
