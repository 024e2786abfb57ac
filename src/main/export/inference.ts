// Runs a packaged image-to-image model on one image tensor with onnxruntime-node (the studio's session factory).
import * as ort from 'onnxruntime-node';
import { createSession, type Session } from '../engine/runtime/index.ts';
import type { ManifestIo } from './manifest.ts';
import type { ImageTensor } from './preview.ts';

/** Opens a CPU session on model bytes: packages are checked on the provider every machine has. */
export function openModelSession(bytes: Uint8Array): Promise<Session> {
  return createSession(bytes, { providers: ['cpu'], shareCores: true });
}

/** Runs the model on one image and returns its output image. */
export async function runImage(session: Session, io: Pick<ManifestIo, 'input' | 'output'>, image: ImageTensor): Promise<ImageTensor> {
  const feeds = { [io.input.name]: new ort.Tensor('float32', image.data, io.input.shape) };
  const fetched = await session.run(feeds, [io.output.name]);
  const out = fetched[io.output.name];
  if (!out) throw new Error(`the model produced no output named "${io.output.name}"`);
  if (out.type !== 'float32') throw new Error(`output "${io.output.name}" is ${out.type}, expected float32`);
  const [, , height, width] = out.dims;
  return { data: new Float32Array(out.data as Float32Array), width: Number(width), height: Number(height) };
}

/** Largest absolute difference between two equally long float arrays. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`outputs differ in length: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Median milliseconds of `runs` runs of the model on one image (after one warm-up run). */
export async function measureMedianMs(session: Session, io: Pick<ManifestIo, 'input' | 'output'>, image: ImageTensor, runs = 10): Promise<number> {
  await runImage(session, io, image);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await runImage(session, io, image);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}
