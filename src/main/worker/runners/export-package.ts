// The `export-package` job: writes a .fxpkg from a model or a run's checkpoint (measuring its speed) and records it.
import type { ExportInfo, ExportPackageParams } from '../../../shared/export/types.ts';
import { runSource } from '../../export/run-source.ts';
import { plainModelSource } from '../../export/source.ts';
import { ExportStore } from '../../export/store.ts';
import { STUDIO_VERSION } from '../../export/version.ts';
import { writePackage, type PackageSource } from '../../export/writer.ts';
import type { JobRunner } from '../runtime.ts';

/** Builds the package in this worker (ONNX Runtime blocks its thread), then records it. */
export const runExportPackage: JobRunner<ExportPackageParams, ExportInfo> = async (ctx) => {
  const { params } = ctx;
  const { source: from } = params;
  let source: PackageSource;
  let run: { runId: number; checkpoint: string } | null = null;
  if (from.kind === 'run') {
    ctx.progress(0, 1, `reading run ${from.runId}`);
    const { db, blobs } = ctx.open();
    const made = await runSource(db, blobs, {
      runId: from.runId,
      checkpointStep: from.checkpointStep,
      name: params.name,
      description: params.description,
    });
    source = made;
    run = { runId: made.runId, checkpoint: made.checkpoint.sha };
  } else {
    source = await plainModelSource({
      modelPath: from.modelPath,
      previewPaths: from.previewPaths,
      name: params.name,
      description: params.description,
      colorOrder: params.colorOrder,
      valueRange: params.valueRange,
    });
  }
  const written = await writePackage(source, {
    out: params.out,
    fp16: params.fp16,
    studioVersion: STUDIO_VERSION,
    signal: ctx.signal,
    onProgress: (step, total, message) => ctx.progress(step, total, message),
  });
  return new ExportStore(ctx.open().db).add({
    name: written.manifest.name,
    description: written.manifest.description,
    runId: run?.runId ?? null,
    checkpoint: run?.checkpoint ?? null,
    path: written.path,
    size: written.size,
    sha256: written.sha256,
    variants: written.manifest.variants.map((v) => v.precision),
    medianMs: written.speed.medianMs,
    provider: written.speed.provider,
  });
};
