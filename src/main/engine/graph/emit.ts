// Serialises a Graph to ONNX ModelProto bytes (opset 17) through onnx-proto's protobufjs messages.
import onnxProto from 'onnx-proto';
import type { Graph } from './graph.ts';
import { ONNX_DTYPE, type Attr, type Node, type Tensor, type TensorData } from './types.ts';

const { onnx } = onnxProto;

/** The one opset every emitted model uses. */
export const OPSET = 17;
/** IR version matching opset 17 (ONNX 1.12). */
export const IR_VERSION = 8;

/** Options of {@link emitModel}. */
export interface EmitOptions {
  /** `inputs` for training (weights fed per run), `initializers` for export (weights baked in). */
  params: 'inputs' | 'initializers';
  /** Parameter values for `initializers` mode, by name; missing ones use their initial values. */
  values?: ReadonlyMap<string, Float32Array> | Readonly<Record<string, Float32Array>>;
  /** Subset of declared outputs to emit (default: all). */
  outputs?: readonly string[];
}

/** Serialises `graph` to `ModelProto` bytes; see {@link Graph.toModelBytes}. */
export function emitModel(graph: Graph, options: EmitOptions): Uint8Array {
  const wanted = options.outputs ?? graph.outputs.map((o) => o.name);
  const outputs = wanted.map((name) => {
    const o = graph.outputs.find((x) => x.name === name);
    if (!o) throw new Error(`graph "${graph.name}": no output named "${name}"`);
    return o;
  });

  // Keep only nodes that a selected output depends on (autodiff leaves a few dead helpers; exports drop the backward).
  const live = new Set<string>(outputs.map((o) => o.tensor.name));
  const nodes: Node[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i]!;
    if (!n.outputs.some((t) => live.has(t.name))) continue;
    nodes.push(n);
    for (const t of n.inputs) if (t) live.add(t.name);
  }
  nodes.reverse();

  const subset = options.outputs !== undefined;
  const bakeParams = options.params === 'initializers';
  const values = options.values instanceof Map ? options.values : new Map(Object.entries(options.values ?? {}));

  const inputs = graph.inputs.filter((t) => !subset || live.has(t.name)).map(valueInfo);
  const initializers = graph.constants.filter((c) => live.has(c.tensor.name)).map((c) => tensorProto(c.tensor, c.data));
  for (const p of graph.params) {
    if (bakeParams) {
      if (!live.has(p.name)) continue;
      const v = values.get(p.name) ?? p.init;
      if (v.length !== p.init.length) {
        throw new Error(`param "${p.name}": ${v.length} values given for shape [${p.shape.join(',')}]`);
      }
      initializers.push(tensorProto(p.tensor, v));
    } else if (!subset || live.has(p.name)) inputs.push(valueInfo(p.tensor));
  }

  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'effects-studio',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: graph.name,
      node: nodes.map(nodeProto),
      input: inputs,
      output: outputs.map((o) => valueInfo(o.tensor)),
      initializer: initializers,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function valueInfo(t: Tensor): onnxProto.onnx.IValueInfoProto {
  return {
    name: t.name,
    type: { tensorType: { elemType: ONNX_DTYPE[t.dtype], shape: { dim: t.shape.map((d) => ({ dimValue: d })) } } },
  };
}

function tensorProto(t: Tensor, data: TensorData): onnxProto.onnx.ITensorProto {
  // Raw little-endian bytes for every dtype: exact for int64 (INT64_MIN included) and float16 bits.
  return {
    name: t.name,
    dataType: ONNX_DTYPE[t.dtype],
    dims: [...t.shape],
    rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  };
}

function nodeProto(n: Node): onnxProto.onnx.INodeProto {
  return {
    name: n.name,
    opType: n.op,
    input: n.inputs.map((t) => (t ? t.name : '')),
    output: n.outputs.map((t) => t.name),
    attribute: Object.entries(n.attrs).map(([name, a]) => attrProto(name, a)),
  };
}

function attrProto(name: string, a: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] };
    case 'floats':
      return { name, type: T.FLOATS, floats: [...a.value] };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
  }
}
