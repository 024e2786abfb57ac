// Validation metrics: L1, PSNR and SSIM against closed forms and an independent PyTorch implementation.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/main/engine/graph/index.ts';
import { l1, psnr, PSNR_CAP, ssim, type ImageBatch } from '../../../src/main/student/metrics.ts';

const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) console.warn('metrics tests: /usr/bin/python3 with torch is absent; the PyTorch SSIM comparison is skipped');

function batch(n: number, c: number, h: number, w: number, f: (i: number) => number): ImageBatch {
  return { data: Float32Array.from({ length: n * c * h * w }, (_, i) => f(i)), n, channels: c, height: h, width: w };
}

describe('image metrics', () => {
  it('match closed forms for constant images', () => {
    const a = batch(2, 3, 16, 16, () => 0.25);
    const b = batch(2, 3, 16, 16, () => 0.75);
    expect(l1(a, b)).toBeCloseTo(0.5, 7);
    expect(psnr(a, b)).toBeCloseTo(10 * Math.log10(1 / 0.25), 5);
    // Constant planes: zero variance, so SSIM = (2ab + C1)/(a² + b² + C1).
    const c1 = 1e-4;
    expect(ssim(a, b)).toBeCloseTo((2 * 0.25 * 0.75 + c1) / (0.25 ** 2 + 0.75 ** 2 + c1), 6);
    expect(psnr(a, a)).toBe(PSNR_CAP);
    expect(ssim(a, a)).toBeCloseTo(1, 10);
  });

  it('PSNR of a uniform offset d is 20·log10(1/d), averaged per frame', () => {
    const rng = new Rng(1, 'm');
    const a = batch(2, 3, 12, 12, () => rng.uniform());
    const frame = 3 * 12 * 12;
    const b: ImageBatch = { ...a, data: a.data.map((v, i) => v + (i < frame ? 0.1 : 0.01)) };
    expect(psnr(a, b)).toBeCloseTo((20 * Math.log10(1 / 0.1) + 20 * Math.log10(1 / 0.01)) / 2, 3);
  });

  it('SSIM falls with noise and refuses tiny or mismatched images', () => {
    const rng = new Rng(2, 'n');
    const a = batch(1, 1, 32, 32, () => rng.uniform());
    const little = { ...a, data: a.data.map((v) => v + 0.02 * rng.normal()) };
    const lots = { ...a, data: a.data.map((v) => v + 0.2 * rng.normal()) };
    expect(ssim(a, little)).toBeGreaterThan(ssim(a, lots));
    expect(() => ssim(batch(1, 1, 8, 8, () => 0), batch(1, 1, 8, 8, () => 0))).toThrow(/smaller than the 11×11 window/);
    expect(() => l1(a, batch(1, 1, 32, 31, () => 0))).toThrow(/differ in shape/);
  });

  it.skipIf(!hasTorch)('SSIM equals a PyTorch implementation (Gaussian window, valid positions)', () => {
    const rng = new Rng(3, 's');
    const a = batch(2, 3, 24, 20, () => rng.uniform());
    const b: ImageBatch = { ...a, data: a.data.map((v) => Math.min(1, Math.max(0, v * 0.8 + 0.1 + 0.1 * rng.normal()))) };
    const script = `
import json, sys, torch
import torch.nn.functional as F
d = json.load(sys.stdin)
x = torch.tensor(d['a'], dtype=torch.float64).reshape(2, 3, 24, 20)
y = torch.tensor(d['b'], dtype=torch.float64).reshape(2, 3, 24, 20)
g = torch.exp(-((torch.arange(11, dtype=torch.float64) - 5) ** 2) / (2 * 1.5 ** 2)); g = g / g.sum()
k = (g[:, None] * g[None, :]).expand(3, 1, 11, 11)
f = lambda t: F.conv2d(t, k, groups=3)
mx, my = f(x), f(y)
vx, vy, cxy = f(x * x) - mx ** 2, f(y * y) - my ** 2, f(x * y) - mx * my
s = ((2 * mx * my + 1e-4) * (2 * cxy + 9e-4)) / ((mx ** 2 + my ** 2 + 1e-4) * (vx + vy + 9e-4))
print(float(s.mean()))`;
    const out = execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify({ a: [...a.data], b: [...b.data] }), encoding: 'utf8' });
    expect(ssim(a, b)).toBeCloseTo(Number(out), 6);
  });
});
