// The ONNX teacher against independent float64 StyleGAN2 forwards (NVIDIA and rosinality code, both weight namings).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensorsFile } from '../../../../src/main/engine/safetensors/index.ts';
import {
  loadTeacher,
  makeRandomTeacherWeights,
  noiseFromSeed,
  noiseInputName,
  sampleLatents,
  styleInputName,
  toNvidiaTensors,
  toRosinalityTensors,
  type Teacher,
  type TeacherWeights,
} from '../../../../src/main/engine/teacher/index.ts';
import { nvidiaForward, rosinalityForward, type RefTensor } from './reference-stylegan2.ts';
import { maxAbsDiff, refTensors, rows, runModel, std } from './support.ts';

const TOLERANCE = 1e-4;
const dir = mkdtempSync(join(tmpdir(), 'teacher-forward-'));
let weights: TeacherWeights;
let nvidia: Teacher;
let rosinality: Teacher;
let nvRef: Map<string, RefTensor>;
let rosRef: Map<string, RefTensor>;

beforeAll(async () => {
  weights = makeRandomTeacherWeights({ seed: 3 });
  await writeSafetensorsFile(join(dir, 'nvidia.safetensors'), toNvidiaTensors(weights));
  await writeSafetensorsFile(join(dir, 'rosinality.safetensors'), toRosinalityTensors(weights, 'g_ema.'));
  nvidia = await loadTeacher(join(dir, 'nvidia.safetensors'));
  rosinality = await loadTeacher(join(dir, 'rosinality.safetensors'));
  nvRef = refTensors(toNvidiaTensors(weights));
  rosRef = refTensors(toRosinalityTensors(weights, 'g_ema.'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('z → image matches the reference StyleGAN2', () => {
  const batch = 3;

  it('NVIDIA naming: ψ 0.7, stored noise', async () => {
    const { zDim } = nvidia.config;
    const z = sampleLatents(10, batch, zDim);
    const out = await runModel(nvidia.buildGeneratorGraph({ batch }), { z, psi: Float32Array.of(0.7) });
    const ref = nvidiaForward(nvRef, rows(z, zDim), 0.7, null, 'const');
    expect(std(ref.image.data)).toBeGreaterThan(0.2);
    expect(maxAbsDiff(out.image!, ref.image.data)).toBeLessThanOrEqual(TOLERANCE);
    expect(maxAbsDiff(out.ws!, ref.ws.flat().flatMap((w) => [...w]))).toBeLessThanOrEqual(TOLERANCE);
  });

  it('rosinality naming (g_ema. prefix, latent_avg outside it): the same image as rosinality computes', async () => {
    expect(rosinality.report).toMatchObject({ naming: 'rosinality', prefix: 'g_ema.', wAvg: 'file', unusedTensors: [] });
    const { zDim } = rosinality.config;
    const z = sampleLatents(20, batch, zDim);
    const out = await runModel(rosinality.buildGeneratorGraph({ batch }), { z, psi: Float32Array.of(0.7) });
    const ref = rosinalityForward(rosRef, rows(z, zDim), 0.7, 'const', 'g_ema.');
    expect(std(ref.image.data)).toBeGreaterThan(0.2);
    expect(maxAbsDiff(out.image!, ref.image.data)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('truncation cutoff, random noise inputs and conv_clamp', async () => {
    const { zDim, layers } = nvidia.config;
    const z = sampleLatents(30, batch, zDim);
    const seeds = [30, 31, 32];
    const feeds: Record<string, Float32Array> = { z, psi: Float32Array.of(0.5) };
    const random = new Map<string, Float64Array[]>();
    for (const layer of layers.filter((l) => l.kind === 'conv')) {
      const maps = seeds.map((s) => noiseFromSeed(s, nvidia.config).get(layer.name)!);
      feeds[noiseInputName(layer)] = Float32Array.from(maps.flatMap((m) => [...m]));
      random.set(layer.name, maps.map((m) => Float64Array.from(m)));
    }
    const model = nvidia.buildGeneratorGraph({ batch, truncationCutoff: 3, noise: 'random', convClamp: 1.5 });
    const out = await runModel(model, feeds);
    const ref = nvidiaForward(nvRef, rows(z, zDim), 0.5, 3, { random }, 1.5);
    expect(maxAbsDiff(out.image!, ref.image.data)).toBeLessThanOrEqual(TOLERANCE);
    const unclamped = nvidiaForward(nvRef, rows(z, zDim), 0.5, 3, { random }, null);
    expect(maxAbsDiff(unclamped.image.data, ref.image.data)).toBeGreaterThan(0.01); // the clamp was really exercised
  });

  it('no noise: the stored noise and strengths are ignored', async () => {
    const { zDim } = nvidia.config;
    const z = sampleLatents(40, 2, zDim);
    const out = await runModel(nvidia.buildGeneratorGraph({ batch: 2, noise: 'none' }), { z, psi: Float32Array.of(1) });
    const ref = nvidiaForward(nvRef, rows(z, zDim), 1, null, 'none');
    expect(maxAbsDiff(out.image!, ref.image.data)).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe('the three sub-graphs', () => {
  it('z → w, w → S, S → image chain to the same image, and S matches the reference styles', async () => {
    const batch = 2;
    const { zDim, layers } = nvidia.config;
    const z = sampleLatents(50, batch, zDim);
    const mapped = await runModel(nvidia.buildMappingGraph({ batch, truncationCutoff: 5 }), { z, psi: Float32Array.of(0.6) });
    const styles = await runModel(nvidia.buildStyleGraph({ batch }), { ws: mapped.ws! });
    const feeds = Object.fromEntries(layers.map((l) => [styleInputName(l), styles[styleInputName(l)]!]));
    const synthesis = await runModel(nvidia.buildSynthesisGraph({ batch }), feeds);
    const whole = await runModel(nvidia.buildGeneratorGraph({ batch, truncationCutoff: 5 }), { z, psi: Float32Array.of(0.6) });
    expect(maxAbsDiff(synthesis.image!, whole.image!)).toBeLessThanOrEqual(1e-5);

    const ref = nvidiaForward(nvRef, rows(z, zDim), 0.6, 5, 'const');
    expect(maxAbsDiff(synthesis.image!, ref.image.data)).toBeLessThanOrEqual(TOLERANCE);
    for (const layer of layers) {
      const expected = ref.styles.get(layer.name)!.flatMap((s) => [...s]);
      expect(maxAbsDiff(styles[styleInputName(layer)]!, expected), layer.name).toBeLessThanOrEqual(TOLERANCE);
    }
    // The untruncated w comes out too (what style statistics are computed from).
    const untruncated = nvidiaForward(nvRef, rows(z, zDim), 1, null, 'const').ws.map((ws) => [...ws[0]!]).flat();
    expect(maxAbsDiff(mapped.w!, untruncated)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('the synthesis graph takes S as input, so an edit of one style channel shows in the image', async () => {
    const batch = 1;
    const { zDim, layers } = nvidia.config;
    const ws = (await runModel(nvidia.buildMappingGraph({ batch }), { z: sampleLatents(60, 1, zDim), psi: Float32Array.of(1) })).ws!;
    const styles = await runModel(nvidia.buildStyleGraph({ batch }), { ws });
    const synthesis = nvidia.buildSynthesisGraph({ batch });
    const feeds = Object.fromEntries(layers.map((l) => [styleInputName(l), styles[styleInputName(l)]!]));
    const base = (await runModel(synthesis, feeds)).image!;
    const lastRgb = layers[layers.length - 1]!;
    const edited = { ...feeds, [styleInputName(lastRgb)]: feeds[styleInputName(lastRgb)]!.map((v, i) => (i === 0 ? v + 5 : v)) };
    const changed = (await runModel(synthesis, edited)).image!;
    expect(maxAbsDiff(base, changed)).toBeGreaterThan(1e-3);
  });
});
