// BlazeFace face detection on onnxruntime-node: letterbox with sharp, run the front model, decode with the shared maths.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { BLAZEFACE, blazeFaceInput, postprocessBlazeFace, type BlazeFaceOptions } from '../../shared/faces/blazeface.ts';
import { alignFace } from '../../shared/faces/align.ts';
import { computeLetterbox } from '../../shared/faces/letterbox.ts';
import { refineFace, scaleDetection } from '../../shared/faces/refine.ts';
import type { FaceDetection } from '../../shared/faces/types.ts';
import type { PixelImage } from '../../shared/faces/warp.ts';
import { createSession, type Session } from '../engine/runtime/session.ts';
import type { ProviderName } from '../../shared/contract.ts';
import { fromPixels, resizePixels } from './pixels.ts';

const MODEL_FILE = 'resources/models/blazeface/face_detection_front_128x128.onnx';

/**
 * Where the vendored BlazeFace front model lives: three folders up from this source file, or, in electron-vite's
 * bundle, two up from out/main (three from a shared chunk below it).
 */
export function blazeFaceModelPath(): string {
  const candidates = ['../../../', '../../'].map((up) => fileURLToPath(new URL(up + MODEL_FILE, import.meta.url)));
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) throw new Error(`The BlazeFace model is missing; looked for ${candidates.join(' and ')}`);
  return found;
}

/** Options of {@link FaceDetector.create}. */
export interface FaceDetectorOptions extends BlazeFaceOptions {
  /** The `.onnx` file; default {@link blazeFaceModelPath}. */
  modelPath?: string;
  /** Execution providers to try, best first; default CPU (a 128² model gains nothing from a GPU round trip). */
  providers?: readonly ProviderName[];
  /** Intra-op threads; default 1, since imports run detection beside decoding on the same cores. */
  threads?: number;
}

/** Options of {@link FaceDetector.findFaces}. */
export interface FindFacesOptions {
  /** Refinement rounds per face (see `refineFace`); 0 keeps the single-shot detections. Default 2. */
  refinePasses?: number;
  /** Refine at most this many faces, best first; the rest are dropped. Default 4. */
  maxFaces?: number;
}

/** A face's side in the refinement crop's source is brought down to this many pixels (1.5× the model input). */
const REFINE_SOURCE_SIDE = 192;

/** A hot BlazeFace session. Create one per worker and reuse it; `release()` when done. */
export class FaceDetector {
  readonly #session: Session;
  readonly #options: BlazeFaceOptions;

  private constructor(session: Session, options: BlazeFaceOptions) {
    this.#session = session;
    this.#options = options;
  }

  /** Loads the model. */
  static async create(options: FaceDetectorOptions = {}): Promise<FaceDetector> {
    const session = await createSession(options.modelPath ?? blazeFaceModelPath(), {
      providers: options.providers ?? ['cpu'],
      threads: options.threads ?? 1,
      shareCores: true,
      // The converted model carries unused initializers that ORT warns about on every load.
      logSeverityLevel: 3,
    });
    const thresholds: BlazeFaceOptions = {};
    if (options.minScore !== undefined) thresholds.minScore = options.minScore;
    if (options.nmsIou !== undefined) thresholds.nmsIou = options.nmsIou;
    return new FaceDetector(session, thresholds);
  }

  /** The provider the model runs on. */
  get provider(): ProviderName {
    return this.#session.provider;
  }

  /**
   * Faces in `image` (RGB pixels, orientation already applied), best first, in the image's pixels. Any size: the
   * image is letterboxed into the model's 128×128 input, which suits faces that fill a good part of the frame
   * (the front model's range, about 2 m from a camera).
   */
  async detect(image: PixelImage): Promise<FaceDetection[]> {
    const size = BLAZEFACE.inputSize;
    const lb = computeLetterbox(image.width, image.height, size);
    const { data } = await fromPixels(image)
      .resize(lb.contentWidth, lb.contentHeight, { fit: 'fill' })
      .extend({
        top: lb.padY,
        bottom: size - lb.contentHeight - lb.padY,
        left: lb.padX,
        right: size - lb.contentWidth - lb.padX,
        background: { r: 0, g: 0, b: 0 },
      })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const input = blazeFaceInput({ data, width: size, height: size, channels: image.channels });
    const out = await this.#session.run({ [BLAZEFACE.inputName]: new ort.Tensor('float32', input, [1, size, size, 3]) });
    const get = (name: string): Float32Array => {
      const t = out[name];
      if (t === undefined) throw new Error(`BlazeFace: the model has no output ${name}`);
      return t.data as Float32Array;
    };
    return postprocessBlazeFace(
      [get(BLAZEFACE.scoreNames[0]), get(BLAZEFACE.scoreNames[1])],
      [get(BLAZEFACE.regressorNames[0]), get(BLAZEFACE.regressorNames[1])],
      lb,
      this.#options,
    );
  }

  /**
   * Faces in `image` with refined landmarks (see `refineFace`), best first. Detections that the detector does not
   * confirm on their own aligned crop are dropped as false positives.
   */
  async findFaces(image: PixelImage, options: FindFacesOptions = {}): Promise<FaceDetection[]> {
    const passes = options.refinePasses ?? 2;
    const first = (await this.detect(image)).slice(0, options.maxFaces ?? 4);
    if (passes === 0) return first;
    const detect = (crop: PixelImage): Promise<FaceDetection[]> => this.detect(crop);
    const found: FaceDetection[] = [];
    for (const face of first) {
      const side = alignFace(face, BLAZEFACE.inputSize).sourceSide;
      let refined: FaceDetection | null;
      if (side <= 2 * REFINE_SOURCE_SIDE) {
        refined = await refineFace(detect, image, face, { inputSize: BLAZEFACE.inputSize, passes });
      } else {
        // A big face is shrunk first (sharp's Lanczos) so the crop's bilinear warp does not alias.
        const k = REFINE_SOURCE_SIDE / side;
        const small = await resizePixels(image, Math.max(1, Math.round(image.width * k)), Math.max(1, Math.round(image.height * k)));
        const kx = image.width / small.width;
        const ky = image.height / small.height;
        const onSmall = await refineFace(detect, small, scaleDetection(face, 1 / kx, 1 / ky), {
          inputSize: BLAZEFACE.inputSize,
          passes,
        });
        refined = onSmall === null ? null : scaleDetection(onSmall, kx, ky);
      }
      if (refined !== null) found.push(refined);
    }
    return found.sort((a, b) => b.score - a.score);
  }

  /** Frees the session. */
  async release(): Promise<void> {
    await this.#session.release();
  }
}
