// The StyleGAN2 generator as graph-builder ops: mapping (z → w), affines (w → S) and synthesis (S + noise → image).
//
// Follows stylegan2-ada-pytorch `training/networks.py` with `fused_modconv=False`: the activations are scaled by
// the style, one shared convolution runs for the whole batch, and its output is scaled by the demodulation factor
// rsqrt(Σ_{in,kh,kw} (weight·style)² + 1e-8) = rsqrt(style² · Σ_{kh,kw} weight² + 1e-8), so no per-sample weights
// exist. The ×2 upsampling conv is a transposed convolution followed by the [1,3,3,1] FIR filter (gain 4),
// exactly as `conv2d_resample` does it; the skip image is upsampled by a depthwise transposed convolution with the
// same filter, which equals `upfirdn2d.upsample2d`.
import type { Graph, Tensor } from '../graph/index.ts';
import { MAPPING_LR_MUL, RESAMPLE_TAPS, type DenseWeights, type StyleLayer, type TeacherWeights } from './weights.ts';

/** Where each conv layer's noise comes from: the stored constant, a graph input per layer, or nowhere. */
export type NoiseMode = 'const' | 'random' | 'none';

/** Options of the mapping network. */
export interface MappingOptions {
  /** Truncate only the first `truncationCutoff` ws (null or undefined: all of them). */
  truncationCutoff?: number | null;
}

/** Options of the synthesis network. */
export interface SynthesisOptions {
  /** Noise source (default `const`, the reproducible choice). */
  noise?: NoiseMode;
  /** Clamp every conv and toRGB output to ±convClamp like trained NVIDIA models (null or undefined: no clamp). */
  convClamp?: number | null;
}

const LRELU_SLOPE = 0.2;
const LRELU_GAIN = Math.SQRT2;
const DEMOD_EPS = 1e-8;

/** Graph input name of a layer's style vector: `style.b8.conv0`. */
export function styleInputName(layer: StyleLayer | string): string {
  return `style.${typeof layer === 'string' ? layer : layer.name}`;
}

/** Graph input name of a conv layer's noise map in `random` mode: `noise.b8.conv0`. */
export function noiseInputName(layer: StyleLayer | string): string {
  return `noise.${typeof layer === 'string' ? layer : layer.name}`;
}

function scaled(values: Float32Array, gain: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! * gain;
  return out;
}

/** `x·Wᵀ·gain + b·biasGain` for an equalised-learning-rate fully-connected layer (gains folded into constants). */
function dense(g: Graph, x: Tensor, fc: DenseWeights, name: string, lrMul: number): Tensor {
  const w = g.constant(scaled(fc.weight, lrMul / Math.sqrt(fc.inFeatures)), [fc.outFeatures, fc.inFeatures], 'float32', `${name}.weight`);
  const b = g.constant(lrMul === 1 ? fc.bias : scaled(fc.bias, lrMul), [fc.outFeatures], 'float32', `${name}.bias`);
  return g.gemm(x, w, b, { transB: true, name });
}

/**
 * z [N, zDim] → w [N, wDim] and ws [N, numWs, wDim]: z normalised by its RMS, the fully-connected layers with
 * leaky ReLU (0.2, gain √2), then truncation ws = w_avg + ψ·(w − w_avg) on the first `truncationCutoff` ws.
 * `psi` is a float32 tensor of shape [1] so that ψ is chosen per run.
 */
export function addMapping(g: Graph, weights: TeacherWeights, z: Tensor, psi: Tensor, opts: MappingOptions = {}): { w: Tensor; ws: Tensor } {
  const { zDim, wDim, numWs } = weights.config;
  const n = z.shape[0]!;
  if (z.rank !== 2 || z.shape[1] !== zDim) throw new Error(`mapping: z must be [N, ${zDim}], got [${z.shape.join(', ')}]`);
  if (psi.rank !== 1 || psi.shape[0] !== 1) throw new Error(`mapping: psi must have shape [1], got [${psi.shape.join(', ')}]`);
  return g.scope('mapping', () => {
    const meanSquare = g.reduceMean(g.mul(z, z), { axes: [1], keepdims: true, name: 'z_mean_square' });
    let x = g.div(z, g.sqrt(g.add(meanSquare, 1e-8)), 'normalize_2nd_moment');
    weights.mapping.forEach((fc, i) => {
      x = g.mul(g.leakyRelu(dense(g, x, fc, `mapping.fc${i}`, MAPPING_LR_MUL), LRELU_SLOPE), LRELU_GAIN, `fc${i}.gain`);
    });
    const w = x;
    const cutoff = opts.truncationCutoff ?? numWs;
    if (!Number.isInteger(cutoff) || cutoff < 0) throw new RangeError(`mapping: truncation cutoff must be an integer ≥ 0, got ${cutoff}`);
    const mask = Array.from({ length: numWs }, (_, i) => (i < cutoff ? 1 : 0));
    // ψ per layer: ψ where truncated, 1 elsewhere.
    const psiPerLayer = g.add(
      g.mul(g.constant(mask, [1, numWs, 1], 'float32', 'mapping.truncation_mask'), g.reshape(psi, [1, 1, 1])),
      g.constant(mask.map((m) => 1 - m), [1, numWs, 1], 'float32', 'mapping.truncation_keep'),
      'psi_per_layer',
    );
    const wAvg = g.constant(weights.wAvg, [1, 1, wDim], 'float32', 'mapping.w_avg');
    const centred = g.sub(g.reshape(w, [n, 1, wDim]), wAvg, 'centred');
    const ws = g.add(wAvg, g.mul(centred, psiPerLayer), 'truncate');
    return { w, ws };
  });
}

/** ws [N, numWs, wDim] → one style vector [N, inChannels] per styled layer (style space S), keyed by layer name. */
export function addStyles(g: Graph, weights: TeacherWeights, ws: Tensor): Map<string, Tensor> {
  const { numWs, wDim } = weights.config;
  if (ws.rank !== 3 || ws.shape[1] !== numWs || ws.shape[2] !== wDim) {
    throw new Error(`styles: ws must be [N, ${numWs}, ${wDim}], got [${ws.shape.join(', ')}]`);
  }
  const n = ws.shape[0]!;
  const perW = g.split(ws, new Array<number>(numWs).fill(1), 1, 'split_ws').map((t, i) => g.reshape(t, [n, wDim], `w${i}`));
  const styles = new Map<string, Tensor>();
  weights.config.layers.forEach((layer, i) => {
    styles.set(layer.name, dense(g, perW[layer.wIndex]!, weights.layers[i]!.affine, `synthesis.${layer.name}.affine`, 1));
  });
  return styles;
}

/** The normalised 2-D [1,3,3,1] filter times `gain`, row-major. */
function filter2d(gain: number): number[] {
  const taps = RESAMPLE_TAPS;
  const sum = taps.reduce((a, b) => a + b, 0);
  const out: number[] = [];
  for (const a of taps) for (const b of taps) out.push(((a * b) / (sum * sum)) * gain);
  return out;
}

/** The filter (gain 4) repeated for `channels` depthwise groups as a [channels, 1, k, k] constant; `flip` turns convolution into correlation. */
function depthwiseFilter(g: Graph, channels: number, name: string, flip: boolean): Tensor {
  const f = filter2d(4);
  const k = RESAMPLE_TAPS.length;
  const oriented = flip ? f.slice().reverse() : f;
  const data = new Float32Array(channels * k * k);
  for (let c = 0; c < channels; c++) data.set(oriented, c * k * k);
  return g.constant(data, [channels, 1, k, k], 'float32', name);
}

/** `upfirdn2d.upsample2d(x, [1,3,3,1])`: zero-insertion ×2, pad [2, 1], filter with gain 4 — one depthwise ConvTranspose. */
function upsampleSkip(g: Graph, img: Tensor, name: string): Tensor {
  const c = img.shape[1]!;
  return g.convTranspose(img, depthwiseFilter(g, c, `${name}.filter`, false), null, { strides: 2, pads: 1, group: c, name });
}

/** Σ over the kernel window of weight², laid out [in, out] so that style² [N, in] · it = Σ_{in,k,k} (weight·style)². */
function weightSquareSums(weight: Float32Array, out: number, inC: number, k: number): Float32Array {
  const sums = new Float32Array(inC * out);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inC; i++) {
      let acc = 0;
      const base = (o * inC + i) * k * k;
      for (let t = 0; t < k * k; t++) acc += weight[base + t]! * weight[base + t]!;
      sums[i * out + o] = acc;
    }
  }
  return sums;
}

/** [out, in, k, k] → [in, out, k, k], the layout ConvTranspose wants for a conv that maps in → out channels. */
function swapInOut(weight: Float32Array, out: number, inC: number, k: number): Float32Array {
  const swapped = new Float32Array(weight.length);
  const kk = k * k;
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inC; i++) swapped.set(weight.subarray((o * inC + i) * kk, (o * inC + i + 1) * kk), (i * out + o) * kk);
  }
  return swapped;
}

/** The transposed conv of `conv2d_resample(up=2)`: stride 2, no padding, on the [out, in, k, k] weight swapped to [in, out]. */
function transposedConv(g: Graph, xs: Tensor, weight: Float32Array, out: number, inC: number, k: number, p: string): Tensor {
  const wt = g.constant(swapInOut(weight, out, inC, k), [inC, out, k, k], 'float32', `${p}.weight_transposed`);
  return g.convTranspose(xs, wt, null, { strides: 2, name: 'conv_transpose' });
}

function modulatedConv(
  g: Graph,
  x: Tensor,
  style: Tensor,
  layer: StyleLayer,
  lw: TeacherWeights['layers'][number],
  noise: Tensor | null,
  opts: SynthesisOptions,
): Tensor {
  const n = style.shape[0]!;
  const { inChannels: inC, outChannels: out, kernel: k, resolution: r } = layer;
  const p = `synthesis.${layer.name}`;
  return g.scope(layer.name, () => {
    const xs = g.mul(x, g.reshape(style, [n, inC, 1, 1]), 'modulate');
    let y: Tensor;
    if (layer.up) {
      // conv2d_resample(up=2): transposed conv (stride 2, no padding) on the stored weight, then FIR with pad 1.
      const up = transposedConv(g, xs, lw.weight, out, inC, k, p);
      y = g.conv(up, depthwiseFilter(g, out, `${p}.fir`, true), null, { pads: 1, group: out, name: 'fir' });
    } else {
      const w = g.constant(lw.weight, [out, inC, k, k], 'float32', `${p}.weight`);
      y = g.conv(xs, w, null, { pads: Math.floor(k / 2), name: 'conv' });
    }
    if (y.shape[2] !== r || y.shape[3] !== r) throw new Error(`${layer.name}: produced ${y.shape.join('×')}, expected ${r}×${r}`);
    // The activation gain √2 is folded into the demodulation factor, the noise and the bias: lrelu(a)·√2 = lrelu(a·√2).
    const sumSq = g.constant(weightSquareSums(lw.weight, out, inC, k), [inC, out], 'float32', `${p}.weight_square_sums`);
    const demod = g.div(LRELU_GAIN, g.sqrt(g.add(g.matmul(g.mul(style, style), sumSq), DEMOD_EPS)), 'demod');
    y = g.mul(y, g.reshape(demod, [n, out, 1, 1]), 'demodulate');
    if (noise !== null) y = g.add(y, g.mul(noise, lw.noiseStrength * LRELU_GAIN), 'add_noise');
    if ((opts.noise ?? 'const') === 'const' && lw.noiseConst !== null) {
      const stored = g.constant(scaled(lw.noiseConst, lw.noiseStrength * LRELU_GAIN), [1, 1, r, r], 'float32', `${p}.noise`);
      y = g.add(y, stored, 'add_noise');
    }
    y = g.add(y, g.constant(scaled(lw.bias, LRELU_GAIN), [1, out, 1, 1], 'float32', `${p}.bias`), 'bias');
    y = g.leakyRelu(y, LRELU_SLOPE, 'lrelu');
    if (opts.convClamp != null) y = g.clip(y, -opts.convClamp, opts.convClamp, 'clamp');
    return y;
  });
}

function toRgb(g: Graph, x: Tensor, style: Tensor, layer: StyleLayer, lw: TeacherWeights['layers'][number], opts: SynthesisOptions): Tensor {
  const n = style.shape[0]!;
  const { inChannels: inC, outChannels: out, resolution: r } = layer;
  const p = `synthesis.${layer.name}`;
  return g.scope(layer.name, () => {
    // A 1×1 modulated conv without demodulation is a per-sample [out, in] matrix: modulate the tiny weight, not x.
    const w = g.constant(lw.weight, [1, out, inC], 'float32', `${p}.weight`);
    const s = g.reshape(g.mul(style, 1 / Math.sqrt(inC), 'style_gain'), [n, 1, inC]);
    const y = g.matmul(g.mul(w, s, 'modulate'), g.reshape(x, [n, inC, r * r]), 'conv');
    let rgb = g.add(g.reshape(y, [n, out, r, r]), g.constant(lw.bias, [1, out, 1, 1], 'float32', `${p}.bias`), 'bias');
    if (opts.convClamp != null) rgb = g.clip(rgb, -opts.convClamp, opts.convClamp, 'clamp');
    return rgb;
  });
}

/**
 * Style vectors (one [N, inChannels] tensor per styled layer) → image [N, imgChannels, R, R] in about [-1, 1]
 * (not clamped). In `random` noise mode `noise` must hold a [N, 1, r, r] tensor per conv layer.
 */
export function addSynthesis(
  g: Graph,
  weights: TeacherWeights,
  styles: ReadonlyMap<string, Tensor>,
  noise: ReadonlyMap<string, Tensor> | null,
  opts: SynthesisOptions = {},
): Tensor {
  const mode = opts.noise ?? 'const';
  const { layers } = weights.config;
  const first = styles.get(layers[0]!.name);
  if (first === undefined) throw new Error(`synthesis: no style for layer ${layers[0]!.name}`);
  const n = first.shape[0]!;
  const c4 = weights.config.channels[4]!;
  let x: Tensor = g.constant(weights.constInput, [1, c4, 4, 4], 'float32', 'synthesis.b4.const');
  let img: Tensor | null = null;
  layers.forEach((layer, i) => {
    const style = styles.get(layer.name);
    if (style === undefined || style.rank !== 2 || style.shape[0] !== n || style.shape[1] !== layer.inChannels) {
      throw new Error(`synthesis: style for ${layer.name} must be [${n}, ${layer.inChannels}], got ${style ? `[${style.shape.join(', ')}]` : 'nothing'}`);
    }
    const lw = weights.layers[i]!;
    if (layer.kind === 'conv') {
      let layerNoise: Tensor | null = null;
      if (mode === 'random' && weights.config.hasNoise) {
        layerNoise = noise?.get(layer.name) ?? null;
        const r = layer.resolution;
        if (layerNoise === null || layerNoise.shape.join() !== [n, 1, r, r].join()) {
          throw new Error(`synthesis: noise for ${layer.name} must be [${n}, 1, ${r}, ${r}]`);
        }
      }
      x = modulatedConv(g, x, style, layer, lw, layerNoise, { ...opts, noise: mode });
    } else {
      const rgb = toRgb(g, x, style, layer, lw, opts);
      img = img === null ? rgb : g.add(upsampleSkip(g, img, `skip_up${layer.resolution}`), rgb, `skip_add${layer.resolution}`);
    }
  });
  return img!;
}
