// Converts an fp32 ONNX model to half precision (weights and compute) with Casts at its edges, so its I/O stays float32.
import onnxProto from 'onnx-proto';
import { toHalfBits } from '../engine/graph/index.ts';
import { decodeModel } from './model-info.ts';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

/** Inputs that ONNX types as tensor(float) whatever the op's T is: they must stay float32 (op → input indices). */
const FLOAT32_ONLY_INPUTS: Readonly<Record<string, readonly number[]>> = { Resize: [2], Upsample: [1] };

/**
 * Returns fp16 ModelProto bytes for fp32 `bytes`: every float32 initializer (except those in float32-only slots)
 * becomes float16, `Cast(to=float)` nodes cast to float16, and each float32 graph input and output keeps its name
 * and type through a Cast at the edge. Execution providers without a half kernel for some op (ONNX Runtime's CPU
 * provider for most) insert Casts around it themselves, so the model runs everywhere and in half where it can.
 */
export function convertToFp16(bytes: Uint8Array): Uint8Array {
  const model = decodeModel(bytes);
  const graph = model.graph!;
  const nodes = graph.node ?? [];

  const keepFloat32 = new Set<string>();
  for (const node of nodes) {
    for (const i of FLOAT32_ONLY_INPUTS[node.opType ?? ''] ?? []) {
      const name = node.input?.[i];
      if (name) keepFloat32.add(name);
    }
  }
  for (const init of graph.initializer ?? []) {
    if (init.dataType !== FLOAT || keepFloat32.has(init.name ?? '')) continue;
    if (init.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      throw new Error(`fp16: initializer "${init.name ?? ''}" keeps its data in an external file; embed the weights first`);
    }
    toHalfTensor(init);
  }
  for (const node of nodes) {
    for (const attr of node.attribute ?? []) {
      if (node.opType === 'Cast' && attr.name === 'to' && Number(attr.i) === FLOAT) attr.i = FLOAT16;
      if (attr.t && attr.t.dataType === FLOAT) toHalfTensor(attr.t);
    }
  }

  const edgeNodes: onnxProto.onnx.INodeProto[] = [];
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  for (const input of graph.input ?? []) {
    const name = input.name ?? '';
    if (initNames.has(name) || input.type?.tensorType?.elemType !== FLOAT) continue;
    const half = `${name}__fp16`;
    for (const node of nodes) node.input = (node.input ?? []).map((n) => (n === name ? half : n));
    edgeNodes.push(castNode(`${name}__to_fp16`, name, half, FLOAT16));
  }
  const tail: onnxProto.onnx.INodeProto[] = [];
  for (const output of graph.output ?? []) {
    const name = output.name ?? '';
    if (output.type?.tensorType?.elemType !== FLOAT) continue;
    const half = `${name}__fp16`;
    for (const node of nodes) {
      node.input = (node.input ?? []).map((n) => (n === name ? half : n));
      node.output = (node.output ?? []).map((n) => (n === name ? half : n));
    }
    tail.push(castNode(`${name}__to_fp32`, half, name, FLOAT));
  }
  graph.node = [...edgeNodes, ...nodes, ...tail];
  // Intermediate value types were float32; let the runtime infer them again.
  graph.valueInfo = [];
  return onnx.ModelProto.encode(model).finish();
}

function castNode(name: string, input: string, output: string, to: number): onnxProto.onnx.INodeProto {
  return { name, opType: 'Cast', input: [input], output: [output], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: to }] };
}

function toHalfTensor(t: onnxProto.onnx.ITensorProto): void {
  const values = floatValues(t);
  const half = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) half[i] = toHalfBits(values[i]!);
  t.dataType = FLOAT16;
  t.floatData = [];
  t.rawData = new Uint8Array(half.buffer);
}

function floatValues(t: onnxProto.onnx.ITensorProto): Float32Array {
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    const copy = new Uint8Array(raw);
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}
