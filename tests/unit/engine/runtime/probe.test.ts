// Device probe: every provider reported with a reason or a time, CPU preferred when nothing better runs, progress, cancel.
import { describe, expect, it } from 'vitest';
import { probeProviders } from '../../../../src/main/engine/runtime/index.ts';

describe('probeProviders', () => {
  it('reports each platform provider, times CPU, and prefers the best provider that ran', async () => {
    const progress: [number, number, string][] = [];
    const report = await probeProviders({ runs: 2, onProgress: (s, t, m) => progress.push([s, t, m]) });
    const names = report.providers.map((p) => p.name);
    expect(names[names.length - 1]).toBe('cpu');
    const cpu = report.providers.find((p) => p.name === 'cpu')!;
    expect(cpu.available).toBe(true);
    expect(cpu.reason).toBeNull();
    expect(cpu.ms).toBeGreaterThan(0);
    for (const p of report.providers) {
      if (p.available) expect(p.ms).not.toBeNull();
      else expect(p.reason, `${p.name} should say why it is unavailable`).toMatch(/\S/);
    }
    const firstWorking = report.providers.find((p) => p.available)!.name;
    expect(report.preferred).toBe(firstWorking);
    expect(report.platform).toBe(`${process.platform}/${process.arch}`);
    expect(Number.isNaN(Date.parse(report.checkedAt))).toBe(false);
    // Progress ends at total and never goes backwards.
    const last = progress[progress.length - 1]!;
    expect(last[0]).toBe(last[1]);
    expect(last[1]).toBe(names.length);
    for (let i = 1; i < progress.length; i++) expect(progress[i]![0]).toBeGreaterThanOrEqual(progress[i - 1]![0]);
  });

  it('probes only the providers asked for, and falls back to CPU as preferred', async () => {
    const foreign = process.platform === 'win32' ? 'coreml' : 'dml';
    const report = await probeProviders({ providers: [foreign, 'cpu'], runs: 1 });
    expect(report.providers.map((p) => [p.name, p.available])).toEqual([
      [foreign, false],
      ['cpu', true],
    ]);
    expect(report.providers[0]!.reason).toBe(`not available on ${process.platform}`);
    expect(report.preferred).toBe('cpu');
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    const run = probeProviders({
      providers: ['cpu'],
      runs: 1000,
      signal: controller.signal,
      onProgress: (step) => {
        if (step === 0) controller.abort(new Error('cancelled by user'));
      },
    });
    await expect(run).rejects.toThrow('cancelled by user');
  });
});
