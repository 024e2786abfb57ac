// Public entry point of the graph builder: typed ONNX graphs with static shapes, parameters and ModelProto emission.
export {
  Graph,
  INT64_MIN,
  sliceRange,
  type Param,
  type Constant,
  type GraphOutput,
  type TensorLike,
  type ConvOptions,
  type ConvTransposeOptions,
  type PoolOptions,
  type GemmOptions,
  type ReduceOptions,
  type SliceOptions,
  type ResizeOptions,
  type PadOptions,
} from './graph.ts';
export { emitModel, OPSET, IR_VERSION, type EmitOptions } from './emit.ts';
export { importOnnxGraph, readOnnxModel, IMPORTABLE_OPS, OnnxImportError, type OnnxImportOptions, type OnnxModelFile } from './onnx-import.ts';
export { GraphBuildError, broadcastShapes } from './shape.ts';
export { Rng, fans, initialValues, type Init } from './init.ts';
export { toHalfBits, fromHalfBits } from './float16.ts';
export {
  Tensor,
  ONNX_DTYPE,
  isFloat,
  sizeOf,
  fmt,
  type DType,
  type Shape,
  type Attr,
  type Node,
  type TensorData,
} from './types.ts';
