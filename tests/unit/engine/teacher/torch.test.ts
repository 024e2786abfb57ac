// The ONNX teacher against a PyTorch transcription of stylegan2-ada-pytorch (bench/torch/teacher.py), where torch exists.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTeacher, TeacherSampler, writeRandomTeacher } from '../../../../src/main/engine/teacher/index.ts';
import { maxAbsDiff, std } from './support.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('../../../../bench/torch/teacher.py', import.meta.url).pathname;
const hasTorch = spawnSync(PYTHON, ['-c', 'import numpy, torch'], { encoding: 'utf8' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'teacher-torch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(hasTorch)('PyTorch transcription', () => {
  it.each([1, 0])('renders the same images from the same file and seeds (fused_modconv=%i)', async (fused) => {
    const weightsPath = join(dir, 'tiny.safetensors');
    await writeRandomTeacher(weightsPath, { seed: 9 });
    const out = join(dir, `torch-${fused}.bin`);
    const run = spawnSync(
      PYTHON,
      [SCRIPT, 'forward', '--weights', weightsPath, '--seeds', '11,12', '--psi', '0.8', '--out', out, '--threads', '1', '--fused', String(fused)],
      { encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    const torchImages = new Float32Array(readFileSync(out).buffer.slice(0));

    const sampler = await TeacherSampler.create(await loadTeacher(weightsPath), { batch: 2, providers: ['cpu'], threads: 1, shareCores: true });
    try {
      const ours = await sampler.render([11, 12], 0.8);
      expect(std(torchImages)).toBeGreaterThan(0.2);
      expect(maxAbsDiff(ours.images, torchImages)).toBeLessThanOrEqual(1e-4);
    } finally {
      await sampler.release();
    }
  });
});
