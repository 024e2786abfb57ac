// Small black-box ONNX generators for tests, built with the studio's own graph builder (z or w → image).
import onnxProto from 'onnx-proto';
import { Graph } from '../../../src/main/engine/graph/index.ts';

/** What a fixture generator looks like from outside. */
export interface OnnxGeneratorFixture {
  inputName?: string;
  dim?: number;
  /** Fixed batch of the model's input and output. */
  batch?: number;
  resolution?: number;
  channels?: number;
  outputName?: string;
  /** tanh for [-1, 1], sigmoid for [0, 1]. */
  range?: '-1,1' | '0,1';
  /** Emit the image flattened to [batch, C·R·R] (not an image) instead of [batch, C, R, R]. */
  isFlat?: boolean;
  /** Declare the output's channels, height and width as symbolic dims (as exporters with dynamic axes do). */
  hasOpenOutputShape?: boolean;
  seed?: number;
}

/** A one-layer generator: latent → dense → tanh or sigmoid → [batch, C, R, R], weights as initialisers. */
export function buildOnnxGenerator(opts: OnnxGeneratorFixture = {}): Uint8Array {
  const { inputName = 'z', dim = 16, batch = 1, resolution = 8, channels = 3, outputName = 'image', range = '-1,1' } = opts;
  const g = new Graph('fixture-generator', { seed: opts.seed ?? 11 });
  const z = g.input(inputName, 'float32', [batch, dim]);
  const size = channels * resolution * resolution;
  const dense = g.add(g.matmul(z, g.param('fc.weight', [dim, size], { kind: 'normal', std: 0.5 })), g.param('fc.bias', [size], { kind: 'normal', std: 0.1 }));
  const act = range === '-1,1' ? g.tanh(dense) : g.sigmoid(dense);
  g.output(outputName, opts.isFlat === true ? act : g.reshape(act, [batch, channels, resolution, resolution]));
  const bytes = g.toModelBytes({ params: 'initializers' });
  if (opts.hasOpenOutputShape !== true) return bytes;
  const model = onnxProto.onnx.ModelProto.decode(bytes);
  const dims = model.graph!.output![0]!.type!.tensorType!.shape!.dim!;
  ['channels', 'height', 'width'].forEach((name, i) => (dims[i + 1] = { dimParam: name }));
  return onnxProto.onnx.ModelProto.encode(model).finish();
}

/** Parameters of {@link buildOnnxGenerator}'s model: the dense weight and bias. */
export function fixtureParameterCount(opts: OnnxGeneratorFixture = {}): number {
  const { dim = 16, resolution = 8, channels = 3 } = opts;
  const size = channels * resolution * resolution;
  return dim * size + size;
}
