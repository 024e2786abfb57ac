// Size and speed of what an export would package, measured before exporting: the fp32 and fp16 model bytes and a timed run.
import onnxProto from 'onnx-proto';
import type { ExportEstimate } from '../../shared/export/types.ts';
import type { StudentConfig } from '../../shared/student/types.ts';
import { buildStudentGraph, countMacs } from '../student/model.ts';
import { convertToFp16 } from './fp16.ts';
import { measureMedianMs, openModelSession } from './inference.ts';
import { decodeModel } from './model-info.ts';
import { checkPackageModel } from './writer.ts';

const FLOAT = onnxProto.onnx.TensorProto.DataType.FLOAT;

/** Times the fp32 model on a mid-grey frame and sizes both variants; `student` (a run's) gives exact parameters and multiply-adds. */
export async function estimateModel(model: Uint8Array, options: { checkpointStep: number | null; student: StudentConfig | null }): Promise<ExportEstimate> {
  const { input, output } = checkPackageModel(model);
  const graph = options.student ? buildStudentGraph(options.student).graph : null;
  const [, , height, width] = input.shape;
  const session = await openModelSession(model);
  let medianMs: number;
  try {
    medianMs = await measureMedianMs(session, { input, output }, { data: new Float32Array(3 * height * width).fill(0.5), width, height });
  } finally {
    await session.release();
  }
  return {
    checkpointStep: options.checkpointStep,
    input: { name: input.name, shape: [...input.shape] },
    parameters: graph ? graph.params.reduce((n, p) => n + p.init.length, 0) : initializerValues(model),
    macs: graph ? countMacs(graph) : null,
    fp32Bytes: model.length,
    fp16Bytes: convertToFp16(model).length,
    medianMs,
    provider: session.provider,
  };
}

/** Values held by a model file's float32 initializers: its weights (and any float constants). */
function initializerValues(model: Uint8Array): number {
  let count = 0;
  for (const init of decodeModel(model).graph!.initializer ?? []) {
    if (init.dataType === FLOAT) count += (init.dims ?? []).reduce<number>((n, d) => n * Number(d), 1);
  }
  return count;
}
