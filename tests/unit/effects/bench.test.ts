// Smoke run of the effects benchmark on the tiny generator: the report has the fields `bench effects --json` prints.
import { describe, expect, it } from 'vitest';
import { runEffectsBench } from '../../../src/main/bench/effects.ts';

describe('effects benchmark', () => {
  it('reports the preview latency, the relevance rate and the provider', async () => {
    const report = await runEffectsBench({ generator: 'tiny', previews: 2 });
    expect(report).toMatchObject({ bench: 'effects', generator: 'tiny', resolution: 32, styleChannels: 208, provider: 'cpu', preview: { seeds: 4 } });
    const preview = report.preview as { medianMs: number; runsMs: number[] };
    expect(preview.runsMs).toHaveLength(2);
    expect(preview.medianMs).toBeGreaterThan(0);
    expect((report.relevance as { rendersPerSecond: number }).rendersPerSecond).toBeGreaterThan(0);
  });
});
