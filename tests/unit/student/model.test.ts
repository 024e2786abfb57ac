// The student UNet: shapes, validation, parameter/MAC counts and outputs against an independent PyTorch twin, gradients.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/main/engine/graph/index.ts';
import {
  buildStudentGraph,
  DEFAULT_STUDENT,
  describeStudent,
  makeDivisible,
  STUDENT_INPUT,
  STUDENT_OUTPUT,
  studentForwardModel,
  StudentConfigError,
} from '../../../src/main/student/model.ts';
import type { StudentConfig } from '../../../src/shared/student/types.ts';
import { gradCheck } from '../engine/support/gradcheck.ts';

const TINY: StudentConfig = { size: 64, width: 0.25, activation: 'hardswish', residualScale: 0.5 };
const TWIN = join(import.meta.dirname, 'student_twin.py');
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) console.warn('student model tests: /usr/bin/python3 with torch is absent; the PyTorch twin checks are skipped');

function twin(config: StudentConfig, folder?: string): { parameters: number; macs: number } {
  const args = [TWIN, JSON.stringify(config), ...(folder ? [folder] : [])];
  return JSON.parse(execFileSync('/usr/bin/python3', args, { encoding: 'utf8' })) as { parameters: number; macs: number };
}

async function runForward(bytes: Uint8Array, x: Float32Array, size: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  const out = await session.run({ [STUDENT_INPUT]: new ort.Tensor('float32', x, [1, 3, size, size]) });
  await session.release();
  return out[STUDENT_OUTPUT]!.data as Float32Array;
}

describe('student architecture', () => {
  it('maps [N,3,S,S] to [N,3,S,S] through five resolutions', () => {
    const { input, output } = buildStudentGraph(DEFAULT_STUDENT, { batch: 2 });
    expect(input.shape).toEqual([2, 3, 256, 256]);
    expect(output.shape).toEqual([2, 3, 256, 256]);
    const d = describeStudent(DEFAULT_STUDENT);
    expect(d.levels.map((l) => [l.size, l.channels])).toEqual([[128, 16], [64, 24], [32, 32], [16, 64], [8, 96]]);
    expect(d.macs).toBeLessThan(0.3e9);
    expect(describeStudent({ ...DEFAULT_STUDENT, width: 0.5 }).levels.map((l) => l.channels)).toEqual([8, 16, 16, 32, 48]);
  });

  it('rounds channels like MobileNet', () => {
    expect([4, 12, 16, 19.2, 36, 48].map((c) => makeDivisible(c))).toEqual([8, 16, 16, 24, 40, 48]);
  });

  it('counts parameters and multiply-adds by hand for the smallest student', () => {
    // width 0.25 → channels 8, 8, 8, 16, 24; conv params = cout·cin/g·k² + cout.
    const conv = (cin: number, cout: number, k: number, group = 1): number => (cout * cin * k * k) / group + cout;
    const block = (cin: number, cout: number, hidden: number): number => conv(cin, hidden, 1) + conv(hidden, hidden, 3, hidden) + conv(hidden, cout, 1);
    const ch = [8, 8, 8, 16, 24];
    let params = conv(3, 8, 3) + conv(8 + 3, 3, 3);
    for (let l = 1; l <= 4; l++) params += block(ch[l - 1]!, ch[l]!, ch[l - 1]! * 4) + block(ch[l]!, ch[l]!, ch[l]! * 4);
    for (let l = 3; l >= 0; l--) params += block(ch[l + 1]! + ch[l]!, ch[l]!, ch[l]! * 2);
    const d = describeStudent(TINY, 4);
    expect(d.parameters).toBe(params);
    // The stem alone at 32² and the head at 64²: 32²·8·3·9 and 64²·3·11·9 multiply-adds, below the total.
    expect(d.macs).toBeGreaterThan(32 * 32 * 8 * 27 + 64 * 64 * 3 * 99);
    expect(d.trainingBytes).toBeGreaterThan(d.parameters * 4 * 4);
    expect(describeStudent(TINY, 8).trainingBytes).toBeGreaterThan(d.trainingBytes);
  });

  it('refuses out-of-range configs with a message naming the field', () => {
    const bad: [Partial<StudentConfig>, RegExp][] = [
      [{ size: 100 }, /size 100/],
      [{ size: 1024 }, /size 1024/],
      [{ width: 3 }, /width 3/],
      [{ width: Number.NaN }, /width NaN/],
      [{ activation: 'gelu' as never }, /activation "gelu"/],
      [{ residualScale: 0 }, /residualScale 0/],
    ];
    for (const [patch, message] of bad) {
      expect(() => buildStudentGraph({ ...DEFAULT_STUDENT, ...patch })).toThrow(StudentConfigError);
      expect(() => describeStudent({ ...DEFAULT_STUDENT, ...patch })).toThrow(message);
    }
    expect(() => describeStudent(DEFAULT_STUDENT, 0)).toThrow(/batch 0/);
  });

  it('starts close to the identity (the residual head is initialised small)', async () => {
    const { graph } = buildStudentGraph(TINY);
    const rng = new Rng(1, 'x');
    const x = Float32Array.from({ length: 3 * 64 * 64 }, () => rng.uniform());
    const y = await runForward(studentForwardModel(TINY, graph.initialParamValues()), x, 64);
    const maxDiff = y.reduce((m, v, i) => Math.max(m, Math.abs(v - x[i]!)), 0);
    expect(maxDiff).toBeGreaterThan(0);
    expect(maxDiff).toBeLessThan(0.05);
  });

  it('refuses weights that do not fit', () => {
    const weights = buildStudentGraph(TINY).graph.initialParamValues();
    weights.delete('head.bias');
    expect(() => studentForwardModel(TINY, weights)).toThrow(/head\.bias/);
  });

  it.skipIf(!hasTorch)('has the parameters and multiply-adds of the PyTorch twin', () => {
    for (const config of [DEFAULT_STUDENT, { ...TINY, width: 1.4 }]) {
      const d = describeStudent(config);
      expect(twin(config), JSON.stringify(config)).toEqual({ parameters: d.parameters, macs: d.macs });
    }
  });

  it.skipIf(!hasTorch)('computes what the PyTorch twin computes with the same weights', async () => {
    const config: StudentConfig = { size: 64, width: 0.5, activation: 'hardswish', residualScale: 0.8 };
    const { graph } = buildStudentGraph(config, { seed: 5 });
    const rng = new Rng(2, 'weights');
    // Larger random weights than the init so that every layer matters to the output.
    const weights = new Map(graph.params.map((p) => [p.name, Float32Array.from(p.init, (v) => v * 2 + 0.05 * rng.normal())]));
    const x = Float32Array.from({ length: 3 * 64 * 64 }, () => rng.uniform());
    const dir = mkdtempSync(join(tmpdir(), 'student-twin-'));
    try {
      const manifest: Record<string, [number, readonly number[]]> = {};
      let offset = 0;
      for (const p of graph.params) {
        manifest[p.name] = [offset, p.shape];
        offset += p.init.length;
      }
      const flat = new Float32Array(offset);
      for (const p of graph.params) flat.set(weights.get(p.name)!, manifest[p.name]![0]);
      writeFileSync(join(dir, 'weights.json'), JSON.stringify(manifest));
      writeFileSync(join(dir, 'weights.bin'), flat);
      writeFileSync(join(dir, 'input.bin'), x);
      twin(config, dir);
      const expected = new Float32Array(readFileSync(join(dir, 'output.bin')).buffer.slice(0));
      const got = await runForward(studentForwardModel(config, weights), x, 64);
      let maxDiff = 0;
      let maxRes = 0;
      for (let i = 0; i < got.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
        maxRes = Math.max(maxRes, Math.abs(expected[i]! - x[i]!));
      }
      expect(maxRes).toBeGreaterThan(0.01);
      expect(maxDiff).toBeLessThan(1e-4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes the finite-difference gradient check on a small student', async () => {
    const { graph, input, output } = buildStudentGraph(TINY, { seed: 3 });
    const rng = new Rng(4, 'in');
    const feeds = new Map([[input.name, Float32Array.from({ length: input.size }, () => rng.uniform())]]);
    const wrt = ['head.weight', 'enc1.0.depthwise.weight'].map((n) => graph.params.find((p) => p.name === n)!.tensor);
    const res = await gradCheck(graph, output, wrt, { feeds, samples: 3, h: 1e-4 });
    expect(res.forward).toBeLessThan(1e-5);
    for (const e of res.elementwise) expect(e).toBeLessThan(2e-2);
    for (const e of res.directional) expect(e).toBeLessThan(2e-2);
  }, 60_000);
});
