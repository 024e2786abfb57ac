// The `effects-preview` job: a grid of seeds, unedited and at each strength α, for the Effects page.
import type { JobParams, JobResults } from '../../../shared/contract.ts';
import { renderEffectPreview } from '../../effects/edits.ts';
import { EffectsStore } from '../../effects/store.ts';
import { TeacherStore } from '../../teachers/store.ts';
import type { JobRunner } from '../runtime.ts';

/** Runs in the worker because ONNX Runtime's session.run blocks its thread. */
export const runEffectsPreview: JobRunner<JobParams['effects-preview'], JobResults['effects-preview']> = async (ctx) => {
  const { db, blobs } = ctx.open();
  const teacher = new TeacherStore(db, blobs).get(ctx.params.teacherId);
  const images = ctx.params.seeds.length * (ctx.params.alphas.length + 1);
  ctx.progress(0, images, `Rendering ${images} images`);
  const result = await renderEffectPreview(blobs, new EffectsStore(db, blobs), teacher, ctx.params, ctx.signal);
  ctx.progress(images, images, `Rendered on ${result.provider}; the edit moves ${result.touched} of ${result.channels} channels`);
  return result;
};
