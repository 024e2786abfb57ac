// Time left of a running job from its progress reports: a steady rate gives the closed-form answer.
import { describe, expect, it } from 'vitest';
import { EtaEstimator, formatTimeLeft } from '../../../src/renderer/src/lib/eta.ts';

describe('EtaEstimator', () => {
  it('answers (total − step) ÷ rate from the first report it saw, and nothing before a rate exists', () => {
    const eta = new EtaEstimator();
    expect(eta.update(10, 110, 0)).toBeNull();
    expect(eta.update(10, 110, 5_000)).toBeNull();
    // 20 steps in 10 s since step 10: 2 steps/s, 80 steps to go.
    expect(eta.update(30, 110, 10_000)).toBeCloseTo(40);
    expect(eta.update(110, 110, 50_000)).toBeNull();
  });

  it('starts over when a resumed job reports an earlier step, and has no answer without a total', () => {
    const eta = new EtaEstimator();
    eta.update(50, 100, 0);
    expect(eta.update(20, 100, 2_000)).toBeNull();
    expect(eta.update(30, 100, 12_000)).toBeCloseTo(70);
    expect(new EtaEstimator().update(3, 0, 0)).toBeNull();
  });

  it('words the time left in rounded units', () => {
    expect(formatTimeLeft(0.4)).toBe('about 1 s left');
    expect(formatTimeLeft(42)).toBe('about 40 s left');
    expect(formatTimeLeft(12 * 60 + 10)).toBe('about 12 min left');
    expect(formatTimeLeft(2 * 3600 + 5 * 60)).toBe('about 2 h 5 min left');
  });
});
