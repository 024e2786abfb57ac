// Core value types of the graph builder: dtypes, tensors, attributes and nodes.

/** Element types the builder knows. `float32` is the training type; the rest appear in masks, indices and exports. */
export type DType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool' | 'uint8';

/** A static shape: every dimension is a known non-negative integer. */
export type Shape = readonly number[];

/** ONNX `TensorProto.DataType` codes for each dtype. */
export const ONNX_DTYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
};

/** True for the floating-point dtypes (the ones gradients flow through). */
export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float16';
}

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Formats a shape the way error messages print it: `[64,16,3,3]`. */
export function fmt(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/**
 * A value in a graph: the output of a node, a graph input, a parameter or a constant.
 * Tensors are created only by a {@link Graph}; they are immutable handles.
 */
export class Tensor {
  /** @internal — use the Graph's methods to make tensors. */
  constructor(
    /** The graph that owns this tensor; mixing tensors of two graphs is an error. */
    readonly graphId: number,
    /** Unique value name in the emitted ONNX graph. */
    readonly name: string,
    /** Element type. */
    readonly dtype: DType,
    /** Static shape. */
    readonly shape: Shape,
  ) {}

  /** Rank (number of dimensions). */
  get rank(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** A short description for messages: `"x" float32[2,3]`. */
  toString(): string {
    return `"${this.name}" ${this.dtype}${fmt(this.shape)}`;
  }
}

/** A typed ONNX attribute value. Floats are tagged so that `alpha: 1` is written as FLOAT, never INT. */
export type Attr =
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'string'; readonly value: string };

/** Makes an INT attribute. */
export const intAttr = (value: number): Attr => ({ type: 'int', value });
/** Makes a FLOAT attribute (even for integer values such as 1). */
export const floatAttr = (value: number): Attr => ({ type: 'float', value });
/** Makes an INTS attribute. */
export const intsAttr = (value: readonly number[]): Attr => ({ type: 'ints', value: [...value] });
/** Makes a FLOATS attribute. */
export const floatsAttr = (value: readonly number[]): Attr => ({ type: 'floats', value: [...value] });
/** Makes a STRING attribute. */
export const stringAttr = (value: string): Attr => ({ type: 'string', value });

/** One ONNX node (default domain, opset 17) as the builder recorded it. */
export interface Node {
  /** Unique node name; error messages and autodiff name derived values after it. */
  readonly name: string;
  /** ONNX operator type, e.g. `Conv`. */
  readonly op: string;
  /** Inputs in ONNX order; `null` is an omitted optional input. */
  readonly inputs: readonly (Tensor | null)[];
  /** Outputs in ONNX order. */
  readonly outputs: readonly Tensor[];
  /** Attributes by ONNX name. */
  readonly attrs: Readonly<Record<string, Attr>>;
}

/** Typed array holding a constant's or parameter's values, by dtype. */
export type TensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;
