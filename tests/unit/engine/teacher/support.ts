// Shared helpers of the teacher tests: safetensors → float64 tensor maps, running models on ORT, comparisons.
import * as ort from 'onnxruntime-node';
import { createSession } from '../../../../src/main/engine/runtime/index.ts';
import { parseSafetensors, serializeSafetensors, type TensorToWrite } from '../../../../src/main/engine/safetensors/index.ts';
import type { TeacherModel } from '../../../../src/main/engine/teacher/index.ts';
import type { RefTensor } from './reference-stylegan2.ts';

/** Named tensors as the reference reads them (through a serialised file, as a user's weights would arrive). */
export function refTensors(tensors: ReadonlyMap<string, TensorToWrite>): Map<string, RefTensor> {
  const file = parseSafetensors(serializeSafetensors(tensors));
  return new Map(file.names().map((n) => [n, { shape: [...file.entry(n).shape], data: Float64Array.from(file.float32(n)) }]));
}

/** Runs a teacher model once on the CPU provider with the given float32 feeds; returns every output. */
export async function runModel(model: TeacherModel, feeds: Record<string, Float32Array>): Promise<Record<string, Float32Array>> {
  const session = await createSession(model.bytes, { providers: ['cpu'], threads: 1, shareCores: true });
  try {
    const tensors: Record<string, ort.Tensor> = {};
    for (const io of model.inputs) {
      const data = feeds[io.name];
      if (data === undefined) throw new Error(`no feed for ${io.name}`);
      tensors[io.name] = new ort.Tensor('float32', data, [...io.shape]);
    }
    const out = await session.run(tensors);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}

/** Largest |a − b| over two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Standard deviation, to make sure a comparison is not between two flat images. */
export function std(a: ArrayLike<number>): number {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i]!;
    s2 += a[i]! * a[i]!;
  }
  const mean = s / a.length;
  return Math.sqrt(s2 / a.length - mean * mean);
}

/** Rows of a [n, d] float32 array as float64 vectors. */
export function rows(data: Float32Array, d: number): Float64Array[] {
  return Array.from({ length: data.length / d }, (_, i) => Float64Array.from(data.subarray(i * d, (i + 1) * d)));
}
