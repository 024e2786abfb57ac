// The live pipeline on the astronaut photo with BlazeFace and a real student on onnxruntime-node: crop as in training, paste back only inside.
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignedCrop } from '../../../src/main/faces/crop.ts';
import { blazeFaceModelPath } from '../../../src/main/faces/detector.ts';
import { decodePixels } from '../../../src/main/faces/pixels.ts';
import { buildStudentGraph, STUDENT_INPUT, STUDENT_OUTPUT, studentForwardModel } from '../../../src/main/student/model.ts';
import { BLAZEFACE } from '../../../src/shared/faces/blazeface.ts';
import type { FaceDetection } from '../../../src/shared/faces/types.ts';
import type { PixelImage } from '../../../src/shared/faces/warp.ts';
import {
  adaptStudentIo,
  alignedFrameCrop,
  cropToTensor,
  letterboxFrame,
  LivePipeline,
  resizeArea,
  tensorToCrop,
  type RunDetector,
  type StudentRunner,
} from '../../../src/shared/live/pipeline.ts';
import type { StudentConfig } from '../../../src/shared/student/types.ts';

const ASTRONAUT = fileURLToPath(new URL('../../fixtures/faces/astronaut.png', import.meta.url));
const EYES = [
  { x: 203.1, y: 101.1 },
  { x: 246.7, y: 103.4 },
];

let detector: ort.InferenceSession;
let studentSession: ort.InferenceSession;
const STUDENT: StudentConfig = { size: 64, width: 0.25, activation: 'relu6', residualScale: 0.5 };

const detect: RunDetector = async (input) => {
  const out = await detector.run({ [BLAZEFACE.inputName]: new ort.Tensor('float32', input, [1, 128, 128, 3]) });
  const get = (n: string): Float32Array => out[n]!.data as Float32Array;
  return {
    scores: [get(BLAZEFACE.scoreNames[0]), get(BLAZEFACE.scoreNames[1])],
    regressors: [get(BLAZEFACE.regressorNames[0]), get(BLAZEFACE.regressorNames[1])],
  };
};

const student: StudentRunner = {
  size: STUDENT.size,
  run: async (input) => {
    const out = await studentSession.run({ [STUDENT_INPUT]: new ort.Tensor('float32', input, [1, 3, STUDENT.size, STUDENT.size]) });
    return out[STUDENT_OUTPUT]!.data as Float32Array;
  },
};

beforeAll(async () => {
  detector = await ort.InferenceSession.create(blazeFaceModelPath(), { logSeverityLevel: 3 });
  // The initial weights with the head's bias pushed up: a real student whose residual is plainly visible.
  const weights = buildStudentGraph(STUDENT).graph.initialParamValues();
  weights.set('head.bias', new Float32Array([1, 1, 1]));
  studentSession = await ort.InferenceSession.create(studentForwardModel(STUDENT, weights));
});

afterAll(async () => {
  await detector.release();
  await studentSession.release();
});

function rgba(image: PixelImage): PixelImage {
  const data = new Uint8Array(image.width * image.height * 4);
  for (let i = 0; i < image.width * image.height; i++) {
    data.set(image.data.subarray(i * 3, i * 3 + 3), i * 4);
    data[i * 4 + 3] = 255;
  }
  return { data, width: image.width, height: image.height, channels: 4 };
}

describe('pixel helpers', () => {
  it('resizeArea averages whole blocks exactly', () => {
    const src: PixelImage = { data: Uint8Array.from({ length: 16 }, (_, i) => i * 10), width: 4, height: 4, channels: 1 };
    const out = resizeArea(src, 2, 2);
    // Each output pixel is the mean of a 2×2 block: (0+10+40+50)/4 = 25, …
    expect([...out.data]).toEqual([25, 45, 105, 125]);
  });

  it('letterboxes a 640×480 frame into 128×96 between black bars', () => {
    const frame: PixelImage = { data: new Uint8Array(640 * 480 * 4).fill(200), width: 640, height: 480, channels: 4 };
    const { image, letterbox } = letterboxFrame(frame);
    expect([letterbox.contentWidth, letterbox.contentHeight, letterbox.padX, letterbox.padY]).toEqual([128, 96, 0, 16]);
    expect(image.channels).toBe(3);
    expect(image.data[(8 * 128 + 64) * 3]).toBe(0);
    expect(image.data[(64 * 128 + 64) * 3]).toBe(200);
  });

  it('round-trips a crop through the student tensor layout', () => {
    const crop: PixelImage = { data: Uint8Array.from({ length: 4 * 4 * 4 }, (_, i) => (i * 37) % 256), width: 4, height: 4, channels: 4 };
    const back = tensorToCrop(cropToTensor(crop), 4, 4);
    for (let i = 0; i < 16; i++) {
      expect([...back.data.subarray(i * 4, i * 4 + 3)]).toEqual([...crop.data.subarray(i * 4, i * 4 + 3)]);
      expect(back.data[i * 4 + 3]).toBe(255);
    }
  });
});

describe('adaptStudentIo', () => {
  it('feeds a BGR [-1, 1] model what it expects and maps its answer back to RGB [0, 1]', async () => {
    const seen: Float32Array[] = [];
    // A model that returns its input negated (in its own value space).
    const model = async (x: Float32Array): Promise<Float32Array> => {
      seen.push(x);
      return x.map((v) => -v);
    };
    // Two pixels, planar: R = [0, 0.5], G = [1, 0.25], B = [0.75, 0.5].
    const rgb = Float32Array.from([0, 0.5, 1, 0.25, 0.75, 0.5]);
    const out = await adaptStudentIo(model, { colorOrder: 'BGR', valueRange: [-1, 1] })(rgb);
    // In: the B plane first, then G, then R, each value v → 2v − 1.
    expect([...seen[0]!]).toEqual([0.5, 0, 1, -0.5, -1, 0]);
    // Out: −(2v − 1) mapped back is 1 − v, channels back in RGB order.
    expect([...out]).toEqual([1, 0.5, 0, 0.75, 0.25, 0.5]);
    expect(adaptStudentIo(model, { colorOrder: 'RGB', valueRange: [0, 1] })).toBe(model);
  });
});

describe('LivePipeline', () => {
  it('runs BlazeFace on every k-th frame while a face is tracked, and on every frame while none is', async () => {
    const photo = await decodePixels(ASTRONAUT);
    const blank: PixelImage = { data: new Uint8Array(photo.data.length).fill(128), width: photo.width, height: photo.height, channels: photo.channels };
    let calls = 0;
    const counted: RunDetector = async (input) => {
      calls++;
      return detect(input);
    };
    const pipeline = new LivePipeline(counted, null, { detectEvery: 3 });
    const detected: boolean[] = [];
    for (let i = 0; i < 7; i++) detected.push((await pipeline.track(photo, i / 30)).isDetected);
    expect(detected).toEqual([true, false, false, true, false, false, true]);
    expect(calls).toBe(3);
    const faces: (FaceDetection | null)[] = [];
    calls = 0;
    pipeline.resetTracking();
    for (let i = 0; i < 3; i++) faces.push((await pipeline.track(blank, 1 + i / 30)).face);
    expect(faces).toEqual([null, null, null]);
    expect(calls).toBe(3);
    expect(() => new LivePipeline(counted, null, { detectEvery: 0 })).toThrow(/detectEvery must be a whole number ≥ 1, got 0/);
  });

  it('crops the astronaut exactly as training crops are made', async () => {
    const photo = await decodePixels(ASTRONAUT);
    const pipeline = new LivePipeline(detect, null);
    const { face } = await pipeline.process(photo, 0);
    expect(face).not.toBeNull();
    const ours = alignedFrameCrop(photo, face!, 256);
    const training = await alignedCrop(photo, face!, 256);
    expect(ours.alignment.toCrop).toEqual(training.alignment.toCrop);
    expect(Buffer.from(ours.crop.data).equals(Buffer.from(training.crop.data))).toBe(true);
  });

  it('finds the face, changes it with the student and leaves the rest of the frame untouched', async () => {
    const frame = rgba(await decodePixels(ASTRONAUT));
    const before = new Uint8Array(frame.data);
    const pipeline = new LivePipeline(detect, student);
    const result = await pipeline.process(frame, 0);
    expect(Buffer.from(frame.data).equals(Buffer.from(before))).toBe(true);
    const { box } = result.face!;
    for (const eye of EYES) {
      expect(eye.x).toBeGreaterThan(box.x);
      expect(eye.x).toBeLessThan(box.x + box.width);
      expect(eye.y).toBeGreaterThan(box.y);
      expect(eye.y).toBeLessThan(box.y + box.height);
    }
    expect(result.crop?.width).toBe(64);
    const diff = (x0: number, y0: number, side: number): number => {
      let max = 0;
      for (let y = y0; y < y0 + side; y++) {
        for (let x = x0; x < x0 + side; x++) {
          const p = (y * 512 + x) * 4;
          for (let k = 0; k < 3; k++) max = Math.max(max, Math.abs(result.output.data[p + k]! - frame.data[p + k]!));
        }
      }
      return max;
    };
    expect(diff(215, 100, 20)).toBeGreaterThan(40);
    expect(diff(0, 470, 40)).toBe(0);
    expect(diff(470, 470, 40)).toBe(0);
    for (const t of Object.values(result.timings)) expect(t).toBeGreaterThanOrEqual(0);
  });
});
