// Teacher weight import: configuration read from the tensors, and each broken file refused with a clear message.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  float32ToHalfArray,
  parseSafetensors,
  serializeSafetensors,
  writeSafetensorsFile,
  type TensorToWrite,
} from '../../../../src/main/engine/safetensors/index.ts';
import {
  CONFIG_F_256,
  importTeacherWeights,
  loadTeacher,
  makeConfig,
  makeRandomTeacherWeights,
  sampleLatents,
  styleChannels,
  TeacherImportError,
  toNvidiaTensors,
  toRosinalityTensors,
  writeRandomTeacher,
} from '../../../../src/main/engine/teacher/index.ts';
import { nvidiaMapping } from './reference-stylegan2.ts';
import { maxAbsDiff, refTensors, rows } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'teacher-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tiny = makeRandomTeacherWeights();

function importError(tensors: ReadonlyMap<string, TensorToWrite>): TeacherImportError {
  try {
    importTeacherWeights(parseSafetensors(serializeSafetensors(tensors)));
  } catch (error) {
    expect(error).toBeInstanceOf(TeacherImportError);
    return error as TeacherImportError;
  }
  throw new Error('expected the import to fail');
}

function without(tensors: Map<string, TensorToWrite>, name: string): Map<string, TensorToWrite> {
  const copy = new Map(tensors);
  expect(copy.delete(name)).toBe(true);
  return copy;
}

describe('configuration is read from the tensors', () => {
  it('the tiny teacher: 32×32, mapping depth 2, channels 32 → 16', async () => {
    const path = join(dir, 'tiny.safetensors');
    await writeRandomTeacher(path);
    const teacher = await loadTeacher(path);
    expect(teacher.config).toMatchObject({
      zDim: 32,
      wDim: 32,
      mappingLayers: 2,
      resolution: 32,
      imgChannels: 3,
      channels: { 4: 32, 8: 32, 16: 32, 32: 16 },
      numWs: 8,
      hasNoise: true,
    });
    expect(teacher.config.layers.map((l) => `${l.name}@${l.wIndex}`)).toEqual([
      'b4.conv1@0', 'b4.torgb@1', 'b8.conv0@1', 'b8.conv1@2', 'b8.torgb@3',
      'b16.conv0@3', 'b16.conv1@4', 'b16.torgb@5', 'b32.conv0@5', 'b32.conv1@6', 'b32.torgb@7',
    ]);
    expect(teacher.report).toMatchObject({ naming: 'nvidia', prefix: '', wAvg: 'file', unusedTensors: [] });
  });

  it('another shape: mapping depth 8, 64-d z, 16×16, no noise, a G_ema. prefix', () => {
    const weights = makeRandomTeacherWeights({ resolution: 16, zDim: 64, wDim: 48, mappingLayers: 8, hasNoise: false, channelBase: 128, channelMax: 24 });
    const prefixed = new Map([...toNvidiaTensors(weights)].map(([k, v]) => [`G_ema.${k}`, v]));
    const { weights: imported, report } = importTeacherWeights(parseSafetensors(serializeSafetensors(prefixed)));
    expect(report.prefix).toBe('G_ema.');
    expect(imported.config).toMatchObject({ zDim: 64, wDim: 48, mappingLayers: 8, resolution: 16, numWs: 6, hasNoise: false, channels: { 4: 24, 8: 16, 16: 8 } });
  });

  it('config-f 256 facts: 14 ws, 5,760 style channels without toRGB', () => {
    const channels: Record<number, number> = {};
    for (let r = 4; r <= 256; r *= 2) channels[r] = Math.min(CONFIG_F_256.channelBase / r, CONFIG_F_256.channelMax);
    const config = makeConfig({ zDim: 512, mappingFeatures: new Array(8).fill(512), resolution: 256, imgChannels: 3, channels, hasNoise: true });
    expect(config.numWs).toBe(14);
    expect(styleChannels(config)).toBe(5760);
    expect(channels).toMatchObject({ 64: 512, 128: 256, 256: 128 });
  });

  it('F16 and BF16 weights are read as float32', () => {
    const half = new Map<string, TensorToWrite>();
    for (const [name, t] of toNvidiaTensors(tiny)) half.set(name, { dtype: 'F16', shape: t.shape, data: float32ToHalfArray(t.data as Float32Array) });
    const { weights } = importTeacherWeights(parseSafetensors(serializeSafetensors(half)));
    expect(weights.config).toEqual(tiny.config);
    expect(weights.constInput[0]).toBeCloseTo(tiny.constInput[0]!, 2);
  });

  it('a rosinality file without latent_avg gets w_avg estimated from seeded latents', async () => {
    const tensors = without(toRosinalityTensors(tiny), 'latent_avg');
    const path = join(dir, 'no-avg.safetensors');
    await writeSafetensorsFile(path, tensors);
    const teacher = await loadTeacher(path);
    expect(teacher.report?.wAvg).toBe('estimated');
    // rosinality's mean_latent: the mean of w over latents, here those of seeds 0 … 9999.
    const ws = nvidiaMapping(refTensors(toNvidiaTensors(tiny)), rows(sampleLatents(0, 10_000, tiny.config.zDim), tiny.config.zDim));
    const mean = ws[0]!.map((_, i) => ws.reduce((s, w) => s + w[i]!, 0) / ws.length);
    expect(maxAbsDiff(teacher.weights.wAvg, mean)).toBeLessThanOrEqual(1e-4);
  });
});

describe('broken files are refused, naming the tensor', () => {
  const nv = toNvidiaTensors(tiny);

  it('a missing tensor, with the shape it should have', () => {
    expect(importError(without(nv, 'synthesis.b16.conv1.affine.weight')).message).toBe(
      'missing tensor "synthesis.b16.conv1.affine.weight" (expected shape [32, 32])',
    );
    expect(importError(without(nv, 'mapping.fc1.bias')).message).toBe('missing tensor "mapping.fc1.bias" (expected shape [32])');
    const ros = toRosinalityTensors(tiny, 'g_ema.');
    expect(importError(without(ros, 'g_ema.noises.noise_4')).message).toBe('missing tensor "g_ema.noises.noise_4" (expected shape [1, 1, 16, 16])');
  });

  it('a tensor of the wrong shape', () => {
    const bad = new Map(nv).set('synthesis.b32.torgb.bias', { dtype: 'F32', shape: [4], data: new Float32Array(4) });
    const error = importError(bad);
    expect(error.message).toBe('tensor "synthesis.b32.torgb.bias" has shape [4], expected [3]');
    expect(error.tensor).toBe('synthesis.b32.torgb.bias');
  });

  it('an unsupported dtype', () => {
    const bad = new Map(nv).set('mapping.w_avg', { dtype: 'I32', shape: [32], data: new Int32Array(32) });
    expect(importError(bad).message).toBe('tensor "mapping.w_avg" has unsupported dtype I32; generator weights must be F16, BF16, F32, F64');
  });

  it('a truncated file', async () => {
    const path = join(dir, 'truncated.safetensors');
    await writeSafetensorsFile(path, nv);
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    await expect(loadTeacher(path)).rejects.toThrow(/truncated\.safetensors: tensor "[^"]+" needs data bytes .* the file is truncated/);
  });

  it('a file that is not a StyleGAN2 generator', () => {
    const other = new Map<string, TensorToWrite>([['encoder.weight', { dtype: 'F32', shape: [2], data: new Float32Array(2) }]]);
    expect(importError(other).message).toMatch(/not a StyleGAN2 generator: found neither "mapping.fc0.weight" \(NVIDIA naming\) nor "style.1.weight" \(rosinality naming\); the file starts with "encoder.weight"/);
  });

  it('a conditional or resnet generator is refused as unsupported', () => {
    const conditional = new Map(nv).set('mapping.embed.weight', { dtype: 'F32', shape: [32, 10], data: new Float32Array(320) });
    expect(importError(conditional).message).toMatch(/conditional generators .* are not supported/);
    const resnet = new Map(nv).set('synthesis.b8.skip.weight', { dtype: 'F32', shape: [32, 32, 1, 1], data: new Float32Array(1024) });
    expect(importError(resnet).message).toMatch(/resnet-architecture generator; only the skip architecture is supported/);
  });

  it('a resampling filter other than [1,3,3,1]', () => {
    const box = new Float32Array(16).fill(1 / 16);
    const bad = new Map(nv).set('synthesis.b8.conv0.resample_filter', { dtype: 'F32', shape: [4, 4], data: box });
    expect(importError(bad).message).toMatch(/"synthesis.b8.conv0.resample_filter" is not the \[1,3,3,1\] resampling filter/);
  });
});
