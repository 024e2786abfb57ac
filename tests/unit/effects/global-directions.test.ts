// StyleCLIP edit arithmetic against direct small computations worked out by hand.
import { describe, expect, it } from 'vitest';
import {
  applyEdit,
  channelDirection,
  meanDirection,
  styleEdit,
  textDirection,
  type TextEmbedder,
} from '../../../src/main/effects/global-directions.ts';
import { IMAGENET_TEMPLATES, templatedPrompts } from '../../../src/main/effects/templates.ts';

describe('templates', () => {
  it('are CLIP’s 80 ImageNet templates without "a photo of many {}."', () => {
    expect(IMAGENET_TEMPLATES).toHaveLength(79);
    expect(new Set(IMAGENET_TEMPLATES).size).toBe(79);
    expect(IMAGENET_TEMPLATES).not.toContain('a photo of many {}.');
    for (const t of IMAGENET_TEMPLATES) expect(t.split('{}')).toHaveLength(2);
    expect(templatedPrompts('face')[0]).toBe('a bad photo of a face.');
  });
});

describe('directions', () => {
  it('averages normalised rows and normalises the mean', () => {
    // Rows (3, 4) and (0, 2): normalised (0.6, 0.8) and (0, 1); mean (0.3, 0.9); normalised (1, 3)/√10.
    const d = meanDirection(Float32Array.of(3, 4, 0, 2), 2, 2);
    expect(d[0]).toBeCloseTo(1 / Math.sqrt(10), 6);
    expect(d[1]).toBeCloseTo(3 / Math.sqrt(10), 6);
  });

  it('takes a channel direction as the normalised mean of normalised (plus − minus) differences', () => {
    // Image 1: minus (1, 0), plus (0, 1) → (−1, 1)/√2. Image 2: minus (2, 0), plus (2, 0) → zero difference stays zero.
    const d = channelDirection(Float32Array.of(1, 0, 2, 0), Float32Array.of(0, 1, 2, 0), 2, 2);
    expect(d[0]).toBeCloseTo(-Math.SQRT1_2, 6);
    expect(d[1]).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('embeds target and neutral through all 79 templates and normalises their difference', async () => {
    const seen: string[] = [];
    // A fake tower with a closed form: "beard" texts embed as (1, 1), the rest as (1, 0).
    const encoder: TextEmbedder = {
      dim: 2,
      encode: async (texts) => {
        seen.push(...texts);
        return Float32Array.from(texts.flatMap((t) => (t.includes('beard') ? [1, 1] : [1, 0])));
      },
    };
    const dt = await textDirection(encoder, 'face with a beard', 'face');
    expect(seen).toHaveLength(158);
    // (1,1)/√2 − (1,0) = (1/√2 − 1, 1/√2), normalised.
    const x = Math.SQRT1_2 - 1;
    const y = Math.SQRT1_2;
    expect(dt[0]).toBeCloseTo(x / Math.hypot(x, y), 6);
    expect(dt[1]).toBeCloseTo(y / Math.hypot(x, y), 6);
  });
});

describe('styleEdit and applyEdit', () => {
  // Three channels in a 2-d CLIP space; Δt = (1, 0).
  const directions = Float32Array.of(0.9, 0.1, -0.5, 0.5, 0.1, 0.9);
  const dt = Float32Array.of(1, 0);
  const sigma = Float32Array.of(2, 3, 4);

  it('zeroes channels below β, scales the rest by the largest |relevance| and by σ', () => {
    // r = (0.9, −0.5, 0.1); β 0.15 drops channel 3; Δs = (0.9/0.9·2, −0.5/0.9·3, 0).
    const e = styleEdit(directions, dt, sigma, 0.15);
    expect(e.touched).toBe(2);
    expect(e.maxRelevance).toBeCloseTo(0.9, 6);
    expect(e.delta[0]).toBeCloseTo(2, 6);
    expect(e.delta[1]).toBeCloseTo((-0.5 / 0.9) * 3, 6);
    expect(e.delta[2]).toBe(0);

    // s' = s + α·Δs on the editable positions only (position 1 is a toRGB style).
    const styles = Float32Array.of(1, 1, 1, 1, 10, 10, 10, 10);
    const edited = applyEdit(styles, 2, [0, 2, 3], e.delta, -2);
    const expected = [1 - 4, 1, 1 + (2 * 0.5 * 3) / 0.9, 1, 10 - 4, 10, 10 + (2 * 0.5 * 3) / 0.9, 10];
    expected.forEach((v, i) => expect(edited[i]).toBeCloseTo(v, 5));
  });

  it('touches nothing when β exceeds every relevance, and α = 0 changes nothing', () => {
    const none = styleEdit(directions, dt, sigma, 0.95);
    expect(none.touched).toBe(0);
    expect([...none.delta]).toEqual([0, 0, 0]);
    const styles = Float32Array.of(1, 2, 3, 4);
    expect([...applyEdit(styles, 1, [0, 2, 3], none.delta, 4.1)]).toEqual([1, 2, 3, 4]);
    const some = styleEdit(directions, dt, sigma, 0.05);
    expect(some.touched).toBe(3);
    expect([...applyEdit(styles, 1, [0, 2, 3], some.delta, 0)]).toEqual([1, 2, 3, 4]);
  });

  it('refuses mismatched sizes and a negative β', () => {
    expect(() => styleEdit(directions.subarray(0, 4), dt, sigma, 0.1)).toThrow(/not 3 channels of 2/);
    expect(() => styleEdit(directions, dt, sigma, -1)).toThrow(/β must be a number ≥ 0/);
  });
});
