// The `export-verify` job: verifies a .fxpkg in a worker (its models run on ONNX Runtime, which blocks the thread).
import type { PackageSummary } from '../../../shared/export/types.ts';
import { toPackageSummary } from '../../export/summary.ts';
import { verifyPackage } from '../../export/verify.ts';
import type { JobRunner } from '../runtime.ts';

/** Verifies the package and answers its summary; a refused package is a result (`ok: false`), not a failure. */
export const runExportVerify: JobRunner<{ path: string }, PackageSummary> = async (ctx) => {
  ctx.progress(0, 1, `verifying ${ctx.params.path}`);
  const summary = toPackageSummary(await verifyPackage(ctx.params.path));
  ctx.progress(1, 1, summary.ok ? 'verified' : 'refused');
  return summary;
};
