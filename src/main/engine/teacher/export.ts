// Canonical teacher weights → named tensors in NVIDIA or rosinality naming, ready for a .safetensors file.
import type { TensorToWrite } from '../safetensors/index.ts';
import { RESAMPLE_TAPS, type DenseWeights, type TeacherWeights } from './weights.ts';

function f32(shape: readonly number[], data: Float32Array): TensorToWrite {
  return { dtype: 'F32', shape, data };
}

function putDense(out: Map<string, TensorToWrite>, name: string, fc: DenseWeights): void {
  out.set(`${name}.weight`, f32([fc.outFeatures, fc.inFeatures], fc.weight));
  out.set(`${name}.bias`, f32([fc.outFeatures], fc.bias));
}

/** The tensors of a stylegan2-ada-pytorch `G_ema.state_dict()` (without the resample filter buffers). */
export function toNvidiaTensors(weights: TeacherWeights): Map<string, TensorToWrite> {
  const { config } = weights;
  const out = new Map<string, TensorToWrite>();
  weights.mapping.forEach((fc, i) => putDense(out, `mapping.fc${i}`, fc));
  out.set('mapping.w_avg', f32([config.wDim], weights.wAvg));
  out.set('synthesis.b4.const', f32([config.channels[4]!, 4, 4], weights.constInput));
  config.layers.forEach((layer, i) => {
    const lw = weights.layers[i]!;
    const p = `synthesis.${layer.name}`;
    const k = layer.kernel;
    putDense(out, `${p}.affine`, lw.affine);
    out.set(`${p}.weight`, f32([layer.outChannels, layer.inChannels, k, k], lw.weight));
    out.set(`${p}.bias`, f32([layer.outChannels], lw.bias));
    if (lw.noiseConst !== null) {
      out.set(`${p}.noise_const`, f32([layer.resolution, layer.resolution], lw.noiseConst));
      out.set(`${p}.noise_strength`, f32([], new Float32Array([lw.noiseStrength])));
    }
  });
  return out;
}

/** The 4×4 blur/upsample kernel rosinality stores as a buffer (normalised filter × 4). */
function rosinalityKernel(): Float32Array {
  const sum = RESAMPLE_TAPS.reduce((a, b) => a + b, 0);
  return Float32Array.from(RESAMPLE_TAPS.flatMap((a) => RESAMPLE_TAPS.map((b) => ((a * b) / (sum * sum)) * 4)));
}

/**
 * The tensors of a rosinality `Generator.state_dict()` computing the same function: 3×3 weights are multiplied
 * by √fan_in because rosinality divides by it at run time. `prefix` (e.g. `g_ema.`) is put in front of every
 * generator tensor; `latent_avg` stays outside it, as in rosinality's checkpoints.
 */
export function toRosinalityTensors(weights: TeacherWeights, prefix = ''): Map<string, TensorToWrite> {
  const { config } = weights;
  const out = new Map<string, TensorToWrite>();
  const put = (name: string, t: TensorToWrite): void => void out.set(prefix + name, t);
  weights.mapping.forEach((fc, i) => {
    put(`style.${i + 1}.weight`, f32([fc.outFeatures, fc.inFeatures], fc.weight));
    put(`style.${i + 1}.bias`, f32([fc.outFeatures], fc.bias));
  });
  out.set('latent_avg', f32([config.wDim], weights.wAvg));
  put('input.input', f32([1, config.channels[4]!, 4, 4], weights.constInput));
  const kernel = rosinalityKernel();
  let noiseIndex = 0;
  config.layers.forEach((layer, i) => {
    const lw = weights.layers[i]!;
    const block = Math.log2(layer.resolution) - 3;
    const modulation = (p: string): void => {
      put(`${p}.conv.modulation.weight`, f32([lw.affine.outFeatures, lw.affine.inFeatures], lw.affine.weight));
      put(`${p}.conv.modulation.bias`, f32([lw.affine.outFeatures], lw.affine.bias));
    };
    if (layer.kind === 'torgb') {
      const p = layer.resolution === 4 ? 'to_rgb1' : `to_rgbs.${block}`;
      modulation(p);
      put(`${p}.conv.weight`, f32([1, layer.outChannels, layer.inChannels, 1, 1], lw.weight));
      put(`${p}.bias`, f32([1, layer.outChannels, 1, 1], lw.bias));
      if (layer.resolution > 4) put(`${p}.upsample.kernel`, f32([4, 4], kernel));
      return;
    }
    const p = layer.resolution === 4 ? 'conv1' : `convs.${2 * block + (layer.up ? 0 : 1)}`;
    const k = layer.kernel;
    const gain = Math.sqrt(layer.inChannels * k * k);
    modulation(p);
    put(`${p}.conv.weight`, f32([1, layer.outChannels, layer.inChannels, k, k], lw.weight.map((v) => v * gain)));
    put(`${p}.activate.bias`, f32([layer.outChannels], lw.bias));
    if (layer.up) put(`${p}.conv.blur.kernel`, f32([4, 4], kernel));
    if (lw.noiseConst !== null) {
      put(`${p}.noise.weight`, f32([1], new Float32Array([lw.noiseStrength])));
      put(`noises.noise_${noiseIndex}`, f32([1, 1, layer.resolution, layer.resolution], lw.noiseConst));
    }
    noiseIndex += 1;
  });
  return out;
}
