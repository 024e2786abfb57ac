// Which checkpoint of a training run an export takes: the one asked for, else the best by validation PSNR, else the newest.
import type { CheckpointInfo, RunDetail } from '../../shared/student/types.ts';
import { ExportError } from './errors.ts';

/**
 * The checkpoint to export: the one at step `step` when given, else the checkpoint at the step with the best
 * validation PSNR, else the newest. Throws {@link ExportError} listing the run's checkpoints when `step` has none.
 */
export function chooseCheckpoint(run: RunDetail, step?: number | null): CheckpointInfo {
  const all = run.checkpoints;
  if (all.length === 0) throw new ExportError(`run ${run.id} has no checkpoint yet; train it until it saves one first`);
  if (step !== undefined && step !== null) {
    const found = all.find((c) => c.step === step);
    if (found) return found;
    throw new ExportError(`run ${run.id} has no checkpoint at step ${step}; its checkpoints are at steps ${all.map((c) => c.step).join(', ')}`);
  }
  const psnr = new Map((run.metrics['validation/psnr'] ?? []).map((p) => [p.step, p.value]));
  let best: CheckpointInfo | null = null;
  for (const c of all) {
    const value = psnr.get(c.step);
    if (value !== undefined && (best === null || value > psnr.get(best.step)!)) best = c;
  }
  return best ?? all[all.length - 1]!;
}
