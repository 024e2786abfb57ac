// Weight import: NVIDIA (stylegan2-ada-pytorch) and rosinality (stylegan2-pytorch) .safetensors → canonical weights.
import {
  FLOAT_DTYPES,
  readSafetensorsFile,
  type Safetensors,
} from '../safetensors/index.ts';
import {
  makeConfig,
  RESAMPLE_TAPS,
  type DenseWeights,
  type StyledLayerWeights,
  type TeacherWeights,
} from './weights.ts';

/** The two weight namings the studio reads. */
export type WeightNaming = 'nvidia' | 'rosinality';

/** Why a weights file cannot be used; names the tensor and the shape that was expected where that applies. */
export class TeacherImportError extends Error {
  /** The tensor the problem is about, when there is one. */
  readonly tensor: string | undefined;

  constructor(message: string, tensor?: string) {
    super(message);
    this.name = 'TeacherImportError';
    this.tensor = tensor;
  }
}

/** What an import found besides the weights. */
export interface ImportReport {
  readonly naming: WeightNaming;
  /** Prefix in front of every generator tensor name (e.g. `g_ema.`), empty when none. */
  readonly prefix: string;
  /**
   * Where w_avg came from: the file, nowhere yet (rosinality training checkpoints keep none; see `completeTeacher`),
   * or an estimate over seeded latents.
   */
  readonly wAvg: 'file' | 'missing' | 'estimated';
  /** Tensors in the file that the generator does not use (e.g. a discriminator saved alongside). */
  readonly unusedTensors: readonly string[];
}

const fmtShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** Reads named tensors from a safetensors file with shape and dtype checks, remembering what was used. */
class TensorReader {
  readonly used = new Set<string>();

  constructor(
    readonly file: Safetensors,
    readonly prefix: string,
  ) {}

  has(name: string): boolean {
    return this.file.has(this.prefix + name);
  }

  /** The shape of a tensor that must exist. */
  shape(name: string, what: string): readonly number[] {
    const full = this.prefix + name;
    if (!this.file.has(full)) throw new TeacherImportError(`missing tensor "${full}" (${what})`, full);
    return this.file.entry(full).shape;
  }

  /** The tensor as float32 after checking it exists, is a float and has one of the accepted shapes. */
  get(name: string, ...shapes: (readonly number[])[]): Float32Array {
    const full = this.prefix + name;
    const expected = shapes.map(fmtShape).join(' or ');
    if (!this.file.has(full)) {
      throw new TeacherImportError(`missing tensor "${full}" (expected shape ${expected})`, full);
    }
    const entry = this.file.entry(full);
    if (!FLOAT_DTYPES.includes(entry.dtype)) {
      throw new TeacherImportError(
        `tensor "${full}" has unsupported dtype ${entry.dtype}; generator weights must be ${FLOAT_DTYPES.join(', ')}`,
        full,
      );
    }
    if (!shapes.some((s) => s.length === entry.shape.length && s.every((d, i) => d === entry.shape[i]))) {
      throw new TeacherImportError(
        `tensor "${full}" has shape ${fmtShape(entry.shape)}, expected ${expected}`,
        full,
      );
    }
    this.used.add(full);
    return this.file.float32(full);
  }

  scalar(name: string): number {
    return this.get(name, [], [1])[0]!;
  }

  /** Names of the tensors under the prefix, without it. */
  names(): string[] {
    return this.file
      .names()
      .filter((n) => n.startsWith(this.prefix))
      .map((n) => n.slice(this.prefix.length));
  }

  unused(): string[] {
    return this.file.names().filter((n) => !this.used.has(n));
  }
}

/** The normalised 4×4 resampling filter as both implementations store it (NVIDIA without gain, rosinality × 4). */
function resampleFilter(gain: number): Float64Array {
  const taps = RESAMPLE_TAPS;
  const sum = taps.reduce((a, b) => a + b, 0);
  const f = new Float64Array(taps.length * taps.length);
  for (let i = 0; i < taps.length; i++) {
    for (let j = 0; j < taps.length; j++) f[i * taps.length + j] = ((taps[i]! * taps[j]!) / (sum * sum)) * gain;
  }
  return f;
}

/** Refuses a stored resampling filter that differs from [1,3,3,1] (the graph hard-codes that filter). */
function checkFilter(reader: TensorReader, name: string, gain: number): void {
  if (!reader.has(name)) return;
  const n = RESAMPLE_TAPS.length;
  const stored = reader.get(name, [n, n]);
  const expected = resampleFilter(gain);
  if (stored.some((v, i) => Math.abs(v - expected[i]!) > 1e-6)) {
    throw new TeacherImportError(
      `tensor "${reader.prefix + name}" is not the [1,3,3,1] resampling filter; other filters are not supported`,
      reader.prefix + name,
    );
  }
}

/** Finds the naming and the prefix from a marker tensor, preferring the EMA generator when several are saved. */
function detect(file: Safetensors): { naming: WeightNaming; prefix: string } {
  const markers: [WeightNaming, string][] = [
    ['nvidia', 'mapping.fc0.weight'],
    ['rosinality', 'style.1.weight'],
  ];
  for (const [naming, marker] of markers) {
    const prefixes = file
      .names()
      .filter((n) => n === marker || n.endsWith(`.${marker}`))
      .map((n) => n.slice(0, n.length - marker.length));
    if (prefixes.length === 0) continue;
    if (prefixes.length === 1) return { naming, prefix: prefixes[0]! };
    const ema = prefixes.find((p) => /^(g_ema|G_ema)\.$/.test(p));
    if (ema !== undefined) return { naming, prefix: ema };
    throw new TeacherImportError(
      `several generators in one file (${prefixes.map((p) => `"${p}${marker}"`).join(', ')}); keep only one, or name it g_ema.`,
    );
  }
  const sample = file.names().slice(0, 5).map((n) => `"${n}"`).join(', ');
  throw new TeacherImportError(
    `not a StyleGAN2 generator: found neither "mapping.fc0.weight" (NVIDIA naming) nor "style.1.weight" (rosinality naming); ` +
      `the file starts with ${sample || 'no tensors'}`,
  );
}

function resolutionFromBlocks(names: string[], pattern: RegExp, what: string): number {
  let resolution = 0;
  for (const n of names) {
    const m = pattern.exec(n);
    if (m !== null) resolution = Math.max(resolution, Number(m[1]));
  }
  if (resolution < 4 || (resolution & (resolution - 1)) !== 0) {
    throw new TeacherImportError(`cannot infer the resolution: no ${what} tensors with a power-of-two resolution`);
  }
  return resolution;
}

function dense(reader: TensorReader, prefix: string, inFeatures: number, outFeatures: number): DenseWeights {
  return {
    inFeatures,
    outFeatures,
    weight: reader.get(`${prefix}.weight`, [outFeatures, inFeatures]),
    bias: reader.get(`${prefix}.bias`, [outFeatures]),
  };
}

/** Mapping depth and widths from consecutive `<prefix>{i}.weight` tensors starting at `first`. */
function mappingFeatures(reader: TensorReader, name: (i: number) => string, first: number): { zDim: number; features: number[] } {
  const features: number[] = [];
  let zDim = 0;
  for (let i = first; reader.has(name(i)); i++) {
    const shape = reader.shape(name(i), 'mapping layer');
    if (shape.length !== 2) {
      throw new TeacherImportError(`tensor "${reader.prefix + name(i)}" has shape ${fmtShape(shape)}, expected [out, in]`);
    }
    const expectedIn = features.length === 0 ? shape[1]! : features[features.length - 1]!;
    if (features.length === 0) zDim = shape[1]!;
    if (shape[1] !== expectedIn) {
      throw new TeacherImportError(
        `tensor "${reader.prefix + name(i)}" has shape ${fmtShape(shape)}, expected [${shape[0]}, ${expectedIn}] (input = previous layer's output)`,
      );
    }
    features.push(shape[0]!);
  }
  return { zDim, features };
}

/** Reads NVIDIA-named tensors (`mapping.fc{i}.*`, `mapping.w_avg`, `synthesis.b{r}.*`) into canonical form. */
function importNvidia(reader: TensorReader): { weights: TeacherWeights; wAvgMissing: boolean } {
  if (reader.has('mapping.embed.weight')) {
    throw new TeacherImportError('conditional generators (mapping.embed.*) are not supported: the studio samples unconditionally');
  }
  const { zDim, features } = mappingFeatures(reader, (i) => `mapping.fc${i}.weight`, 0);
  const wDim = features[features.length - 1]!;
  const names = reader.names();
  const resolution = resolutionFromBlocks(names, /^synthesis\.b(\d+)\./, 'synthesis.b{resolution}');
  const imgChannels = reader.shape(`synthesis.b${resolution}.torgb.weight`, 'last toRGB weight [img_channels, in, 1, 1]')[0]!;
  const channels: Record<number, number> = {};
  channels[4] = reader.shape('synthesis.b4.const', 'learned constant [C, 4, 4]')[0]!;
  for (let r = 8; r <= resolution; r *= 2) {
    if (reader.has(`synthesis.b${r}.skip.weight`)) {
      throw new TeacherImportError(`"${reader.prefix}synthesis.b${r}.skip.weight" marks a resnet-architecture generator; only the skip architecture is supported`);
    }
    channels[r] = reader.shape(`synthesis.b${r}.conv0.weight`, `block ${r} upsampling conv [out, in, 3, 3]`)[0]!;
  }
  const hasNoise = reader.has('synthesis.b4.conv1.noise_strength');
  const config = makeConfig({ zDim, mappingFeatures: features, resolution, imgChannels, channels, hasNoise });

  const mapping = features.map((out, i) => dense(reader, `mapping.fc${i}`, i === 0 ? zDim : features[i - 1]!, out));
  const wAvgMissing = !reader.has('mapping.w_avg');
  const wAvg = wAvgMissing ? new Float32Array(wDim) : reader.get('mapping.w_avg', [wDim]);
  const constInput = reader.get('synthesis.b4.const', [channels[4]!, 4, 4]);
  const layers: StyledLayerWeights[] = config.layers.map((layer) => {
    const p = `synthesis.${layer.name}`;
    const isConv = layer.kind === 'conv';
    const k = layer.kernel;
    return {
      affine: dense(reader, `${p}.affine`, wDim, layer.inChannels),
      weight: reader.get(`${p}.weight`, [layer.outChannels, layer.inChannels, k, k]),
      bias: reader.get(`${p}.bias`, [layer.outChannels]),
      noiseConst: isConv && hasNoise ? reader.get(`${p}.noise_const`, [layer.resolution, layer.resolution]) : null,
      noiseStrength: isConv && hasNoise ? reader.scalar(`${p}.noise_strength`) : 0,
    };
  });
  for (let r = 4; r <= resolution; r *= 2) {
    for (const part of ['conv0', 'conv1']) checkFilter(reader, `synthesis.b${r}.${part}.resample_filter`, 1);
    checkFilter(reader, `synthesis.b${r}.resample_filter`, 1);
  }
  return { weights: { config, mapping, wAvg, constInput, layers }, wAvgMissing };
}

/**
 * Reads rosinality-named tensors (`style.{i}`, `input.input`, `conv1`, `convs.{i}`, `to_rgb1`, `to_rgbs.{i}`,
 * `noises.noise_{i}`, `latent_avg`) into canonical form. rosinality scales modulated conv weights by 1/√fan_in at
 * run time and NVIDIA does not; the scale is folded into the canonical 3×3 weights (the toRGB scale already
 * equals NVIDIA's style gain), so both compute the same function, demodulation epsilon included.
 */
function importRosinality(reader: TensorReader, file: Safetensors): { weights: TeacherWeights; wAvgMissing: boolean } {
  const { zDim, features } = mappingFeatures(reader, (i) => `style.${i}.weight`, 1);
  const wDim = features[features.length - 1]!;
  const names = reader.names();
  let convCount = 0;
  for (const n of names) {
    const m = /^convs\.(\d+)\.conv\.weight$/.exec(n);
    if (m !== null) convCount = Math.max(convCount, Number(m[1]) + 1);
  }
  if (convCount % 2 !== 0) {
    throw new TeacherImportError(`missing tensor "${reader.prefix}convs.${convCount}.conv.weight": convs come in pairs per resolution`);
  }
  const resolution = 4 * 2 ** (convCount / 2);
  const imgChannels = reader.shape('to_rgb1.conv.weight', 'first toRGB weight [1, img_channels, in, 1, 1]')[1]!;
  const channels: Record<number, number> = { 4: reader.shape('input.input', 'learned constant [1, C, 4, 4]')[1]! };
  for (let i = 0; i < convCount / 2; i++) {
    channels[8 * 2 ** i] = reader.shape(`convs.${2 * i}.conv.weight`, `upsampling conv [1, out, in, 3, 3]`)[1]!;
  }
  const hasNoise = reader.has('conv1.noise.weight');
  const config = makeConfig({ zDim, mappingFeatures: features, resolution, imgChannels, channels, hasNoise });

  const mapping = features.map((out, i) => dense(reader, `style.${i + 1}`, i === 0 ? zDim : features[i - 1]!, out));
  // rosinality's training checkpoints keep latent_avg beside g_ema, outside its prefix; converted ones inside.
  const avgName = reader.has('latent_avg') ? `${reader.prefix}latent_avg` : file.has('latent_avg') ? 'latent_avg' : null;
  let wAvg: Float32Array = new Float32Array(wDim);
  if (avgName !== null) {
    const outer = new TensorReader(file, '');
    wAvg = outer.get(avgName, [wDim], [1, wDim]);
    reader.used.add(avgName);
  }
  const constInput = reader.get('input.input', [1, channels[4]!, 4, 4]);

  const moduleOf = (index: number): { conv: string; rgb: string | null; noise: number } => {
    // network order: conv1, to_rgb1, then per block convs.{2i}, convs.{2i+1}, to_rgbs.{i}
    const layer = config.layers[index]!;
    if (layer.name === 'b4.conv1') return { conv: 'conv1', rgb: null, noise: 0 };
    if (layer.name === 'b4.torgb') return { conv: '', rgb: 'to_rgb1', noise: -1 };
    const block = Math.log2(layer.resolution) - 3;
    if (layer.kind === 'torgb') return { conv: '', rgb: `to_rgbs.${block}`, noise: -1 };
    const i = 2 * block + (layer.up ? 0 : 1);
    return { conv: `convs.${i}`, rgb: null, noise: i + 1 };
  };
  const layers: StyledLayerWeights[] = config.layers.map((layer, index) => {
    const where = moduleOf(index);
    const k = layer.kernel;
    if (where.rgb !== null) {
      const p = where.rgb;
      const w = reader.get(`${p}.conv.weight`, [1, layer.outChannels, layer.inChannels, 1, 1]);
      if (reader.has(`${p}.upsample.kernel`)) checkFilter(reader, `${p}.upsample.kernel`, 4);
      return {
        affine: dense(reader, `${p}.conv.modulation`, wDim, layer.inChannels),
        weight: w,
        bias: reader.get(`${p}.bias`, [1, layer.outChannels, 1, 1]),
        noiseConst: null,
        noiseStrength: 0,
      };
    }
    const p = where.conv;
    const raw = reader.get(`${p}.conv.weight`, [1, layer.outChannels, layer.inChannels, k, k]);
    const scale = 1 / Math.sqrt(layer.inChannels * k * k);
    const weight = raw.map((v) => v * scale);
    if (layer.up) checkFilter(reader, `${p}.conv.blur.kernel`, 4);
    const r = layer.resolution;
    return {
      affine: dense(reader, `${p}.conv.modulation`, wDim, layer.inChannels),
      weight,
      bias: reader.get(`${p}.activate.bias`, [layer.outChannels]),
      noiseConst: hasNoise ? reader.get(`noises.noise_${where.noise}`, [1, 1, r, r]) : null,
      noiseStrength: hasNoise ? reader.get(`${p}.noise.weight`, [1])[0]! : 0,
    };
  });
  return { weights: { config, mapping, wAvg, constInput, layers }, wAvgMissing: avgName === null };
}

/**
 * Reads a StyleGAN2 generator from parsed safetensors, detecting the naming. Every tensor the network needs is
 * checked for presence, dtype and shape; errors name the tensor and the expected shape.
 */
export function importTeacherWeights(file: Safetensors): { weights: TeacherWeights; report: ImportReport } {
  const { naming, prefix } = detect(file);
  const reader = new TensorReader(file, prefix);
  const { weights, wAvgMissing } = naming === 'nvidia' ? importNvidia(reader) : importRosinality(reader, file);
  return { weights, report: { naming, prefix, wAvg: wAvgMissing ? 'missing' : 'file', unusedTensors: reader.unused() } };
}

/** Reads a StyleGAN2 generator from a .safetensors file (see `importTeacherWeights`). */
export async function importTeacherFile(path: string): Promise<{ weights: TeacherWeights; report: ImportReport }> {
  return importTeacherWeights(await readSafetensorsFile(path));
}
