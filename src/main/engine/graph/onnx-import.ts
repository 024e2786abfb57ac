// Imports an ONNX model's graph into a builder Graph as frozen nodes: initialisers become constants, never parameters.
import onnxProto from 'onnx-proto';
import type { Graph } from './graph.ts';
import { GraphBuildError } from './shape.ts';
import { fmt, sizeOf, type Tensor } from './types.ts';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

/** A model that cannot be imported; the message names the node, its op and what is wrong. */
export class OnnxImportError extends Error {
  override name = 'OnnxImportError';
}

/** The ops the importer maps to builder ops (each one the autodiff can differentiate). */
export const IMPORTABLE_OPS = [
  'Conv', 'Relu', 'LeakyRelu', 'Clip', 'Sigmoid', 'Tanh', 'HardSwish', 'Abs', 'Neg', 'Exp', 'Log', 'Sqrt',
  'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Add', 'Sub', 'Mul', 'Div', 'Gemm', 'MatMul', 'Reshape', 'Flatten',
  'Transpose', 'Concat', 'Resize', 'Pad', 'BatchNormalization', 'Identity', 'Dropout', 'Constant',
] as const;
const IMPORTABLE = new Set<string>(IMPORTABLE_OPS);

/** Oldest default-domain opset whose operator signatures the importer reads (Clip bounds and Resize scales as inputs). */
const MIN_OPSET = 11;

/** A constant of the file: float32 values, or integers (shapes, axes, pads) as numbers. */
interface ConstValue {
  readonly kind: 'float' | 'int';
  readonly dims: number[];
  readonly data: Float32Array | number[];
}

/** One node of the file in the shape the importer works with. */
interface FileNode {
  readonly name: string;
  readonly op: string;
  readonly domain: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly attrs: Map<string, onnxProto.onnx.IAttributeProto>;
}

/** A decoded ONNX model: its one fed input, its constants, its nodes and the value names they produce. */
export interface OnnxModelFile {
  /** The graph input that is not an initializer (the image the network is fed). */
  readonly input: { name: string; dims: (number | null)[] };
  /** The graph's declared outputs. */
  readonly outputs: readonly string[];
  /** Every value a node produces, in node order (feature maps can be taken from any of them). */
  readonly values: readonly string[];
  /** @internal */
  readonly nodes: readonly FileNode[];
  /** @internal */
  readonly constants: ReadonlyMap<string, ConstValue>;
}

function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

function tensorValue(t: onnxProto.onnx.ITensorProto, where: string): ConstValue {
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new OnnxImportError(`${where} keeps its data in a separate file; save the model as one .onnx file`);
  }
  const dims = (t.dims ?? []).map(toNumber);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new OnnxImportError(`${where} has invalid dims [${dims.join(',')}]`);
  const n = sizeOf(dims);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const need = (bytesPer: number, fromField: number): void => {
    const have = raw ? raw.length / bytesPer : fromField;
    if (have !== n) throw new OnnxImportError(`${where} holds ${have} values for dims [${dims.join(',')}]`);
  };
  switch (t.dataType) {
    case T.FLOAT: {
      need(4, t.floatData?.length ?? 0);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view ? view.getFloat32(4 * i, true) : t.floatData![i]!;
      return { kind: 'float', dims, data: out };
    }
    case T.INT64: {
      need(8, t.int64Data?.length ?? 0);
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(view ? Number(view.getBigInt64(8 * i, true)) : toNumber(t.int64Data![i]));
      return { kind: 'int', dims, data: out };
    }
    case T.INT32: {
      need(4, t.int32Data?.length ?? 0);
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(view ? view.getInt32(4 * i, true) : t.int32Data![i]!);
      return { kind: 'int', dims, data: out };
    }
    default: {
      const typeName = Object.entries(T).find(([, v]) => v === t.dataType)?.[0] ?? String(t.dataType);
      throw new OnnxImportError(`${where} is ${typeName}; feature networks must be float32 (integers only for shapes and axes)`);
    }
  }
}

/** Decodes ONNX bytes and checks the parts the importer relies on; throws {@link OnnxImportError} naming the problem. */
export function readOnnxModel(bytes: Uint8Array): OnnxModelFile {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new OnnxImportError(`not an ONNX model: ${error instanceof Error ? error.message : String(error)}`);
  }
  const graph = model.graph;
  if (!graph) throw new OnnxImportError('not an ONNX model: it has no graph');
  const opset = toNumber((model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version);
  if (opset < MIN_OPSET) throw new OnnxImportError(`the model uses opset ${opset}; re-export it with opset ${MIN_OPSET} or newer`);
  const constants = new Map<string, ConstValue>();
  for (const t of graph.initializer ?? []) constants.set(t.name ?? '', tensorValue(t, `initializer "${t.name ?? ''}"`));
  const fed = (graph.input ?? []).filter((v) => !constants.has(v.name ?? ''));
  if (fed.length !== 1) {
    throw new OnnxImportError(`a feature network must have exactly one input (the image); this one has ${fed.length}: ${fed.map((v) => `"${v.name}"`).join(', ')}`);
  }
  const input = fed[0]!;
  const inputType = input.type?.tensorType;
  if (inputType?.elemType !== T.FLOAT) throw new OnnxImportError(`input "${input.name}" must be float32`);
  const dims = inputType.shape ? (inputType.shape.dim ?? []).map((d) => (d.dimValue === null || d.dimValue === undefined ? null : toNumber(d.dimValue))) : [];
  if (inputType.shape && dims.length !== 4) throw new OnnxImportError(`input "${input.name}" has rank ${dims.length}; a feature network takes [N,3,H,W] images`);
  if (dims.length === 4 && dims[1] !== null && dims[1] !== 3) throw new OnnxImportError(`input "${input.name}" has ${dims[1]} channels; the student's images have 3`);
  const nodes: FileNode[] = (graph.node ?? []).map((n, i) => ({
    name: n.name || `node_${i}`,
    op: n.opType ?? '',
    domain: n.domain ?? '',
    inputs: [...(n.input ?? [])],
    outputs: [...(n.output ?? [])],
    attrs: new Map((n.attribute ?? []).map((a) => [a.name ?? '', a])),
  }));
  return {
    input: { name: input.name ?? '', dims },
    outputs: (graph.output ?? []).map((o) => o.name ?? ''),
    values: nodes.flatMap((n) => n.outputs.filter((o) => o !== '')),
    nodes,
    constants,
  };
}

/** Options of {@link importOnnxGraph}. */
export interface OnnxImportOptions {
  /** The value fed to the network's input (e.g. normalised images `[N,3,H,W]`). */
  input: Tensor;
  /** Names of the values to return: graph outputs or any value a node produces. */
  outputs: readonly string[];
  /** Prefix of every constant and node name the import creates (keeps them apart from the rest of the graph). */
  prefix: string;
}

/**
 * Adds the part of `model` that `outputs` depend on to `g`, fed with `options.input`, and returns those values in
 * order. Initialisers and `Constant` nodes become graph constants, so gradients flow through the network to its
 * input while its weights stay fixed. Ops outside {@link IMPORTABLE_OPS}, other domains and unsupported attribute
 * values are refused with an {@link OnnxImportError} naming the node and the op.
 */
export function importOnnxGraph(g: Graph, model: OnnxModelFile, options: OnnxImportOptions): Tensor[] {
  const { prefix } = options;
  const known = new Set([model.input.name, ...model.constants.keys(), ...model.values]);
  const missing = options.outputs.filter((o) => !known.has(o));
  if (options.outputs.length === 0) throw new OnnxImportError('no feature outputs were named');
  if (missing.length > 0) {
    throw new OnnxImportError(
      `the model has no value named ${missing.map((m) => `"${m}"`).join(', ')}; its outputs are ${model.outputs.map((o) => `"${o}"`).join(', ')}`,
    );
  }
  // Walk back from the wanted values: only the nodes they depend on are imported (and checked).
  const producer = new Map<string, FileNode>();
  for (const n of model.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const needed = new Set<FileNode>();
  const stack = [...options.outputs];
  while (stack.length > 0) {
    const n = producer.get(stack.pop()!);
    if (!n || needed.has(n)) continue;
    needed.add(n);
    for (const i of n.inputs) if (i) stack.push(i);
  }

  const tensors = new Map<string, Tensor>([[model.input.name, options.input]]);
  const consts = new Map(model.constants);
  for (const node of model.nodes) {
    if (!needed.has(node)) continue;
    const where = `node "${node.name}" (${node.op})`;
    if (node.domain !== '' && node.domain !== 'ai.onnx') throw new OnnxImportError(`${where}: ops of domain "${node.domain}" are not supported`);
    if (!IMPORTABLE.has(node.op)) {
      throw new OnnxImportError(`${where}: the op ${node.op} is not supported in a feature network (supported: ${IMPORTABLE_OPS.join(', ')})`);
    }
    try {
      const out = importNode(g, node, { tensors, consts, prefix, where });
      if (out.kind === 'const') consts.set(node.outputs[0]!, out.value);
      else tensors.set(node.outputs[0]!, out.value);
    } catch (error) {
      if (error instanceof OnnxImportError) throw error;
      if (error instanceof GraphBuildError) throw new OnnxImportError(`${where}: ${error.message}`);
      throw error;
    }
  }
  return options.outputs.map((name) => {
    const t = tensors.get(name);
    if (!t) throw new OnnxImportError(`"${name}" is a constant of the model, not a feature map`);
    return t;
  });
}

interface Env {
  tensors: Map<string, Tensor>;
  consts: Map<string, ConstValue>;
  prefix: string;
  where: string;
}

type NodeResult = { kind: 'tensor'; value: Tensor } | { kind: 'const'; value: ConstValue };

function importNode(g: Graph, node: FileNode, env: Env): NodeResult {
  const { where } = env;
  const fail = (why: string): never => {
    throw new OnnxImportError(`${where}: ${why}`);
  };
  const name = `${env.prefix}${node.name}`;
  const extraOutputs = node.outputs.slice(1).filter((o) => o !== '');
  if (extraOutputs.length > 0 && node.op !== 'Dropout') fail(`its extra outputs (${extraOutputs.join(', ')}) are not supported`);
  const attr = (key: string): onnxProto.onnx.IAttributeProto | undefined => node.attrs.get(key);
  const int = (key: string, fallback: number): number => {
    const a = attr(key);
    return a ? toNumber(a.i) : fallback;
  };
  const float = (key: string, fallback: number): number => {
    const a = attr(key);
    return a ? (a.f ?? 0) : fallback;
  };
  const ints = (key: string): number[] | undefined => attr(key)?.ints?.map(toNumber);
  const str = (key: string, fallback: string): string => {
    const a = attr(key);
    return a?.s ? new TextDecoder().decode(a.s) : fallback;
  };
  const constOf = (i: number, what: string): ConstValue => {
    const c = env.consts.get(node.inputs[i] ?? '');
    return c ?? fail(`its ${what} must be a constant of the model`);
  };
  const numbersOf = (i: number, what: string): number[] => Array.from(constOf(i, what).data);
  let constCount = 0;
  const tensorOf = (i: number): Tensor => {
    const key = node.inputs[i] ?? '';
    const t = env.tensors.get(key);
    if (t) return t;
    const c = env.consts.get(key);
    if (!c) return fail(`input ${i} ("${key}") is not produced by any node`);
    if (c.kind !== 'float') return fail(`input ${i} ("${key}") is an integer constant where a float tensor is needed`);
    const made = g.constant(c.data, c.dims, 'float32', `${name}/const${constCount++}`);
    env.tensors.set(key, made);
    return made;
  };
  const has = (i: number): boolean => (node.inputs[i] ?? '') !== '';
  const tensor = (value: Tensor): NodeResult => ({ kind: 'tensor', value });
  const autoPad = (): void => {
    const mode = str('auto_pad', 'NOTSET');
    if (mode !== 'NOTSET' && mode !== 'VALID') fail(`auto_pad ${mode} is not supported; export with explicit pads`);
  };

  switch (node.op) {
    case 'Constant': {
      const value = attr('value');
      if (!value?.t || value.type !== A.TENSOR) return fail('only the tensor "value" attribute is supported');
      return { kind: 'const', value: tensorValue(value.t, where) };
    }
    case 'Identity':
    case 'Dropout':
      if (node.op === 'Dropout' && node.outputs.slice(1).some((o) => o !== '')) fail('its mask output is not supported');
      return tensor(g.identity(tensorOf(0), name));
    case 'Relu':
      return tensor(g.relu(tensorOf(0), name));
    case 'LeakyRelu':
      return tensor(g.leakyRelu(tensorOf(0), float('alpha', 0.01), name));
    case 'Sigmoid':
      return tensor(g.sigmoid(tensorOf(0), name));
    case 'Tanh':
      return tensor(g.tanh(tensorOf(0), name));
    case 'HardSwish':
      return tensor(g.hardSwish(tensorOf(0), name));
    case 'Abs':
      return tensor(g.abs(tensorOf(0), name));
    case 'Neg':
      return tensor(g.neg(tensorOf(0), name));
    case 'Exp':
      return tensor(g.exp(tensorOf(0), name));
    case 'Log':
      return tensor(g.log(tensorOf(0), name));
    case 'Sqrt':
      return tensor(g.sqrt(tensorOf(0), name));
    case 'Clip': {
      const bound = (i: number): number | undefined => {
        if (!has(i)) return undefined;
        const v = numbersOf(i, i === 1 ? 'min' : 'max');
        return v.length === 1 ? v[0] : fail('its bounds must be scalars');
      };
      return tensor(g.clip(tensorOf(0), bound(1), bound(2), name));
    }
    case 'Add':
      return tensor(g.add(tensorOf(0), tensorOf(1), name));
    case 'Sub':
      return tensor(g.sub(tensorOf(0), tensorOf(1), name));
    case 'Mul':
      return tensor(g.mul(tensorOf(0), tensorOf(1), name));
    case 'Div':
      return tensor(g.div(tensorOf(0), tensorOf(1), name));
    case 'Conv': {
      autoPad();
      if (!env.consts.has(node.inputs[1] ?? '')) fail('its weight must be a constant of the model');
      const x = tensorOf(0);
      const w = tensorOf(1);
      const kernel = ints('kernel_shape');
      if (kernel && kernel.join(',') !== w.shape.slice(2).join(',')) fail(`kernel_shape [${kernel.join(',')}] does not match weight ${fmt(w.shape)}`);
      return tensor(
        g.conv(x, w, has(2) ? tensorOf(2) : null, {
          ...optional('strides', ints('strides')),
          ...optional('pads', ints('pads')),
          ...optional('dilations', ints('dilations')),
          group: int('group', 1),
          name,
        }),
      );
    }
    case 'MaxPool':
    case 'AveragePool': {
      autoPad();
      if (int('ceil_mode', 0) !== 0) fail('ceil_mode 1 is not supported');
      if ((ints('dilations') ?? []).some((d) => d !== 1)) fail('dilated pooling is not supported');
      if (node.op === 'MaxPool' && int('storage_order', 0) !== 0) fail('storage_order 1 is not supported');
      const kernel = ints('kernel_shape') ?? fail('it has no kernel_shape');
      const opts = { kernel, ...optional('strides', ints('strides')), ...optional('pads', ints('pads')), name };
      const x = tensorOf(0);
      if (node.op === 'MaxPool') return tensor(g.maxPool(x, opts));
      return tensor(g.averagePool(x, { ...opts, countIncludePad: int('count_include_pad', 0) === 1 }));
    }
    case 'GlobalAveragePool': {
      const x = tensorOf(0);
      return tensor(g.reduceMean(x, { axes: x.shape.map((_, i) => i).slice(2), keepdims: true, name }));
    }
    case 'Gemm':
      return tensor(
        g.gemm(tensorOf(0), tensorOf(1), has(2) ? tensorOf(2) : null, {
          alpha: float('alpha', 1),
          beta: float('beta', 1),
          transA: int('transA', 0) === 1,
          transB: int('transB', 0) === 1,
          name,
        }),
      );
    case 'MatMul':
      return tensor(g.matmul(tensorOf(0), tensorOf(1), name));
    case 'Reshape': {
      const x = tensorOf(0);
      const shape = numbersOf(1, 'target shape');
      if (int('allowzero', 0) === 1 && shape.includes(0)) fail('allowzero with a 0 in the shape is not supported');
      return tensor(g.reshape(x, shape.map((d, i) => (d === 0 ? (x.shape[i] ?? fail(`shape entry ${i} copies a missing axis`)) : d)), name));
    }
    case 'Flatten': {
      const x = tensorOf(0);
      let axis = int('axis', 1);
      if (axis < 0) axis += x.rank;
      if (axis < 0 || axis > x.rank) fail(`axis ${int('axis', 1)} is out of range for ${fmt(x.shape)}`);
      return tensor(g.reshape(x, [sizeOf(x.shape.slice(0, axis)), sizeOf(x.shape.slice(axis))], name));
    }
    case 'Transpose': {
      const perm = ints('perm');
      return tensor(g.transpose(tensorOf(0), perm, name));
    }
    case 'Concat':
      return tensor(g.concat(node.inputs.map((_, i) => tensorOf(i)), int('axis', 0), name));
    case 'Pad': {
      const mode = str('mode', 'constant');
      if (mode !== 'constant') fail(`pad mode ${mode} is not supported (only constant padding is differentiable)`);
      const value = has(2) ? numbersOf(2, 'pad value')[0] : 0;
      if (has(3)) fail('the axes input is not supported');
      return tensor(g.pad(tensorOf(0), numbersOf(1, 'pads'), { value: value ?? 0, name }));
    }
    case 'Resize': {
      const x = tensorOf(0);
      const modeName = str('mode', 'nearest');
      const mode = modeName === 'nearest' || modeName === 'linear' ? modeName : fail(`mode ${modeName} is not supported (nearest or linear)`);
      const coord = str('coordinate_transformation_mode', 'half_pixel');
      if (!['asymmetric', 'half_pixel', 'align_corners', 'pytorch_half_pixel'].includes(coord)) fail(`coordinate_transformation_mode ${coord} is not supported`);
      const nearest = str('nearest_mode', 'round_prefer_floor');
      let scales = has(2) ? numbersOf(2, 'scales') : [];
      if (scales.length === 0) {
        const sizes = has(3) ? numbersOf(3, 'sizes') : fail('it needs constant scales or sizes');
        if (sizes.length !== x.rank) fail(`sizes [${sizes.join(',')}] do not match ${fmt(x.shape)}`);
        scales = sizes.map((s, i) => s / x.shape[i]!);
      }
      return tensor(
        g.resize(x, {
          scales,
          mode,
          coordinateTransformation: coord as 'asymmetric' | 'half_pixel' | 'align_corners' | 'pytorch_half_pixel',
          ...(mode === 'nearest' ? { nearestMode: nearest as 'floor' | 'round_prefer_floor' | 'round_prefer_ceil' | 'ceil' } : {}),
          name,
        }),
      );
    }
    case 'BatchNormalization': {
      if (int('training_mode', 0) !== 0) fail('training_mode 1 is not supported');
      // Inference batch norm is an affine map per channel: fold it into one scale and one shift.
      const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => numbersOf(i, ['scale', 'bias', 'mean', 'variance'][i - 1]!));
      const eps = float('epsilon', 1e-5);
      const x = tensorOf(0);
      const c = x.shape[1] ?? 0;
      if ([scale, bias, mean, variance].some((v) => v!.length !== c)) fail(`its statistics do not have ${c} channels`);
      const s = scale!.map((v, i) => v / Math.sqrt(variance![i]! + eps));
      const b = bias!.map((v, i) => v - mean![i]! * s[i]!);
      const shape = [c, ...new Array<number>(Math.max(0, x.rank - 2)).fill(1)];
      const ks = g.constant(s, shape, 'float32', `${name}/scale`);
      const kb = g.constant(b, shape, 'float32', `${name}/shift`);
      return tensor(g.add(g.mul(x, ks), kb, name));
    }
    default:
      return fail(`the op ${node.op} is not supported`);
  }
}

function optional<K extends string>(key: K, value: number[] | undefined): { [P in K]?: number[] } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number[] };
}
