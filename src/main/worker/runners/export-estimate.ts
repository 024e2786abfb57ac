// The `export-estimate` job: builds the model an export would package and measures its size and speed, before exporting.
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { ExportEstimate, ExportEstimateParams } from '../../../shared/export/types.ts';
import { ExportError } from '../../export/errors.ts';
import { estimateModel } from '../../export/estimate.ts';
import { runCheckpointModel } from '../../export/run-source.ts';
import type { JobRunner } from '../runtime.ts';

/** Measures in this worker (ONNX Runtime blocks its thread). */
export const runExportEstimate: JobRunner<ExportEstimateParams, ExportEstimate> = async (ctx) => {
  const { source } = ctx.params;
  ctx.progress(0, 2, source.kind === 'run' ? `building run ${source.runId}'s model` : `reading ${source.modelPath}`);
  let estimate: ExportEstimate;
  if (source.kind === 'run') {
    const { db, blobs } = ctx.open();
    const { run, checkpoint, model } = await runCheckpointModel(db, blobs, source.runId, source.checkpointStep);
    ctx.progress(1, 2, 'timing the model');
    estimate = await estimateModel(model, { checkpointStep: checkpoint.step, student: run.config.student });
  } else {
    if (!isAbsolute(source.modelPath)) throw new ExportError(`the model path must be absolute, got "${source.modelPath}"`);
    const model = await readFile(source.modelPath).catch((error: unknown) => {
      throw new ExportError(`cannot read the model ${source.modelPath}: ${error instanceof Error ? error.message : String(error)}`);
    });
    ctx.progress(1, 2, 'timing the model');
    estimate = await estimateModel(new Uint8Array(model), { checkpointStep: null, student: null });
  }
  ctx.progress(2, 2, 'measured');
  return estimate;
};
