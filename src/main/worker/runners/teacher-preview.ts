// The `teacher-preview` job: renders a few seeds of a teacher to PNG blobs for the Teacher page's grid.
import type { JobParams, JobResults } from '../../../shared/contract.ts';
import { renderPreview } from '../../teachers/render.ts';
import { TeacherStore } from '../../teachers/store.ts';
import type { JobRunner } from '../runtime.ts';

/** Runs in the worker because ONNX Runtime's session.run blocks its thread. */
export const runTeacherPreview: JobRunner<JobParams['teacher-preview'], JobResults['teacher-preview']> = async (ctx) => {
  const { db, blobs } = ctx.open();
  const info = new TeacherStore(db, blobs).get(ctx.params.teacherId);
  ctx.progress(0, ctx.params.seeds.length, `Rendering ${ctx.params.seeds.length} samples`);
  const result = await renderPreview(blobs, info, ctx.params.seeds, ctx.params.psi, ctx.signal);
  ctx.progress(ctx.params.seeds.length, ctx.params.seeds.length, `Rendered on ${result.provider}`);
  return result;
};
