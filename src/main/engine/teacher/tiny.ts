// Random-weight StyleGAN2 generators made by the studio itself: the tiny teacher of tests and the built-in demo, and
// config-f-sized ones for benchmarks. Seeded, so the same options always give the same file.
import { writeSafetensorsFile } from '../safetensors/index.ts';
import { toNvidiaTensors } from './export.ts';
import { SeededRandom, STREAM } from './rng.ts';
import { makeConfig, MAPPING_LR_MUL, type DenseWeights, type StyledLayerWeights, type TeacherWeights } from './weights.ts';

/** Shape of a random generator; channels per resolution are min(channelBase / res, channelMax) as in NVIDIA's code. */
export interface RandomTeacherOptions {
  seed?: number;
  resolution?: number;
  zDim?: number;
  wDim?: number;
  mappingLayers?: number;
  channelBase?: number;
  channelMax?: number;
  imgChannels?: number;
  hasNoise?: boolean;
  /** Number of z averaged into w_avg (like the moving average training keeps); 0 leaves w_avg at zero. */
  wAvgSamples?: number;
}

/** The tiny teacher: 32×32, 32-d latents, mapping depth 2, 32→16 channels. */
export const TINY_TEACHER: Required<RandomTeacherOptions> = {
  seed: 1,
  resolution: 32,
  zDim: 32,
  wDim: 32,
  mappingLayers: 2,
  channelBase: 512,
  channelMax: 32,
  imgChannels: 3,
  hasNoise: true,
  wAvgSamples: 256,
};

/** config-f widths (channel_base 32768, channel_max 512), 8 mapping layers, 512-d latents, at 256×256. */
export const CONFIG_F_256: Required<RandomTeacherOptions> = {
  seed: 1,
  resolution: 256,
  zDim: 512,
  wDim: 512,
  mappingLayers: 8,
  channelBase: 32768,
  channelMax: 512,
  imgChannels: 3,
  hasNoise: true,
  wAvgSamples: 0,
};

function gaussian(rng: SeededRandom, n: number, std: number, mean = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + std * rng.gaussian();
  return out;
}

/** The untruncated w of one z in float64, as the mapping network computes it (for w_avg). */
function mapOne(mapping: readonly DenseWeights[], z: Float32Array): Float64Array {
  let ms = 0;
  for (const v of z) ms += v * v;
  const norm = 1 / Math.sqrt(ms / z.length + 1e-8);
  let x = Float64Array.from(z, (v) => v * norm);
  for (const fc of mapping) {
    const gain = MAPPING_LR_MUL / Math.sqrt(fc.inFeatures);
    const y = new Float64Array(fc.outFeatures);
    for (let o = 0; o < fc.outFeatures; o++) {
      let acc = 0;
      for (let i = 0; i < fc.inFeatures; i++) acc += fc.weight[o * fc.inFeatures + i]! * x[i]!;
      const a = acc * gain + fc.bias[o]! * MAPPING_LR_MUL;
      y[o] = (a < 0 ? 0.2 * a : a) * Math.SQRT2;
    }
    x = y;
  }
  return x;
}

/**
 * A random generator drawn the way stylegan2-ada-pytorch initialises one (mapping weights N(0, 1/lr_mul²),
 * affine weights N(0, 1), conv weights N(0, 1)), except that biases and noise strengths — zero or one at
 * initialisation — are drawn around those values so that every parameter visibly affects the image.
 */
export function makeRandomTeacherWeights(options: RandomTeacherOptions = {}): TeacherWeights {
  const o = { ...TINY_TEACHER, ...options };
  if (o.resolution < 4 || (o.resolution & (o.resolution - 1)) !== 0) throw new RangeError(`resolution must be a power of two ≥ 4, got ${o.resolution}`);
  const channels: Record<number, number> = {};
  for (let r = 4; r <= o.resolution; r *= 2) channels[r] = Math.max(1, Math.min(Math.floor(o.channelBase / r), o.channelMax));
  const features = [...new Array<number>(o.mappingLayers - 1).fill(o.wDim), o.wDim];
  const config = makeConfig({ zDim: o.zDim, mappingFeatures: features, resolution: o.resolution, imgChannels: o.imgChannels, channels, hasNoise: o.hasNoise });
  const rng = new SeededRandom(o.seed, STREAM.init);

  const mapping: DenseWeights[] = features.map((out, i) => {
    const inF = i === 0 ? o.zDim : features[i - 1]!;
    return {
      inFeatures: inF,
      outFeatures: out,
      weight: gaussian(rng, out * inF, 1 / MAPPING_LR_MUL),
      bias: gaussian(rng, out, 0.1 / MAPPING_LR_MUL),
    };
  });
  const constInput = gaussian(rng, channels[4]! * 16, 1);
  const layers: StyledLayerWeights[] = config.layers.map((layer) => {
    const isConv = layer.kind === 'conv';
    const hasNoise = isConv && o.hasNoise;
    return {
      affine: {
        inFeatures: o.wDim,
        outFeatures: layer.inChannels,
        weight: gaussian(rng, layer.inChannels * o.wDim, 1),
        bias: gaussian(rng, layer.inChannels, 0.2, 1),
      },
      weight: gaussian(rng, layer.outChannels * layer.inChannels * layer.kernel * layer.kernel, 1),
      bias: gaussian(rng, layer.outChannels, 0.1),
      noiseConst: hasNoise ? gaussian(rng, layer.resolution * layer.resolution, 1) : null,
      noiseStrength: hasNoise ? 0.2 * rng.gaussian() : 0,
    };
  });

  const wAvg = new Float32Array(o.wDim);
  if (o.wAvgSamples > 0) {
    const zRng = new SeededRandom(o.seed, STREAM.latent);
    const acc = new Float64Array(o.wDim);
    for (let s = 0; s < o.wAvgSamples; s++) {
      const w = mapOne(mapping, gaussian(zRng, o.zDim, 1));
      for (let i = 0; i < o.wDim; i++) acc[i]! += w[i]!;
    }
    for (let i = 0; i < o.wDim; i++) wAvg[i] = acc[i]! / o.wAvgSamples;
  }
  return { config, mapping, wAvg, constInput, layers };
}

/** Writes a random generator as an NVIDIA-named .safetensors file (metadata records how it was made). */
export async function writeRandomTeacher(path: string, options: RandomTeacherOptions = {}): Promise<TeacherWeights> {
  const weights = makeRandomTeacherWeights(options);
  const o = { ...TINY_TEACHER, ...options };
  await writeSafetensorsFile(path, toNvidiaTensors(weights), {
    format: 'pt',
    producer: 'effects-studio random teacher',
    options: JSON.stringify(o),
  });
  return weights;
}
