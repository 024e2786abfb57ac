// Reads what a package needs to know from ONNX ModelProto bytes: opset, I/O signature, weights kept inside.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** A graph input or output as the model declares it. */
export interface TensorSignature {
  name: string;
  /** ONNX element type name ('float32', 'float16', ...), or `type <n>` for others. */
  dtype: string;
  /** Static dims; `null` where a dim is symbolic or missing. */
  shape: (number | null)[];
}

/** Facts about one ONNX model. */
export interface ModelInfo {
  /** Version of the default ('' / ai.onnx) opset. */
  opset: number | null;
  inputs: TensorSignature[];
  outputs: TensorSignature[];
  /** Initializers whose data lives in an external file (a package must not have any). */
  externalInitializers: string[];
  initializerCount: number;
}

const DTYPE_NAMES: Record<number, string> = { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64' };

/** Thrown when bytes are not a readable ONNX model. */
export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
}

/** Decodes a ModelProto; throws {@link ModelFormatError} with the decoder's reason when the bytes are not one. */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new ModelFormatError(`not an ONNX model: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!model.graph) throw new ModelFormatError('not an ONNX model: it has no graph');
  return model;
}

/** Reads opset, I/O and initializer facts of an ONNX model. */
export function readModelInfo(bytes: Uint8Array): ModelInfo {
  const model = decodeModel(bytes);
  const graph = model.graph!;
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return {
    opset: opset?.version === undefined || opset.version === null ? null : toNumber(opset.version),
    // Older exporters also list initializers as inputs; those are weights, not inputs an app feeds.
    inputs: (graph.input ?? []).filter((v) => !initNames.has(v.name ?? '')).map(signature),
    outputs: (graph.output ?? []).map(signature),
    externalInitializers: (graph.initializer ?? [])
      .filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
      .map((t) => t.name ?? ''),
    initializerCount: initNames.size,
  };
}

function signature(v: onnxProto.onnx.IValueInfoProto): TensorSignature {
  const tensorType = v.type?.tensorType;
  const elem = tensorType?.elemType ?? 0;
  return {
    name: v.name ?? '',
    dtype: DTYPE_NAMES[elem] ?? `type ${elem}`,
    shape: (tensorType?.shape?.dim ?? []).map((d) =>
      d.dimValue === undefined || d.dimValue === null || d.dimParam ? null : toNumber(d.dimValue),
    ),
  };
}

/** protobufjs decodes int64 as a number or a Long, depending on whether the `long` package is present. */
function toNumber(v: number | { toNumber(): number }): number {
  return typeof v === 'number' ? v : v.toNumber();
}

/** `[1,3,256,256]`, with `?` for symbolic dims. */
export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}
