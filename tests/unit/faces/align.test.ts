// Face alignment, affine warps and paste-back against closed-form expectations.
import { describe, expect, it } from 'vitest';
import { applyAffine, composeAffine, invertAffine, similarity, type Affine } from '../../../src/shared/faces/affine.ts';
import { alignFace, eyeLineDegrees, keypointsInCrop } from '../../../src/shared/faces/align.ts';
import type { Point } from '../../../src/shared/faces/types.ts';
import { createImage, pasteBack, warpAffine, type PixelImage } from '../../../src/shared/faces/warp.ts';

// Right eye, left eye, nose, mouth, right ear, left ear of an upright face.
const upright: Point[] = [
  { x: 100, y: 100 },
  { x: 140, y: 100 },
  { x: 120, y: 125 },
  { x: 120, y: 150 },
  { x: 80, y: 110 },
  { x: 160, y: 110 },
];

function rotateAbout(points: Point[], degrees: number, c: Point): Point[] {
  const m = composeAffine(similarity(1, (degrees * Math.PI) / 180, c.x, c.y), [1, 0, -c.x, 0, 1, -c.y]);
  return points.map((p) => applyAffine(m, p));
}

/** A smooth RGB test image: gradients, so bilinear resampling is nearly exact. */
function smoothImage(width: number, height: number): PixelImage {
  const img = createImage(width, height, 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      img.data[o] = Math.round((x / width) * 200 + 20);
      img.data[o + 1] = Math.round((y / height) * 200 + 20);
      img.data[o + 2] = Math.round(((x + y) / (width + height)) * 200 + 20);
    }
  }
  return img;
}

describe('affine', () => {
  it('inverts and composes', () => {
    const m: Affine = [2, 0.5, 3, -0.25, 1.5, -7];
    const id = composeAffine(invertAffine(m), m);
    [1, 0, 0, 0, 1, 0].forEach((v, i) => expect(id[i]).toBeCloseTo(v, 12));
    const p = applyAffine(composeAffine(m, m), { x: 2, y: 5 });
    const q = applyAffine(m, applyAffine(m, { x: 2, y: 5 }));
    expect(p.x).toBeCloseTo(q.x, 12);
    expect(p.y).toBeCloseTo(q.y, 12);
  });
});

describe('alignFace', () => {
  it('frames an upright face the FFHQ way: half-side max(2·eyes, 1.8·eye-to-mouth), centre 0.1 towards the mouth', () => {
    const a = alignFace({ keypoints: upright }, 256);
    // eye distance 40 → 80; eye-to-mouth 50 → 90; centre (120, 105); scale 256 / 180
    const s = 256 / 180;
    expect(a.sourceSide).toBeCloseTo(180, 10);
    const [re, le, , mouth] = keypointsInCrop({ keypoints: upright }, a);
    expect(re!.x).toBeCloseTo(128 - 20 * s, 10);
    expect(re!.y).toBeCloseTo(128 - 5 * s, 10);
    expect(le!.x).toBeCloseTo(128 + 20 * s, 10);
    expect(mouth!.y).toBeCloseTo(128 + 45 * s, 10);
    const back = applyAffine(a.toSource, applyAffine(a.toCrop, { x: 33, y: 77 }));
    expect(back.x).toBeCloseTo(33, 10);
    expect(back.y).toBeCloseTo(77, 10);
  });

  it('undoes any in-plane rotation: the eyes land level at the same crop positions', () => {
    const reference = keypointsInCrop({ keypoints: upright }, alignFace({ keypoints: upright }, 512));
    for (const degrees of [-70, -25, 10, 45, 120]) {
      const rotated = rotateAbout(upright, degrees, { x: 300, y: 200 });
      const a = alignFace({ keypoints: rotated }, 512);
      expect((a.angle * 180) / Math.PI).toBeCloseTo(degrees, 8);
      const inCrop = keypointsInCrop({ keypoints: rotated }, a);
      expect(eyeLineDegrees(inCrop)).toBeCloseTo(0, 8);
      inCrop.forEach((p, k) => {
        expect(p.x).toBeCloseTo(reference[k]!.x, 6);
        expect(p.y).toBeCloseTo(reference[k]!.y, 6);
      });
    }
  });

  it('rejects a detection without keypoints', () => {
    expect(() => alignFace({ keypoints: [] }, 256)).toThrow(/6 keypoints/);
  });
});

describe('warpAffine', () => {
  it('reproduces the image under the identity and shifts it under an integer translation', () => {
    const src = smoothImage(40, 30);
    expect(warpAffine(src, [1, 0, 0, 0, 1, 0], 40, 30).data).toEqual(src.data);
    const shifted = warpAffine(src, [1, 0, 5, 0, 1, 3], 20, 10);
    for (let y = 0; y < 10; y++) {
      for (let x = 0; x < 20; x++) {
        for (let k = 0; k < 3; k++) expect(shifted.data[(y * 20 + x) * 3 + k]).toBe(src.data[((y + 3) * 40 + x + 5) * 3 + k]);
      }
    }
  });

  it('samples halfway between pixels as their mean (pixel centres at i + 0.5)', () => {
    const src: PixelImage = { data: Uint8Array.from([0, 100]), width: 2, height: 1, channels: 1 };
    // Output pixel 0's centre (0.5) maps to 1.0 in the source: halfway between the centres 0.5 and 1.5.
    expect(warpAffine(src, [1, 0, 0.5, 0, 1, 0], 1, 1).data[0]).toBe(50);
  });
});

describe('pasteBack', () => {
  it('puts an untouched aligned crop back without visibly changing the frame', () => {
    const frame = smoothImage(300, 260);
    const face = rotateAbout(upright, 20, { x: 120, y: 120 });
    const a = alignFace({ keypoints: face }, 256);
    const crop = warpAffine(frame, a.toSource, 256, 256);
    const pasted: PixelImage = { ...frame, data: Uint8Array.from(frame.data) };
    pasteBack(pasted, crop, a.toCrop, { feather: 16 });
    let maxDiff = 0;
    for (let i = 0; i < frame.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(frame.data[i]! - pasted.data[i]!));
    expect(maxDiff).toBeLessThanOrEqual(2);
  });

  it('replaces the face region and leaves pixels outside the crop untouched', () => {
    const frame = smoothImage(300, 260);
    const a = alignFace({ keypoints: upright }, 128);
    const red = createImage(128, 128, 3);
    for (let i = 0; i < red.data.length; i += 3) red.data[i] = 255;
    const pasted: PixelImage = { ...frame, data: Uint8Array.from(frame.data) };
    pasteBack(pasted, red, a.toCrop, { feather: 8 });
    const px = (img: PixelImage, x: number, y: number): number[] => [...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3)];
    // The crop's centre (120, 105) is fully replaced; a corner far outside the 180-px square is unchanged.
    expect(px(pasted, 120, 105)).toEqual([255, 0, 0]);
    expect(px(pasted, 5, 250)).toEqual(px(frame, 5, 250));
    expect(px(pasted, 295, 5)).toEqual(px(frame, 295, 5));
  });
});
