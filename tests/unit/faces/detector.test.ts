// BlazeFace on onnxruntime-node: finds the real face in the astronaut photo, none in face-free images, and aligns it level.
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyAffine } from '../../../src/shared/faces/affine.ts';
import { eyeLineDegrees } from '../../../src/shared/faces/align.ts';
import { Keypoint, type Point } from '../../../src/shared/faces/types.ts';
import type { PixelImage } from '../../../src/shared/faces/warp.ts';
import { alignedCrop } from '../../../src/main/faces/crop.ts';
import { FaceDetector } from '../../../src/main/faces/detector.ts';
import { decodePixels } from '../../../src/main/faces/pixels.ts';

const ASTRONAUT = fileURLToPath(new URL('../../fixtures/faces/astronaut.png', import.meta.url));
// Pupil centres hand-labelled on the 512×512 photo (person's right eye, then left eye), read off 16× zooms.
const LABELLED_EYES: [Point, Point] = [
  { x: 203.1, y: 101.1 },
  { x: 246.7, y: 103.4 },
];

let detector: FaceDetector;
beforeAll(async () => {
  detector = await FaceDetector.create();
});
afterAll(async () => {
  await detector.release();
});

/** The photo turned by `degrees` (clockwise on screen) on a grey canvas, and where the labelled eyes went. */
async function rotatedAstronaut(degrees: number): Promise<{ image: PixelImage; eyes: Point[] }> {
  const { data, info } = await sharp(ASTRONAUT).rotate(degrees, { background: '#808080' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const t = (degrees * Math.PI) / 180;
  const eyes = LABELLED_EYES.map((p) => {
    const x = p.x - 256;
    const y = p.y - 256;
    return { x: Math.cos(t) * x - Math.sin(t) * y + info.width / 2, y: Math.sin(t) * x + Math.cos(t) * y + info.height / 2 };
  });
  return { image: { data, width: info.width, height: info.height, channels: info.channels }, eyes };
}

function labelledEyeAngleInCrop(eyes: Point[], toCrop: Parameters<typeof applyAffine>[0]): number {
  const [r, l] = eyes.map((p) => applyAffine(toCrop, p));
  return (Math.atan2(l!.y - r!.y, l!.x - r!.x) * 180) / Math.PI;
}

describe('FaceDetector', () => {
  it('finds exactly one face in the astronaut photo, its box over the face and its eyes on the pupils', async () => {
    const image = await decodePixels(ASTRONAUT);
    const faces = await detector.findFaces(image);
    expect(faces).toHaveLength(1);
    const face = faces[0]!;
    expect(face.score).toBeGreaterThan(0.75);
    const { box } = face;
    for (const eye of LABELLED_EYES) {
      expect(eye.x).toBeGreaterThan(box.x);
      expect(eye.x).toBeLessThan(box.x + box.width);
      expect(eye.y).toBeGreaterThan(box.y);
      expect(eye.y).toBeLessThan(box.y + box.height);
    }
    // The face is ~90 px across in this photo.
    expect(box.width).toBeGreaterThan(60);
    expect(box.width).toBeLessThan(140);
    const eyes = [face.keypoints[Keypoint.rightEye]!, face.keypoints[Keypoint.leftEye]!];
    eyes.forEach((p, i) => expect(Math.hypot(p.x - LABELLED_EYES[i]!.x, p.y - LABELLED_EYES[i]!.y)).toBeLessThan(5));
  });

  it('finds no face in face-free images: a gradient, noise and flat grey', async () => {
    const gradient = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#000' } })
      .composite([{ input: Buffer.from('<svg width="320" height="240"><defs><linearGradient id="g"><stop offset="0" stop-color="#203080"/><stop offset="1" stop-color="#f0c060"/></linearGradient></defs><rect width="320" height="240" fill="url(#g)"/></svg>') }])
      .raw()
      .toBuffer({ resolveWithObject: true });
    const noise = await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const grey = await sharp({ create: { width: 200, height: 300, channels: 3, background: '#777' } }).raw().toBuffer({ resolveWithObject: true });
    for (const { data, info } of [gradient, noise, grey]) {
      const faces = await detector.findFaces({ data, width: info.width, height: info.height, channels: info.channels });
      expect(faces).toEqual([]);
    }
  });

  it('aligns the face with its eye line level within 2°, upright and on rotated copies', async () => {
    for (const degrees of [0, 25, -30]) {
      const { image, eyes } = await rotatedAstronaut(degrees);
      const faces = await detector.findFaces(image);
      expect(faces.length, `a face at ${degrees}°`).toBe(1);
      const { crop, alignment } = await alignedCrop(image, faces[0]!, 256);
      expect(crop.width).toBe(256);
      expect(Math.abs(labelledEyeAngleInCrop(eyes, alignment.toCrop)), `eye line at ${degrees}°`).toBeLessThan(2);
      // The crop is a face the detector itself sees upright.
      const again = await detector.detect(crop);
      expect(again.length).toBeGreaterThan(0);
      expect(Math.abs(eyeLineDegrees(again[0]!.keypoints))).toBeLessThan(4);
    }
  });

  it('makes 512-pixel crops of large photos through a pre-shrink, with the same framing', async () => {
    const big = await decodePixels(await sharp(ASTRONAUT).resize(1536).png().toBuffer());
    const faces = await detector.findFaces(big);
    const { crop, alignment } = await alignedCrop(big, faces[0]!, 512);
    expect(crop.width).toBe(512);
    const eyes = LABELLED_EYES.map((p) => ({ x: p.x * 3, y: p.y * 3 }));
    expect(Math.abs(labelledEyeAngleInCrop(eyes, alignment.toCrop))).toBeLessThan(2);
    // FFHQ framing: the eyes sit about a quarter of the crop apart, a little above its middle.
    const [r, l] = eyes.map((p) => applyAffine(alignment.toCrop, p));
    expect((l!.x - r!.x) / 512).toBeGreaterThan(0.2);
    expect((l!.x - r!.x) / 512).toBeLessThan(0.3);
    expect(r!.y / 512).toBeGreaterThan(0.3);
    expect(r!.y / 512).toBeLessThan(0.5);
  });
});
