// The student: a UNet with a MobileNetV2 inverted-residual encoder and decoder, predicting a bounded residual on its input.
import { Graph, type Tensor } from '../engine/graph/index.ts';
import { upsampledConcatConv3x3 } from '../engine/layers/upsampled-conv.ts';
import { foldConstants } from '../engine/runtime/index.ts';
import { DEFAULT_STUDENT, STUDENT_LIMITS } from '../../shared/student/config.ts';
import type { StudentConfig, StudentDescription } from '../../shared/student/types.ts';

export { DEFAULT_STUDENT, STUDENT_LIMITS };

/** Name of the forward model's input: `[N, 3, size, size]` RGB in [0, 1]. */
export const STUDENT_INPUT = 'image';
/** Name of the forward model's output: `[N, 3, size, size]`, the input plus the residual. */
export const STUDENT_OUTPUT = 'output';

/** Base channels of the stem and the four encoder levels at width 1 (MobileNetV2's 16, 24, 32, 64, 96). */
const BASE_CHANNELS = [16, 24, 32, 64, 96] as const;
/** Expansion of the encoder's inverted residuals (hidden = input channels × this). */
const ENCODER_EXPANSION = 4;
/** Expansion of the decoder's blocks (hidden = output channels × this): cheaper at high resolution. */
const DECODER_EXPANSION = 2;

/** A config that cannot be built; the message names the field and its allowed range. */
export class StudentConfigError extends Error {
  override name = 'StudentConfigError';
}

/** Checks every field of a student config and returns it; throws {@link StudentConfigError} naming what is wrong. */
export function validateStudentConfig(config: StudentConfig): StudentConfig {
  const { size, width, activation, residualScale } = config;
  const L = STUDENT_LIMITS;
  if (!Number.isInteger(size) || size < L.size.min || size > L.size.max || size % L.size.multipleOf !== 0) {
    throw new StudentConfigError(`student size ${size} must be a multiple of ${L.size.multipleOf} from ${L.size.min} to ${L.size.max}`);
  }
  if (!Number.isFinite(width) || width < L.width.min || width > L.width.max) {
    throw new StudentConfigError(`student width ${width} must be from ${L.width.min} to ${L.width.max}`);
  }
  if (activation !== 'relu6' && activation !== 'hardswish') {
    throw new StudentConfigError(`student activation ${JSON.stringify(activation)} must be "relu6" or "hardswish"`);
  }
  if (!Number.isFinite(residualScale) || residualScale < L.residualScale.min || residualScale > L.residualScale.max) {
    throw new StudentConfigError(`student residualScale ${residualScale} must be from ${L.residualScale.min} to ${L.residualScale.max}`);
  }
  return { size, width, activation, residualScale };
}

/** MobileNet's channel rounding: the nearest multiple of 8, at least 8, never more than 10% below the target. */
export function makeDivisible(channels: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor(channels + divisor / 2) - (Math.floor(channels + divisor / 2) % divisor));
  return rounded < 0.9 * channels ? rounded + divisor : rounded;
}

/** Channels of the stem and the four encoder levels for a width multiplier. */
export function studentChannels(width: number): number[] {
  return BASE_CHANNELS.map((c) => makeDivisible(c * width));
}

/** The student's forward graph, its input and output, ready for a loss (training) or for export. */
export interface StudentGraph {
  graph: Graph;
  input: Tensor;
  output: Tensor;
}

/**
 * Builds the student for `batch` frames: stem (3×3, stride 2) → four encoder levels of two inverted residuals each
 * (the first strided) → four decoder levels (nearest ×2 upsampling, concat with the skip, one inverted residual) →
 * ×2 upsampling, concat with the input, 3×3 head → `input + residualScale·tanh(head)` (the head's upsampled part runs
 * at half resolution, see {@link upsampledConcatConv3x3}). The output is declared as
 * {@link STUDENT_OUTPUT}; the caller may add a loss before emitting.
 */
export function buildStudentGraph(config: StudentConfig, options: { batch?: number; seed?: number } = {}): StudentGraph {
  const cfg = validateStudentConfig(config);
  const batch = options.batch ?? 1;
  const g = new Graph('student', { seed: options.seed ?? 0 });
  const act = (t: Tensor): Tensor => (cfg.activation === 'relu6' ? g.relu6(t) : g.hardSwish(t));
  const conv = (name: string, x: Tensor, cout: number, k: number, opts: { stride?: number; group?: number; std?: number } = {}): Tensor => {
    const group = opts.group ?? 1;
    const cin = x.shape[1]! / group;
    const w = g.param(`${name}.weight`, [cout, cin, k, k], opts.std === undefined ? 'he' : { kind: 'normal', std: opts.std });
    const b = g.param(`${name}.bias`, [cout], 'zeros');
    return g.conv(x, w, b, { strides: opts.stride ?? 1, pads: (k - 1) / 2, group, name });
  };
  /** Inverted residual: 1×1 expand + act, 3×3 depthwise (stride) + act, 1×1 linear projection, identity skip when shapes allow. */
  const block = (name: string, x: Tensor, cout: number, hidden: number, stride: number): Tensor =>
    g.scope(name, () => {
      const cin = x.shape[1]!;
      const e = act(conv(`${name}.expand`, x, hidden, 1));
      const d = act(conv(`${name}.depthwise`, e, hidden, 3, { stride, group: hidden }));
      // A small projection init keeps the un-normalised residual stack close to identity at the start.
      const p = conv(`${name}.project`, d, cout, 1, { std: Math.sqrt(1 / hidden) * 0.5 });
      return stride === 1 && cin === cout ? g.add(x, p) : p;
    });
  const up = (x: Tensor): Tensor => g.resize(x, { scales: [1, 1, 2, 2], mode: 'nearest' });

  const ch = studentChannels(cfg.width);
  const input = g.input(STUDENT_INPUT, 'float32', [batch, 3, cfg.size, cfg.size]);
  const centred = g.sub(g.mul(input, 2), 1);
  const stem = act(conv('stem', centred, ch[0]!, 3, { stride: 2 }));
  const skips: Tensor[] = [stem];
  let x = stem;
  for (let level = 1; level <= 4; level++) {
    const cout = ch[level]!;
    x = block(`enc${level}.0`, x, cout, x.shape[1]! * ENCODER_EXPANSION, 2);
    x = block(`enc${level}.1`, x, cout, cout * ENCODER_EXPANSION, 1);
    skips.push(x);
  }
  for (let level = 3; level >= 0; level--) {
    const skip = skips[level]!;
    const cout = ch[level]!;
    x = block(`dec${level}`, g.concat([up(x), skip], 1), cout, cout * DECODER_EXPANSION, 1);
  }
  // head = conv3×3(concat(up(x), input)), with the upsampled part at half resolution.
  const headW = g.param('head.weight', [3, x.shape[1]! + 3, 3, 3], { kind: 'normal', std: 1e-3 });
  const headB = g.param('head.bias', [3], 'zeros');
  const head = upsampledConcatConv3x3(g, x, input, headW, headB);
  const output = g.output(STUDENT_OUTPUT, g.add(input, g.mul(g.tanh(head), cfg.residualScale)));
  return { graph: g, input, output };
}

/** Multiply-adds of one frame: every Conv's `outH·outW·cout·(cin/group)·k²` (elementwise ops are not counted). */
export function countMacs(graph: Graph): number {
  let macs = 0;
  for (const node of graph.nodes) {
    if (node.op !== 'Conv') continue;
    const w = node.inputs[1]!.shape;
    const y = node.outputs[0]!.shape;
    const perBatch = y.slice(1).reduce((a, b) => a * b, 1) * w.slice(1).reduce((a, b) => a * b, 1);
    macs += perBatch;
  }
  return macs;
}

/** Bytes of one float32. */
const F32 = 4;
/**
 * Tensors alive per parameter during training: the value, its gradient, Adam's two moments, the next value, and
 * the optimizer's temporaries (ORT materialises ~2 per parameter).
 */
const TRAIN_COPIES_PER_PARAM = 7;
/** Activation memory factor: forward values kept for the backward pass plus the backward pass's own values. */
const ACTIVATION_FACTOR = 3;

/**
 * Training memory of a network whose forward `graph` takes one frame, at `batch` frames, each passing through it
 * `passes` times per step: every node output × batch × passes × {@link ACTIVATION_FACTOR}, plus
 * {@link TRAIN_COPIES_PER_PARAM} copies of the weights.
 */
export function trainingBytesOf(graph: Graph, batch: number, passes = 1): number {
  const parameters = graph.params.reduce((n, p) => n + p.init.length, 0);
  const activations = graph.nodes.reduce((n, node) => n + node.outputs.reduce((m, t) => m + t.size, 0), 0);
  return (activations * batch * passes * ACTIVATION_FACTOR + parameters * TRAIN_COPIES_PER_PARAM) * F32;
}

/** Parameters, multiply-adds per frame and an estimate of training memory at `batch` ({@link trainingBytesOf}). */
export function describeStudent(config: StudentConfig, batch = 8): StudentDescription {
  const cfg = validateStudentConfig(config);
  if (!Number.isInteger(batch) || batch < 1 || batch > 256) throw new StudentConfigError(`batch ${batch} must be an integer from 1 to 256`);
  const { graph } = buildStudentGraph(cfg, { batch: 1 });
  const parameters = graph.params.reduce((n, p) => n + p.init.length, 0);
  const ch = studentChannels(cfg.width);
  const levels = ch.map((channels, i) => ({ name: i === 0 ? 'stem' : `enc${i}`, size: cfg.size >> (i + 1), channels }));
  return {
    config: cfg,
    parameters,
    macs: countMacs(graph),
    trainingBytes: trainingBytesOf(graph, batch),
    discriminatorBytes: 0,
    uncounted: [],
    batch,
    levels,
  };
}

/** The deployable forward model of a student with trained `weights` baked in (ONNX bytes, batch 1 by default). */
export function studentForwardModel(config: StudentConfig, weights: ReadonlyMap<string, Float32Array>, batch = 1): Uint8Array {
  const { graph } = buildStudentGraph(config, { batch });
  const missing = graph.params.filter((p) => !weights.has(p.name)).map((p) => p.name);
  if (missing.length > 0) throw new StudentConfigError(`the weights lack ${missing.length} tensor(s) of this student, e.g. ${missing.slice(0, 3).join(', ')}`);
  for (const p of graph.params) {
    const w = weights.get(p.name)!;
    if (w.length !== p.init.length) throw new StudentConfigError(`weight "${p.name}" has ${w.length} values, the student needs ${p.init.length}`);
  }
  return graph.toModelBytes({ params: 'initializers', values: weights, outputs: [STUDENT_OUTPUT] });
}

/**
 * What a package ships: {@link studentForwardModel} with its weight-only arithmetic (the head's phase kernels)
 * folded into initializers, so no runtime computes it per load and an fp16 copy holds no float16 MatMuls.
 */
export async function deployableStudentModel(config: StudentConfig, weights: ReadonlyMap<string, Float32Array>): Promise<Uint8Array> {
  return foldConstants(studentForwardModel(config, weights));
}
