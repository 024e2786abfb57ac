// The `teacher-import` job: hashes, reads and checks a StyleGAN2 .safetensors file and stores it as a teacher.
import type { JobParams, JobResults } from '../../../shared/contract.ts';
import { TeacherStore } from '../../teachers/store.ts';
import { importTeacher } from '../../teachers/weights.ts';
import type { JobRunner } from '../runtime.ts';

/** Runs in the worker: reading a config-f file and estimating w_avg take seconds. Restarts from scratch when resumed. */
export const runTeacherImport: JobRunner<JobParams['teacher-import'], JobResults['teacher-import']> = async (ctx) => {
  const { db, blobs } = ctx.open();
  return importTeacher(new TeacherStore(db, blobs), blobs, ctx.params, { signal: ctx.signal, onProgress: ctx.progress });
};
