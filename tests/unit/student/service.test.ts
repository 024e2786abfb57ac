// What a training request checks itself before queueing: every pair of a small dataset, an even spread of a large one.
import { describe, expect, it } from 'vitest';
import { PAIRS_CHECKED_BEFORE_QUEUEING, spreadSample } from '../../../src/main/student/service.ts';

describe('spreadSample', () => {
  it('keeps everything up to the limit and spreads evenly beyond it, first and last included', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    expect(spreadSample(items, 10)).toEqual(items);
    expect(spreadSample(items, 4)).toEqual([0, 3, 6, 9]);
    const many = Array.from({ length: 100_000 }, (_, i) => i);
    const sample = spreadSample(many, PAIRS_CHECKED_BEFORE_QUEUEING);
    expect(sample).toHaveLength(PAIRS_CHECKED_BEFORE_QUEUEING);
    expect(sample[0]).toBe(0);
    expect(sample.at(-1)).toBe(99_999);
    expect(new Set(sample).size).toBe(PAIRS_CHECKED_BEFORE_QUEUEING);
  });
});
