// The `teacher-import` job: reads and checks a StyleGAN2 .safetensors file, or a declared ONNX generator, as a teacher.
import type { JobParams, JobResults } from '../../../shared/contract.ts';
import { TeacherStore } from '../../teachers/store.ts';
import { importOnnxTeacher } from '../../teachers/onnx.ts';
import { importTeacher } from '../../teachers/weights.ts';
import type { JobRunner } from '../runtime.ts';

/** Runs in the worker: reading a config-f file, estimating w_avg or a test run take seconds. Restarts from scratch when resumed. */
export const runTeacherImport: JobRunner<JobParams['teacher-import'], JobResults['teacher-import']> = async (ctx) => {
  const { db, blobs } = ctx.open();
  const store = new TeacherStore(db, blobs);
  const { path, name, onnx } = ctx.params;
  const opts = { signal: ctx.signal, onProgress: ctx.progress };
  return onnx === undefined ? importTeacher(store, blobs, { path, name }, opts) : importOnnxTeacher(store, blobs, { path, name, onnx }, opts);
};
