// The canonical in-memory StyleGAN2 generator: configuration inferred from tensor shapes, weights in NVIDIA's convention.
//
// Canonical means stylegan2-ada-pytorch's `training/networks.py` semantics: stored (un-scaled) parameters whose
// equalised-learning-rate gains are applied when the graph is built — mapping weight × lr_mul/√fan_in and bias
// × lr_mul, affine weight × 1/√w_dim, toRGB style × 1/√in_channels, modulated 3×3 conv weights used as stored.

/** Learning-rate multiplier of the mapping network in every StyleGAN2 config (NVIDIA and rosinality alike). */
export const MAPPING_LR_MUL = 0.01;

/** The low-pass filter both implementations use for ×2 upsampling, before normalisation. */
export const RESAMPLE_TAPS: readonly number[] = [1, 3, 3, 1];

/** Which operation a styled layer performs. */
export type StyleLayerKind = 'conv' | 'torgb';

/** One layer with its own style vector (an entry of style space S). */
export interface StyleLayer {
  /** Stable layer name in NVIDIA terms: `b4.conv1`, `b8.conv0`, `b8.torgb` … */
  readonly name: string;
  readonly kind: StyleLayerKind;
  /** Output resolution of the layer. */
  readonly resolution: number;
  /** Channels of the layer's input = length of its style vector. */
  readonly inChannels: number;
  readonly outChannels: number;
  /** Index into ws [N, numWs, wDim] this layer's affine reads. */
  readonly wIndex: number;
  /** True for the ×2 upsampling conv0 of blocks above 4×4. */
  readonly up: boolean;
  /** Kernel size (3 for convs, 1 for toRGB). */
  readonly kernel: number;
}

/** Architecture facts of a generator, all read from its tensors. */
export interface TeacherConfig {
  readonly zDim: number;
  readonly wDim: number;
  /** Number of fully-connected mapping layers (8 in the paper configs, 2 in stylegan2-ada's `auto`). */
  readonly mappingLayers: number;
  /** Output features of each mapping layer (the last is wDim). */
  readonly mappingFeatures: readonly number[];
  readonly resolution: number;
  readonly imgChannels: number;
  /** Block resolutions 4, 8, … resolution. */
  readonly blockResolutions: readonly number[];
  /** Output channels per block resolution. */
  readonly channels: Readonly<Record<number, number>>;
  /** Number of w vectors the synthesis network takes (conv layers + the last toRGB). */
  readonly numWs: number;
  /** Whether the convs have noise inputs (stored noise_const and noise_strength). */
  readonly hasNoise: boolean;
  /** Every styled layer in network order: b4.conv1, b4.torgb, b8.conv0, b8.conv1, b8.torgb, … */
  readonly layers: readonly StyleLayer[];
}

/** A fully-connected layer's stored parameters: weight [out, in] row-major, bias [out]. */
export interface DenseWeights {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/** A styled layer's stored parameters (a modulated conv or a toRGB). */
export interface StyledLayerWeights {
  /** w → style affine (w_dim → in_channels, bias initialised to 1 in training). */
  readonly affine: DenseWeights;
  /** [out, in, k, k] row-major, NVIDIA orientation. */
  readonly weight: Float32Array;
  /** [out], added after noise, before the activation. */
  readonly bias: Float32Array;
  /** [resolution, resolution] stored noise of a conv layer, null for toRGB or a generator without noise. */
  readonly noiseConst: Float32Array | null;
  /** Scale of the noise (0 for toRGB or without noise). */
  readonly noiseStrength: number;
}

/** A complete StyleGAN2 generator in canonical form. */
export interface TeacherWeights {
  readonly config: TeacherConfig;
  readonly mapping: readonly DenseWeights[];
  /** [wDim] moving average of w, the centre of truncation. */
  readonly wAvg: Float32Array;
  /** [C4, 4, 4] learned constant input of the 4×4 block. */
  readonly constInput: Float32Array;
  /** Parameters of each entry of `config.layers`, same order. */
  readonly layers: readonly StyledLayerWeights[];
}

/** Number of ws for a resolution: two convs per block above 4×4, one at 4×4, plus the last toRGB. */
export function numWsFor(resolution: number): number {
  return 2 * Math.log2(resolution) - 2;
}

/** The styled layers of a skip-architecture generator with these block channels, in network order. */
export function styleLayersFor(resolution: number, channels: Readonly<Record<number, number>>, imgChannels: number): StyleLayer[] {
  const layers: StyleLayer[] = [];
  let wIndex = 0;
  for (let res = 4; res <= resolution; res *= 2) {
    const out = channels[res]!;
    if (res === 4) {
      layers.push({ name: 'b4.conv1', kind: 'conv', resolution: 4, inChannels: out, outChannels: out, wIndex, up: false, kernel: 3 });
    } else {
      const inC = channels[res / 2]!;
      layers.push({ name: `b${res}.conv0`, kind: 'conv', resolution: res, inChannels: inC, outChannels: out, wIndex, up: true, kernel: 3 });
      wIndex += 1;
      layers.push({ name: `b${res}.conv1`, kind: 'conv', resolution: res, inChannels: out, outChannels: out, wIndex, up: false, kernel: 3 });
    }
    wIndex += 1;
    // A block's toRGB shares its w with the next block's first conv.
    layers.push({ name: `b${res}.torgb`, kind: 'torgb', resolution: res, inChannels: out, outChannels: imgChannels, wIndex, up: false, kernel: 1 });
  }
  return layers;
}

/** Assembles a config from the few numbers that determine it. */
export function makeConfig(parts: {
  zDim: number;
  mappingFeatures: readonly number[];
  resolution: number;
  imgChannels: number;
  channels: Readonly<Record<number, number>>;
  hasNoise: boolean;
}): TeacherConfig {
  const blockResolutions: number[] = [];
  for (let r = 4; r <= parts.resolution; r *= 2) blockResolutions.push(r);
  const wDim = parts.mappingFeatures[parts.mappingFeatures.length - 1]!;
  return {
    zDim: parts.zDim,
    wDim,
    mappingLayers: parts.mappingFeatures.length,
    mappingFeatures: [...parts.mappingFeatures],
    resolution: parts.resolution,
    imgChannels: parts.imgChannels,
    blockResolutions,
    channels: { ...parts.channels },
    numWs: numWsFor(parts.resolution),
    hasNoise: parts.hasNoise,
    layers: styleLayersFor(parts.resolution, parts.channels, parts.imgChannels),
  };
}

/** Total number of stored parameters (what the Teacher page shows). */
export function parameterCount(weights: TeacherWeights): number {
  let n = weights.wAvg.length + weights.constInput.length;
  for (const fc of weights.mapping) n += fc.weight.length + fc.bias.length;
  for (const l of weights.layers) {
    n += l.affine.weight.length + l.affine.bias.length + l.weight.length + l.bias.length;
    n += (l.noiseConst?.length ?? 0) + (l.noiseConst === null ? 0 : 1);
  }
  return n;
}

/** Size of the style space S without the toRGB styles (what StyleCLIP edits act on). */
export function styleChannels(config: TeacherConfig): number {
  return config.layers.filter((l) => l.kind === 'conv').reduce((n, l) => n + l.inChannels, 0);
}
