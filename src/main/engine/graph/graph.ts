// The typed ONNX graph builder: tensors with dtype and static shape, shape inference per op, parameters and constants.
import { emitModel, type EmitOptions } from './emit.ts';
import { initialValues, type Init } from './init.ts';
import { toHalfBits } from './float16.ts';
import { broadcastShapes, GraphBuildError, normAxis, resolveWindow, windowOutput } from './shape.ts';
import {
  floatAttr,
  fmt,
  intAttr,
  intsAttr,
  isFloat,
  ONNX_DTYPE,
  sizeOf,
  stringAttr,
  Tensor,
  type Attr,
  type DType,
  type Node,
  type Shape,
  type TensorData,
} from './types.ts';

/** A trainable parameter: a named float32 tensor with its initial values. */
export interface Param {
  /** Name of the parameter (the ONNX input or initializer name). */
  readonly name: string;
  /** The tensor ops consume. */
  readonly tensor: Tensor;
  /** Static shape. */
  readonly shape: Shape;
  /** Initial values drawn at `param()` time (deterministic by graph seed and name). */
  readonly init: Float32Array;
}

/** A constant value baked into the model as an initializer. */
export interface Constant {
  /** The tensor ops consume. */
  readonly tensor: Tensor;
  /** Its values (float16 as raw half bits in a Uint16Array, int64 as BigInt64Array, bool as 0/1 bytes). */
  readonly data: TensorData;
}

/** A named graph output. */
export interface GraphOutput {
  /** The ONNX output name. */
  readonly name: string;
  /** The value it exposes. */
  readonly tensor: Tensor;
}

/** Operands of elementwise ops: a tensor, or a number that becomes a scalar constant of the other operand's dtype. */
export type TensorLike = Tensor | number;

/** Options of conv-like ops; single numbers apply to every spatial axis, pads are ONNX `[begins..., ends...]`. */
export interface ConvOptions {
  strides?: readonly number[] | number;
  pads?: readonly number[] | number;
  dilations?: readonly number[] | number;
  group?: number;
  name?: string;
}

/** Options of ConvTranspose. */
export interface ConvTransposeOptions extends ConvOptions {
  outputPadding?: readonly number[] | number;
}

/** Options of AveragePool/MaxPool. */
export interface PoolOptions {
  kernel: readonly number[] | number;
  strides?: readonly number[] | number;
  pads?: readonly number[] | number;
  /** AveragePool only: divide by the full window (1) or by the valid elements (0, ONNX default). */
  countIncludePad?: boolean;
  name?: string;
}

/** Options of Gemm: `alpha·A'·B' + beta·C`. */
export interface GemmOptions {
  alpha?: number;
  beta?: number;
  transA?: boolean;
  transB?: boolean;
  name?: string;
}

/** Options of ReduceSum/ReduceMean; no axes means all axes. */
export interface ReduceOptions {
  axes?: readonly number[];
  keepdims?: boolean;
  name?: string;
}

/** Options of Slice; omitted axes mean 0..n-1, omitted steps mean 1. */
export interface SliceOptions {
  starts: readonly number[];
  ends: readonly number[];
  axes?: readonly number[];
  steps?: readonly number[];
  name?: string;
}

/** Options of Resize. `nearest` defaults to asymmetric/floor (PyTorch's `interpolate`), `linear` to half_pixel. */
export interface ResizeOptions {
  scales: readonly number[];
  mode: 'nearest' | 'linear';
  coordinateTransformation?: 'asymmetric' | 'half_pixel' | 'align_corners' | 'pytorch_half_pixel';
  nearestMode?: 'floor' | 'round_prefer_floor' | 'round_prefer_ceil' | 'ceil';
  name?: string;
}

/** Options of Pad. */
export interface PadOptions {
  mode?: 'constant' | 'reflect' | 'edge';
  value?: number;
  name?: string;
}

/** Largest-magnitude int64, as ONNX uses for "to the end" in Slice with negative steps. */
export const INT64_MIN = -9223372036854775808;

let nextGraphId = 1;

/**
 * A typed ONNX graph (opset 17) under construction. Every op checks dtypes and infers its static output shape at
 * build time; a mismatch throws a {@link GraphBuildError} naming the op, the node and the shapes.
 *
 * @example
 * ```ts
 * const g = new Graph('tiny', { seed: 1 });
 * const x = g.input('x', 'float32', [8, 3, 64, 64]);
 * const w = g.param('conv1.weight', [16, 3, 3, 3], 'he');
 * const b = g.param('conv1.bias', [16], 'zeros');
 * const y = g.relu(g.conv(x, w, b, { pads: 1, name: 'conv1' }));
 * const loss = l1Loss(g, y, g.input('target', 'float32', y.shape));   // from engine/losses
 * const grads = gradients(g, loss, g.params.map((p) => p.tensor));    // from engine/autodiff
 * g.output('loss', loss);
 * const bytes = g.toModelBytes({ params: 'inputs' });                 // training: weights fed per step
 * const exported = g.toModelBytes({ params: 'initializers', outputs: ['y'] });
 * ```
 */
export class Graph {
  /** Graph name written to the ModelProto. */
  readonly name: string;
  /** Seed of the parameter initialisers. */
  readonly seed: number;
  /** @internal identity used to reject tensors from another graph. */
  readonly id = nextGraphId++;

  private readonly nodeList: Node[] = [];
  private readonly inputList: Tensor[] = [];
  private readonly paramList: Param[] = [];
  private readonly constMap = new Map<string, Constant>();
  private readonly constCache = new Map<string, Tensor>();
  private readonly outputList: GraphOutput[] = [];
  private readonly producerMap = new Map<string, Node>();
  private readonly usedNames = new Set<string>();
  private readonly scopeStack: string[] = [];
  private counter = 0;

  /** Creates an empty graph; `seed` makes parameter initialisation deterministic (default 0). */
  constructor(name: string, options: { seed?: number } = {}) {
    this.name = name;
    this.seed = options.seed ?? 0;
  }

  /** Nodes in topological (creation) order. */
  get nodes(): readonly Node[] {
    return this.nodeList;
  }

  /** Declared graph inputs (not parameters). */
  get inputs(): readonly Tensor[] {
    return this.inputList;
  }

  /** Parameters in declaration order. */
  get params(): readonly Param[] {
    return this.paramList;
  }

  /** Constants (always emitted as initializers). */
  get constants(): readonly Constant[] {
    return [...this.constMap.values()];
  }

  /** Declared outputs in order. */
  get outputs(): readonly GraphOutput[] {
    return this.outputList;
  }

  /** The node that produced a tensor, or undefined for inputs, parameters and constants. */
  producer(t: Tensor): Node | undefined {
    return this.producerMap.get(t.name);
  }

  /** The values of a constant tensor, or undefined if `t` is not a constant. */
  constantData(t: Tensor): TensorData | undefined {
    return this.constMap.get(t.name)?.data;
  }

  /** The parameter behind a tensor, if it is one. */
  paramOf(t: Tensor): Param | undefined {
    return this.paramList.find((p) => p.tensor.name === t.name);
  }

  /** Initial values of all parameters by name (what a trainer feeds on its first step). */
  initialParamValues(): Map<string, Float32Array> {
    return new Map(this.paramList.map((p) => [p.name, p.init]));
  }

  /** Runs `fn` with `prefix/` prepended to the names of the nodes it creates (not to parameters or inputs). */
  scope<T>(prefix: string, fn: () => T): T {
    this.scopeStack.push(prefix);
    try {
      return fn();
    } finally {
      this.scopeStack.pop();
    }
  }

  // ---------------------------------------------------------------- values

  /** Declares a graph input. */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    const t = this.newValue(this.claim(name, 'input'), dtype, shape);
    this.inputList.push(t);
    return t;
  }

  /** Declares a float32 parameter with seeded initial values (He/Xavier fan-in defaults follow PyTorch's layout). */
  param(name: string, shape: Shape, init: Init): Tensor {
    this.checkShape('param', name, shape);
    const t = this.newValue(this.claim(name, 'param'), 'float32', shape);
    this.paramList.push({ name, tensor: t, shape: [...shape], init: initialValues(init, shape, this.seed, name) });
    return t;
  }

  /** Adds a constant. Numbers are converted to the dtype (float16 rounded to nearest even, int64 truncated). */
  constant(values: ArrayLike<number> | number, shape: Shape, dtype: DType = 'float32', name?: string): Tensor {
    const arr = typeof values === 'number' ? [values] : values;
    const n = sizeOf(shape);
    if (arr.length !== n) {
      throw new GraphBuildError(`constant "${name ?? ''}": ${arr.length} values given for shape ${fmt(shape)}`);
    }
    const t = this.newValue(this.claim(name ?? this.autoName('const'), 'constant'), dtype, shape);
    this.constMap.set(t.name, { tensor: t, data: toData(arr, dtype) });
    return t;
  }

  /** A scalar constant (shape `[]`), shared between uses of the same value and dtype. */
  scalar(value: number, dtype: DType = 'float32'): Tensor {
    return this.cachedConst([value], [], dtype);
  }

  /** A 1-D int64 constant, shared between uses of the same values (shapes, axes, pads, ...). */
  int64s(values: readonly number[]): Tensor {
    return this.cachedConst(values, [values.length], 'int64');
  }

  /** Declares `t` as a graph output called `name` (an Identity is added when the value has another name). */
  output(name: string, t: Tensor): Tensor {
    this.own(t, 'output', name);
    if (this.outputList.some((o) => o.name === name)) {
      throw new GraphBuildError(`output "${name}": declared twice`);
    }
    const out =
      t.name === name ? t : this.addNode('Identity', [t], [{ dtype: t.dtype, shape: t.shape }], {}, this.claim(name, 'output'))[0]!;
    this.outputList.push({ name, tensor: out });
    return out;
  }

  // ---------------------------------------------------------------- elementwise

  /** `a + b` with numpy broadcasting. */
  add(a: TensorLike, b: TensorLike, name?: string): Tensor {
    return this.binary('Add', a, b, name);
  }

  /** `a - b` with numpy broadcasting. */
  sub(a: TensorLike, b: TensorLike, name?: string): Tensor {
    return this.binary('Sub', a, b, name);
  }

  /** `a * b` with numpy broadcasting. */
  mul(a: TensorLike, b: TensorLike, name?: string): Tensor {
    return this.binary('Mul', a, b, name);
  }

  /** `a / b` with numpy broadcasting. */
  div(a: TensorLike, b: TensorLike, name?: string): Tensor {
    return this.binary('Div', a, b, name);
  }

  /** `a ** b` with numpy broadcasting (a number exponent becomes a scalar constant). */
  pow(a: Tensor, b: TensorLike, name?: string): Tensor {
    return this.binary('Pow', a, b, name);
  }

  /** `a > b` → bool. */
  greater(a: TensorLike, b: TensorLike, name?: string): Tensor {
    return this.binary('Greater', a, b, name, 'bool');
  }

  /** `a < b` → bool. */
  less(a: TensorLike, b: TensorLike, name?: string): Tensor {
    return this.binary('Less', a, b, name, 'bool');
  }

  /** `a == b` → bool. */
  equal(a: TensorLike, b: TensorLike, name?: string): Tensor {
    return this.binary('Equal', a, b, name, 'bool');
  }

  /** `cond ? a : b` elementwise with broadcasting of all three. */
  where(cond: Tensor, a: TensorLike, b: TensorLike, name?: string): Tensor {
    const nodeName = this.nodeName('Where', name);
    this.own(cond, 'where', nodeName);
    if (cond.dtype !== 'bool') throw new GraphBuildError(`where "${nodeName}": condition ${cond} must be bool`);
    const [ta, tb] = this.liftPair('where', nodeName, a, b);
    const shape = broadcastShapes('where', nodeName, [cond.shape, ta.shape, tb.shape]);
    return this.addNode('Where', [cond, ta, tb], [{ dtype: ta.dtype, shape }], {}, nodeName)[0]!;
  }

  /** `-x`. */
  neg(x: Tensor, name?: string): Tensor {
    return this.unary('Neg', x, name);
  }

  /** `max(x, 0)`. */
  relu(x: Tensor, name?: string): Tensor {
    return this.unary('Relu', x, name);
  }

  /** `x ≥ 0 ? x : alpha·x`. */
  leakyRelu(x: Tensor, alpha = 0.01, name?: string): Tensor {
    return this.unary('LeakyRelu', x, name, { alpha: floatAttr(alpha) });
  }

  /** `min(max(x, min), max)`; either bound may be omitted. */
  clip(x: Tensor, min?: number, max?: number, name?: string): Tensor {
    const nodeName = this.nodeName('Clip', name);
    this.own(x, 'clip', nodeName);
    this.needFloat('clip', nodeName, x);
    const lo = min === undefined ? null : this.scalar(min, x.dtype);
    const hi = max === undefined ? null : this.scalar(max, x.dtype);
    return this.addNode('Clip', [x, lo, hi], [{ dtype: x.dtype, shape: x.shape }], {}, nodeName)[0]!;
  }

  /** ReLU6: `clip(x, 0, 6)`. */
  relu6(x: Tensor, name?: string): Tensor {
    return this.clip(x, 0, 6, name);
  }

  /** Hard swish: `x·relu6(x + 3)/6`. */
  hardSwish(x: Tensor, name?: string): Tensor {
    return this.unary('HardSwish', x, name);
  }

  /** Logistic sigmoid. */
  sigmoid(x: Tensor, name?: string): Tensor {
    return this.unary('Sigmoid', x, name);
  }

  /** Hyperbolic tangent. */
  tanh(x: Tensor, name?: string): Tensor {
    return this.unary('Tanh', x, name);
  }

  /** `e^x`. */
  exp(x: Tensor, name?: string): Tensor {
    return this.unary('Exp', x, name);
  }

  /** Natural logarithm. */
  log(x: Tensor, name?: string): Tensor {
    return this.unary('Log', x, name);
  }

  /** Square root. */
  sqrt(x: Tensor, name?: string): Tensor {
    return this.unary('Sqrt', x, name);
  }

  /** Absolute value. */
  abs(x: Tensor, name?: string): Tensor {
    return this.unary('Abs', x, name);
  }

  /** Identity (a named copy). */
  identity(x: Tensor, name?: string): Tensor {
    const nodeName = this.nodeName('Identity', name);
    this.own(x, 'identity', nodeName);
    return this.addNode('Identity', [x], [{ dtype: x.dtype, shape: x.shape }], {}, nodeName)[0]!;
  }

  /** Converts the element type. */
  cast(x: Tensor, to: DType, name?: string): Tensor {
    const nodeName = this.nodeName('Cast', name);
    this.own(x, 'cast', nodeName);
    return this.addNode('Cast', [x], [{ dtype: to, shape: x.shape }], { to: intAttr(ONNX_DTYPE[to]) }, nodeName)[0]!;
  }

  // ---------------------------------------------------------------- linear algebra and convolution

  /** Batched matrix product with numpy broadcasting of the batch axes; both operands must have rank ≥ 2. */
  matmul(a: Tensor, b: Tensor, name?: string): Tensor {
    const nodeName = this.nodeName('MatMul', name);
    this.own(a, 'matmul', nodeName);
    this.own(b, 'matmul', nodeName);
    this.sameFloat('matmul', nodeName, a, b);
    if (a.rank < 2 || b.rank < 2) {
      throw new GraphBuildError(`matmul "${nodeName}": operands ${fmt(a.shape)} and ${fmt(b.shape)} must have rank ≥ 2`);
    }
    const m = a.shape[a.rank - 2]!;
    const k = a.shape[a.rank - 1]!;
    const k2 = b.shape[b.rank - 2]!;
    const n = b.shape[b.rank - 1]!;
    if (k !== k2) {
      throw new GraphBuildError(`matmul "${nodeName}": inner dimensions of ${fmt(a.shape)} and ${fmt(b.shape)} differ (${k} vs ${k2})`);
    }
    const batch = broadcastShapes('matmul', nodeName, [a.shape.slice(0, -2), b.shape.slice(0, -2)]);
    return this.addNode('MatMul', [a, b], [{ dtype: a.dtype, shape: [...batch, m, n] }], {}, nodeName)[0]!;
  }

  /** General matrix multiply `alpha·op(A)·op(B) + beta·C` on 2-D operands; C broadcasts to the result. */
  gemm(a: Tensor, b: Tensor, c: Tensor | null = null, opts: GemmOptions = {}): Tensor {
    const nodeName = this.nodeName('Gemm', opts.name);
    for (const t of [a, b, c]) if (t) this.own(t, 'gemm', nodeName);
    this.sameFloat('gemm', nodeName, a, b);
    if (a.rank !== 2 || b.rank !== 2) {
      throw new GraphBuildError(`gemm "${nodeName}": operands ${fmt(a.shape)} and ${fmt(b.shape)} must be 2-D`);
    }
    const [m, k] = opts.transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
    const [k2, n] = opts.transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
    if (k !== k2) {
      throw new GraphBuildError(
        `gemm "${nodeName}": inner dimensions of ${fmt(a.shape)}${opts.transA ? 'ᵀ' : ''} and ${fmt(b.shape)}${opts.transB ? 'ᵀ' : ''} differ (${k} vs ${k2})`,
      );
    }
    if (c) {
      this.sameFloat('gemm', nodeName, a, c);
      const bc = broadcastShapes('gemm', nodeName, [[m, n], c.shape]);
      if (bc[0] !== m || bc[1] !== n) {
        throw new GraphBuildError(`gemm "${nodeName}": bias ${fmt(c.shape)} does not broadcast to ${fmt([m, n])}`);
      }
    }
    const attrs: Record<string, Attr> = {};
    if (opts.alpha !== undefined && opts.alpha !== 1) attrs.alpha = floatAttr(opts.alpha);
    if (opts.beta !== undefined && opts.beta !== 1) attrs.beta = floatAttr(opts.beta);
    if (opts.transA) attrs.transA = intAttr(1);
    if (opts.transB) attrs.transB = intAttr(1);
    return this.addNode('Gemm', c ? [a, b, c] : [a, b], [{ dtype: a.dtype, shape: [m, n] }], attrs, nodeName)[0]!;
  }

  /** N-d convolution: x `[N, C, ...]`, w `[M, C/group, ...k]`, optional bias `[M]`. */
  conv(x: Tensor, w: Tensor, b: Tensor | null = null, opts: ConvOptions = {}): Tensor {
    const nodeName = this.nodeName('Conv', opts.name);
    for (const t of [x, w, b]) if (t) this.own(t, 'conv', nodeName);
    this.sameFloat('conv', nodeName, x, w);
    const group = opts.group ?? 1;
    if (x.rank < 3 || w.rank !== x.rank) {
      throw new GraphBuildError(`conv "${nodeName}": input ${fmt(x.shape)} and weight ${fmt(w.shape)} must both have rank ≥ 3 and equal rank`);
    }
    const c = x.shape[1]!;
    const m = w.shape[0]!;
    if (!Number.isInteger(group) || group < 1 || c % group !== 0 || m % group !== 0 || w.shape[1]! * group !== c) {
      throw new GraphBuildError(`conv "${nodeName}": input channels ${c} do not match weight ${fmt(w.shape)} with group ${group}`);
    }
    if (b) this.checkBias('conv', nodeName, b, m, w);
    const win = resolveWindow('conv', nodeName, w.shape.slice(2), opts);
    const spatial = windowOutput('conv', nodeName, x.shape.slice(2), win);
    return this.addNode(
      'Conv',
      b ? [x, w, b] : [x, w],
      [{ dtype: x.dtype, shape: [x.shape[0]!, m, ...spatial] }],
      { ...windowAttrs(win), ...(group !== 1 ? { group: intAttr(group) } : {}) },
      nodeName,
    )[0]!;
  }

  /** Transposed convolution: x `[N, C, ...]`, w `[C, M/group, ...k]` (the forward conv's weight), bias `[M]`. */
  convTranspose(x: Tensor, w: Tensor, b: Tensor | null = null, opts: ConvTransposeOptions = {}): Tensor {
    const nodeName = this.nodeName('ConvTranspose', opts.name);
    for (const t of [x, w, b]) if (t) this.own(t, 'convTranspose', nodeName);
    this.sameFloat('convTranspose', nodeName, x, w);
    const group = opts.group ?? 1;
    if (x.rank < 3 || w.rank !== x.rank) {
      throw new GraphBuildError(`convTranspose "${nodeName}": input ${fmt(x.shape)} and weight ${fmt(w.shape)} must both have rank ≥ 3 and equal rank`);
    }
    const c = x.shape[1]!;
    if (!Number.isInteger(group) || group < 1 || w.shape[0] !== c || c % group !== 0) {
      throw new GraphBuildError(`convTranspose "${nodeName}": input channels ${c} do not match weight ${fmt(w.shape)} with group ${group}`);
    }
    const m = w.shape[1]! * group;
    if (b) this.checkBias('convTranspose', nodeName, b, m, w);
    const win = resolveWindow('convTranspose', nodeName, w.shape.slice(2), opts);
    const nsp = x.rank - 2;
    const op =
      opts.outputPadding === undefined
        ? new Array<number>(nsp).fill(0)
        : typeof opts.outputPadding === 'number'
          ? new Array<number>(nsp).fill(opts.outputPadding)
          : [...opts.outputPadding];
    if (op.length !== nsp || op.some((v, i) => v < 0 || v >= Math.max(win.strides[i]!, win.dilations[i]!))) {
      throw new GraphBuildError(`convTranspose "${nodeName}": output padding ${fmt(op)} must be below the strides ${fmt(win.strides)}`);
    }
    const spatial = x.shape.slice(2).map((h, i) => {
      const out =
        win.strides[i]! * (h - 1) + op[i]! + win.dilations[i]! * (win.kernel[i]! - 1) + 1 - win.pads[i]! - win.pads[i + nsp]!;
      if (out <= 0) throw new GraphBuildError(`convTranspose "${nodeName}": output size ${out} on spatial axis ${i} is not positive`);
      return out;
    });
    const attrs: Record<string, Attr> = { ...windowAttrs(win), ...(group !== 1 ? { group: intAttr(group) } : {}) };
    if (op.some((v) => v !== 0)) attrs.output_padding = intsAttr(op);
    return this.addNode('ConvTranspose', b ? [x, w, b] : [x, w], [{ dtype: x.dtype, shape: [x.shape[0]!, m, ...spatial] }], attrs, nodeName)[0]!;
  }

  /** Average pooling (floor mode). */
  averagePool(x: Tensor, opts: PoolOptions): Tensor {
    return this.pool('AveragePool', x, opts);
  }

  /** Max pooling (floor mode, no dilation). */
  maxPool(x: Tensor, opts: PoolOptions): Tensor {
    return this.pool('MaxPool', x, opts);
  }

  // ---------------------------------------------------------------- shape ops

  /** Reshape to a static shape; at most one `-1` is inferred. */
  reshape(x: Tensor, shape: readonly number[], name?: string): Tensor {
    const nodeName = this.nodeName('Reshape', name);
    this.own(x, 'reshape', nodeName);
    const known = shape.filter((d) => d !== -1);
    const inferred = shape.length - known.length;
    const prod = sizeOf(known);
    let out = [...shape];
    if (inferred > 1 || known.some((d) => !Number.isInteger(d) || d < 0) || (inferred === 1 && (prod === 0 || x.size % prod !== 0))) {
      throw new GraphBuildError(`reshape "${nodeName}": cannot reshape ${fmt(x.shape)} to ${fmt(shape)}`);
    }
    if (inferred === 1) out = shape.map((d) => (d === -1 ? x.size / prod : d));
    if (sizeOf(out) !== x.size) {
      throw new GraphBuildError(`reshape "${nodeName}": cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)}`);
    }
    return this.addNode('Reshape', [x, this.int64s(out)], [{ dtype: x.dtype, shape: out }], {}, nodeName)[0]!;
  }

  /** Permutes axes (default: reverses them). */
  transpose(x: Tensor, perm?: readonly number[], name?: string): Tensor {
    const nodeName = this.nodeName('Transpose', name);
    this.own(x, 'transpose', nodeName);
    const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
    if (p.length !== x.rank || [...p].sort((u, v) => u - v).some((v, i) => v !== i)) {
      throw new GraphBuildError(`transpose "${nodeName}": ${fmt(p)} is not a permutation of the axes of ${fmt(x.shape)}`);
    }
    return this.addNode('Transpose', [x], [{ dtype: x.dtype, shape: p.map((a) => x.shape[a]!) }], { perm: intsAttr(p) }, nodeName)[0]!;
  }

  /** Concatenates along an axis. */
  concat(xs: readonly Tensor[], axis: number, name?: string): Tensor {
    const nodeName = this.nodeName('Concat', name);
    if (xs.length === 0) throw new GraphBuildError(`concat "${nodeName}": no inputs`);
    const first = xs[0]!;
    const a = normAxis('concat', nodeName, axis, first.rank);
    let total = 0;
    for (const t of xs) {
      this.own(t, 'concat', nodeName);
      if (t.dtype !== first.dtype || t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
        throw new GraphBuildError(
          `concat "${nodeName}": ${first.dtype}${fmt(first.shape)} and ${t.dtype}${fmt(t.shape)} differ outside axis ${axis}`,
        );
      }
      total += t.shape[a]!;
    }
    const shape = first.shape.map((d, i) => (i === a ? total : d));
    return this.addNode('Concat', xs, [{ dtype: first.dtype, shape }], { axis: intAttr(a) }, nodeName)[0]!;
  }

  /** Splits along an axis into pieces of the given sizes. */
  split(x: Tensor, sizes: readonly number[], axis: number, name?: string): Tensor[] {
    const nodeName = this.nodeName('Split', name);
    this.own(x, 'split', nodeName);
    const a = normAxis('split', nodeName, axis, x.rank);
    if (sizes.reduce((s, v) => s + v, 0) !== x.shape[a] || sizes.some((v) => !Number.isInteger(v) || v < 0)) {
      throw new GraphBuildError(`split "${nodeName}": sizes ${fmt(sizes)} do not add up to axis ${axis} of ${fmt(x.shape)}`);
    }
    const outs = sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === a ? s : d)) }));
    return this.addNode('Split', [x, this.int64s(sizes)], outs, { axis: intAttr(a) }, nodeName);
  }

  /**
   * Gathers along `axis` at constant indices (`indicesShape` replaces that axis in the output). Copies whole inner
   * blocks, so gathering rows of an image stacks overlapping row windows in one op.
   */
  gather(x: Tensor, indices: readonly number[], indicesShape: Shape, axis: number, name?: string): Tensor {
    const nodeName = this.nodeName('Gather', name);
    this.own(x, 'gather', nodeName);
    const a = normAxis('gather', nodeName, axis, x.rank);
    const d = x.shape[a]!;
    if (indices.length !== sizeOf(indicesShape)) {
      throw new GraphBuildError(`gather "${nodeName}": ${indices.length} indices given for shape ${fmt(indicesShape)}`);
    }
    const bad = indices.find((i) => !Number.isInteger(i) || i < -d || i >= d);
    if (bad !== undefined) throw new GraphBuildError(`gather "${nodeName}": index ${bad} is outside axis ${axis} of ${fmt(x.shape)}`);
    const idx = this.constant(indices, indicesShape, 'int64');
    const shape = [...x.shape.slice(0, a), ...indicesShape, ...x.shape.slice(a + 1)];
    return this.addNode('Gather', [x, idx], [{ dtype: x.dtype, shape }], { axis: intAttr(a) }, nodeName)[0]!;
  }

  /** Slices with ONNX semantics (negative indices, clamping, negative steps). */
  slice(x: Tensor, opts: SliceOptions): Tensor {
    const nodeName = this.nodeName('Slice', opts.name);
    this.own(x, 'slice', nodeName);
    const n = opts.starts.length;
    const axes = (opts.axes ?? opts.starts.map((_, i) => i)).map((ax) => normAxis('slice', nodeName, ax, x.rank));
    const steps = opts.steps ?? new Array<number>(n).fill(1);
    if (opts.ends.length !== n || axes.length !== n || steps.length !== n || new Set(axes).size !== n) {
      throw new GraphBuildError(`slice "${nodeName}": starts, ends, axes and steps must have equal length and distinct axes`);
    }
    const shape = [...x.shape];
    axes.forEach((ax, i) => {
      const r = sliceRange(x.shape[ax]!, opts.starts[i]!, opts.ends[i]!, steps[i]!);
      if (r === null) throw new GraphBuildError(`slice "${nodeName}": step 0 on axis ${ax}`);
      shape[ax] = r.length;
    });
    const inputs = [x, this.int64s(opts.starts), this.int64s(opts.ends), this.int64s(axes)];
    if (steps.some((s) => s !== 1)) inputs.push(this.int64s(steps));
    return this.addNode('Slice', inputs, [{ dtype: x.dtype, shape }], {}, nodeName)[0]!;
  }

  /** Pads with ONNX `pads` layout `[begins..., ends...]`; negative pads crop. */
  pad(x: Tensor, pads: readonly number[], opts: PadOptions = {}): Tensor {
    const nodeName = this.nodeName('Pad', opts.name);
    this.own(x, 'pad', nodeName);
    if (pads.length !== 2 * x.rank || pads.some((p) => !Number.isInteger(p))) {
      throw new GraphBuildError(`pad "${nodeName}": pads ${fmt(pads)} must have ${2 * x.rank} integers for ${fmt(x.shape)}`);
    }
    const shape = x.shape.map((d, i) => d + pads[i]! + pads[i + x.rank]!);
    if (shape.some((d) => d < 0)) throw new GraphBuildError(`pad "${nodeName}": pads ${fmt(pads)} crop ${fmt(x.shape)} below zero`);
    const mode = opts.mode ?? 'constant';
    const inputs: (Tensor | null)[] = [x, this.int64s(pads)];
    if (mode === 'constant' && opts.value !== undefined && opts.value !== 0) inputs.push(this.scalar(opts.value, x.dtype));
    return this.addNode('Pad', inputs, [{ dtype: x.dtype, shape }], mode === 'constant' ? {} : { mode: stringAttr(mode) }, nodeName)[0]!;
  }

  /** Resizes by per-axis scales (output size `floor(d·scale)`). */
  resize(x: Tensor, opts: ResizeOptions): Tensor {
    const nodeName = this.nodeName('Resize', opts.name);
    this.own(x, 'resize', nodeName);
    this.needFloat('resize', nodeName, x);
    if (opts.scales.length !== x.rank || opts.scales.some((s) => !(s > 0))) {
      throw new GraphBuildError(`resize "${nodeName}": scales ${fmt(opts.scales)} must be ${x.rank} positive numbers for ${fmt(x.shape)}`);
    }
    const shape = x.shape.map((d, i) => Math.floor(d * opts.scales[i]!));
    const coord = opts.coordinateTransformation ?? (opts.mode === 'nearest' ? 'asymmetric' : 'half_pixel');
    const attrs: Record<string, Attr> = { mode: stringAttr(opts.mode), coordinate_transformation_mode: stringAttr(coord) };
    if (opts.mode === 'nearest') attrs.nearest_mode = stringAttr(opts.nearestMode ?? 'floor');
    const scales = this.cachedConst(opts.scales, [opts.scales.length], 'float32');
    return this.addNode('Resize', [x, null, scales], [{ dtype: x.dtype, shape }], attrs, nodeName)[0]!;
  }

  /** Broadcasts to a shape (numpy rules, like ONNX Expand). */
  expand(x: Tensor, shape: readonly number[], name?: string): Tensor {
    const nodeName = this.nodeName('Expand', name);
    this.own(x, 'expand', nodeName);
    const out = broadcastShapes('expand', nodeName, [x.shape, shape]);
    return this.addNode('Expand', [x, this.int64s(shape)], [{ dtype: x.dtype, shape: out }], {}, nodeName)[0]!;
  }

  /** Rearranges blocks of channels into space: `[N, C·b², H, W]` → `[N, C, H·b, W·b]`. */
  depthToSpace(x: Tensor, blocksize: number, mode: 'DCR' | 'CRD' = 'DCR', name?: string): Tensor {
    const nodeName = this.nodeName('DepthToSpace', name);
    this.own(x, 'depthToSpace', nodeName);
    const [n, c, h, w] = x.shape;
    if (x.rank !== 4 || c! % (blocksize * blocksize) !== 0) {
      throw new GraphBuildError(`depthToSpace "${nodeName}": ${fmt(x.shape)} channels are not divisible by ${blocksize}²`);
    }
    const shape = [n!, c! / (blocksize * blocksize), h! * blocksize, w! * blocksize];
    return this.addNode('DepthToSpace', [x], [{ dtype: x.dtype, shape }], { blocksize: intAttr(blocksize), mode: stringAttr(mode) }, nodeName)[0]!;
  }

  // ---------------------------------------------------------------- reductions

  /** Sum over axes (all when omitted); keeps reduced axes as size 1 unless `keepdims: false`. */
  reduceSum(x: Tensor, opts: ReduceOptions = {}): Tensor {
    return this.reduce('ReduceSum', x, opts);
  }

  /** Mean over axes (all when omitted); keeps reduced axes as size 1 unless `keepdims: false`. */
  reduceMean(x: Tensor, opts: ReduceOptions = {}): Tensor {
    return this.reduce('ReduceMean', x, opts);
  }

  // ---------------------------------------------------------------- emission

  /**
   * Serialises the graph to ONNX `ModelProto` bytes (opset 17). `params: 'inputs'` makes every parameter a graph
   * input (training: weights are fed each step); `'initializers'` bakes them in with `values` (default: initial
   * values). `outputs` selects a subset of the declared outputs; nodes, constants and inputs that no selected output
   * depends on are dropped (parameters too, in initializer mode).
   */
  toModelBytes(options: EmitOptions): Uint8Array {
    return emitModel(this, options);
  }

  // ---------------------------------------------------------------- internals

  /** @internal Appends a node; used by the op methods and by autodiff rules that need raw ONNX ops. */
  addNode(
    op: string,
    inputs: readonly (Tensor | null)[],
    outputs: readonly { dtype: DType; shape: Shape }[],
    attrs: Record<string, Attr>,
    nodeName: string,
  ): Tensor[] {
    const outTensors = outputs.map((o, i) =>
      this.newValue(outputs.length === 1 ? nodeName : this.claim(`${nodeName}:${i}`, 'value'), o.dtype, o.shape),
    );
    const node: Node = { name: nodeName, op, inputs: [...inputs], outputs: outTensors, attrs };
    this.nodeList.push(node);
    for (const t of outTensors) this.producerMap.set(t.name, node);
    return outTensors;
  }

  /** @internal Resolves a node name: the scoped user name (must be unique) or a fresh automatic one. */
  nodeName(op: string, name?: string): string {
    const prefix = this.scopeStack.length ? `${this.scopeStack.join('/')}/` : '';
    if (name !== undefined) return this.claim(prefix + name, 'node');
    return this.claim(this.autoName(prefix + op), 'node');
  }

  private autoName(base: string): string {
    let n: string;
    do n = `${base}_${this.counter++}`;
    while (this.usedNames.has(n));
    return n;
  }

  private claim(name: string, what: string): string {
    if (!name) throw new GraphBuildError(`${what}: empty name`);
    if (this.usedNames.has(name)) throw new GraphBuildError(`${what} "${name}": the name is already used in graph "${this.name}"`);
    this.usedNames.add(name);
    return name;
  }

  private newValue(name: string, dtype: DType, shape: Shape): Tensor {
    this.checkShape('value', name, shape);
    return new Tensor(this.id, name, dtype, Object.freeze([...shape]));
  }

  private checkShape(what: string, name: string, shape: Shape): void {
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new GraphBuildError(`${what} "${name}": shape ${fmt(shape)} must be non-negative integers`);
    }
  }

  private own(t: Tensor, op: string, nodeName: string): void {
    if (!(t instanceof Tensor) || t.graphId !== this.id) {
      throw new GraphBuildError(`${op} "${nodeName}": operand ${String(t)} does not belong to graph "${this.name}"`);
    }
  }

  private cachedConst(values: readonly number[], shape: Shape, dtype: DType): Tensor {
    const key = `${dtype}${fmt(shape)}:${values.map((v) => (Object.is(v, -0) ? '-0' : String(v))).join(',')}`;
    let t = this.constCache.get(key);
    if (!t) {
      t = this.constant(values, shape, dtype);
      this.constCache.set(key, t);
    }
    return t;
  }

  private needFloat(op: string, nodeName: string, x: Tensor): void {
    if (!isFloat(x.dtype)) throw new GraphBuildError(`${op} "${nodeName}": ${x} must be a float tensor`);
  }

  private sameFloat(op: string, nodeName: string, a: Tensor, b: Tensor): void {
    this.needFloat(op, nodeName, a);
    if (a.dtype !== b.dtype) throw new GraphBuildError(`${op} "${nodeName}": dtypes of ${a} and ${b} differ`);
  }

  private checkBias(op: string, nodeName: string, b: Tensor, m: number, w: Tensor): void {
    if (b.rank !== 1 || b.shape[0] !== m || b.dtype !== w.dtype) {
      throw new GraphBuildError(`${op} "${nodeName}": bias ${fmt(b.shape)} does not match ${m} output channels of weight ${fmt(w.shape)}`);
    }
  }

  private liftPair(op: string, nodeName: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
    if (typeof a === 'number' && typeof b === 'number') throw new GraphBuildError(`${op} "${nodeName}": at least one operand must be a tensor`);
    const ta = typeof a === 'number' ? this.scalar(a, (b as Tensor).dtype) : a;
    const tb = typeof b === 'number' ? this.scalar(b, ta.dtype) : b;
    this.own(ta, op, nodeName);
    this.own(tb, op, nodeName);
    if (ta.dtype !== tb.dtype) throw new GraphBuildError(`${op} "${nodeName}": dtypes of ${ta} and ${tb} differ`);
    return [ta, tb];
  }

  private binary(op: string, a: TensorLike, b: TensorLike, name: string | undefined, outType?: DType): Tensor {
    const nodeName = this.nodeName(op, name);
    const lower = op.charAt(0).toLowerCase() + op.slice(1);
    const [ta, tb] = this.liftPair(lower, nodeName, a, b);
    const shape = broadcastShapes(lower, nodeName, [ta.shape, tb.shape]);
    return this.addNode(op, [ta, tb], [{ dtype: outType ?? ta.dtype, shape }], {}, nodeName)[0]!;
  }

  private unary(op: string, x: Tensor, name: string | undefined, attrs: Record<string, Attr> = {}): Tensor {
    const nodeName = this.nodeName(op, name);
    const lower = op.charAt(0).toLowerCase() + op.slice(1);
    this.own(x, lower, nodeName);
    this.needFloat(lower, nodeName, x);
    return this.addNode(op, [x], [{ dtype: x.dtype, shape: x.shape }], attrs, nodeName)[0]!;
  }

  private pool(op: 'AveragePool' | 'MaxPool', x: Tensor, opts: PoolOptions): Tensor {
    const lower = op === 'AveragePool' ? 'averagePool' : 'maxPool';
    const nodeName = this.nodeName(op, opts.name);
    this.own(x, lower, nodeName);
    this.needFloat(lower, nodeName, x);
    if (x.rank < 3) throw new GraphBuildError(`${lower} "${nodeName}": input ${fmt(x.shape)} must have rank ≥ 3`);
    const nsp = x.rank - 2;
    const kernel = typeof opts.kernel === 'number' ? new Array<number>(nsp).fill(opts.kernel) : [...opts.kernel];
    if (kernel.length !== nsp || kernel.some((k) => !Number.isInteger(k) || k < 1)) {
      throw new GraphBuildError(`${lower} "${nodeName}": kernel ${fmt(kernel)} must have ${nsp} positive sizes`);
    }
    const win = resolveWindow(lower, nodeName, kernel, { strides: opts.strides ?? kernel, pads: opts.pads });
    if (win.pads.some((p, i) => p >= kernel[i % nsp]!)) {
      throw new GraphBuildError(`${lower} "${nodeName}": pads ${fmt(win.pads)} must be smaller than the kernel ${fmt(kernel)}`);
    }
    const spatial = windowOutput(lower, nodeName, x.shape.slice(2), win);
    const attrs: Record<string, Attr> = { kernel_shape: intsAttr(kernel), strides: intsAttr(win.strides), pads: intsAttr(win.pads) };
    if (op === 'AveragePool' && opts.countIncludePad) attrs.count_include_pad = intAttr(1);
    return this.addNode(op, [x], [{ dtype: x.dtype, shape: [x.shape[0]!, x.shape[1]!, ...spatial] }], attrs, nodeName)[0]!;
  }

  private reduce(op: 'ReduceSum' | 'ReduceMean', x: Tensor, opts: ReduceOptions): Tensor {
    const lower = op === 'ReduceSum' ? 'reduceSum' : 'reduceMean';
    const nodeName = this.nodeName(op, opts.name);
    this.own(x, lower, nodeName);
    const axes = [...new Set((opts.axes ?? x.shape.map((_, i) => i)).map((a) => normAxis(lower, nodeName, a, x.rank)))].sort((u, v) => u - v);
    const keep = opts.keepdims ?? true;
    const shape = keep ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    const attrs: Record<string, Attr> = { keepdims: intAttr(keep ? 1 : 0) };
    const out = { dtype: x.dtype, shape };
    if (axes.length === 0) return this.addNode('Identity', [x], [out], {}, nodeName)[0]!;
    // Opset 17: ReduceSum takes axes as an int64 input (since 13), ReduceMean still as an attribute (until 18).
    if (op === 'ReduceSum') return this.addNode(op, [x, this.int64s(axes)], [out], attrs, nodeName)[0]!;
    return this.addNode(op, [x], [out], { ...attrs, axes: intsAttr(axes) }, nodeName)[0]!;
  }
}


/** Range selected by one Slice axis (ONNX clamping rules), or null for step 0. */
export function sliceRange(dim: number, start: number, end: number, step: number): { start: number; length: number } | null {
  if (step === 0 || !Number.isInteger(step)) return null;
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
    return { start: s, length: Math.max(0, Math.ceil((e - s) / step)) };
  }
  s = Math.min(Math.max(s, 0), dim - 1);
  e = Math.min(Math.max(e, -1), dim - 1);
  return { start: s, length: Math.max(0, Math.ceil((s - e) / -step)) };
}

function windowAttrs(w: { kernel: readonly number[]; strides: readonly number[]; pads: readonly number[]; dilations: readonly number[] }): Record<string, Attr> {
  return {
    kernel_shape: intsAttr(w.kernel),
    strides: intsAttr(w.strides),
    pads: intsAttr(w.pads),
    dilations: intsAttr(w.dilations),
  };
}

function toData(values: ArrayLike<number>, dtype: DType): TensorData {
  const n = values.length;
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = toHalfBits(values[i]!);
      return out;
    }
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(Math.trunc(values[i]!));
      return out;
    }
    case 'int32':
      return Int32Array.from(values);
    case 'bool':
    case 'uint8':
      return Uint8Array.from(values, (v) => (dtype === 'bool' ? (v ? 1 : 0) : v));
  }
}
