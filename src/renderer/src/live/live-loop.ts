// The live preview's frame loop: read the camera into pixels, run the shared pipeline, draw the chosen view, time every stage.
import type { FaceDetection } from '../../../shared/faces/types.ts';
import type { PixelImage } from '../../../shared/faces/warp.ts';
import type { LiveFrame } from '../../../shared/live/pipeline.ts';

/** Whatever turns a camera frame into the view's frame: the in-page pipeline (onnxruntime-web) or the native worker. */
export interface FrameProcessor {
  /** `wantCrop`: the crop view needs the aligned input crop. */
  process(frame: PixelImage, time: number, options: { wantCrop: boolean }): Promise<LiveFrame>;
  /** Forgets the tracked face (a mirror flip). */
  resetTracking(): void;
}

/** How the output canvas shows a frame. */
export type LiveMode = 'effect' | 'side-by-side' | 'split' | 'crop';

/** Mean milliseconds per stage over the last frames, and frames per second over the last second. */
export interface LiveStats {
  fps: number;
  capture: number;
  detect: number;
  student: number;
  composite: number;
  /** Capture to drawn frame. */
  total: number;
  frames: number;
}

/** Where the tracked face is, in the frame's pixels, and the frame's size. */
export interface FacePlacement {
  face: FaceDetection | null;
  width: number;
  height: number;
}

/** Callbacks of a {@link LiveLoop}. */
export interface LiveLoopEvents {
  /** About four times a second. */
  onStats(stats: LiveStats): void;
  /** After every frame. */
  onFace(placement: FacePlacement): void;
  /** A frame failed (the loop stops). */
  onError(error: unknown): void;
}

/** Frames averaged for the per-stage means. */
const WINDOW = 30;
const STATS_INTERVAL_MS = 250;

/** One camera stream through the pipeline onto a canvas. */
export class LiveLoop {
  mode: LiveMode = 'effect';
  /** Position of the split line, 0–1 from the left: the effect shows left of it. */
  split = 0.5;
  readonly #video: HTMLVideoElement;
  readonly #canvas: HTMLCanvasElement;
  readonly #capture = document.createElement('canvas');
  readonly #events: LiveLoopEvents;
  #processor: FrameProcessor | null = null;
  #mirror = true;
  #isRunning = false;
  #samples: { capture: number; detect: number; student: number; composite: number; total: number }[] = [];
  #frameTimes: number[] = [];
  #lastStats = 0;
  #frames = 0;
  #last: { input: PixelImage; frame: LiveFrame } | null = null;

  constructor(video: HTMLVideoElement, canvas: HTMLCanvasElement, events: LiveLoopEvents) {
    this.#video = video;
    this.#canvas = canvas;
    this.#events = events;
  }

  /** Mirrors the camera image (a selfie view); the face is tracked afresh. */
  set mirror(value: boolean) {
    if (value !== this.#mirror) this.#processor?.resetTracking();
    this.#mirror = value;
  }

  get mirror(): boolean {
    return this.#mirror;
  }

  /** Swaps what processes the frames (a backend switch); the stream keeps playing. */
  setProcessor(processor: FrameProcessor): void {
    this.#processor = processor;
    // Stage means restart for the new backend; the frame rate is the stream's and carries on.
    this.#samples = [];
  }

  /** Plays `stream` and processes its frames until {@link stop}. */
  async start(stream: MediaStream): Promise<void> {
    this.#video.srcObject = stream;
    this.#video.muted = true;
    await this.#video.play();
    this.#isRunning = true;
    this.#processor?.resetTracking();
    this.#schedule();
  }

  /** Stops processing and releases the camera. */
  stop(): void {
    this.#isRunning = false;
    const stream = this.#video.srcObject;
    if (stream instanceof MediaStream) for (const track of stream.getTracks()) track.stop();
    this.#video.srcObject = null;
  }

  /** The last frame before and after the effect, side by side, as a PNG (null before the first frame). */
  async stillPng(): Promise<Blob | null> {
    if (this.#last === null) return null;
    const { input, frame } = this.#last;
    const canvas = document.createElement('canvas');
    canvas.width = input.width * 2;
    canvas.height = input.height;
    const ctx = canvas.getContext('2d')!;
    ctx.putImageData(toImageData(input), 0, 0);
    ctx.putImageData(toImageData(frame.output), input.width, 0);
    return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  }

  /** The last camera frame, unprocessed, as a PNG (null before the first frame). */
  async framePng(): Promise<Blob | null> {
    if (this.#last === null) return null;
    const canvas = document.createElement('canvas');
    canvas.width = this.#last.input.width;
    canvas.height = this.#last.input.height;
    canvas.getContext('2d')!.putImageData(toImageData(this.#last.input), 0, 0);
    return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  }

  #schedule(): void {
    if (!this.#isRunning) return;
    const video = this.#video;
    if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(() => void this.#tick());
    else requestAnimationFrame(() => void this.#tick());
  }

  async #tick(): Promise<void> {
    if (!this.#isRunning) return;
    try {
      if (this.#video.videoWidth > 0 && this.#processor !== null) await this.#processFrame(this.#processor);
      this.#schedule();
    } catch (error) {
      this.#isRunning = false;
      this.#events.onError(error);
    }
  }

  async #processFrame(processor: FrameProcessor): Promise<void> {
    const t0 = performance.now();
    const input = this.#grab();
    const t1 = performance.now();
    const frame = await processor.process(input, t0 / 1000, { wantCrop: this.mode === 'crop' });
    if (!this.#isRunning) return;
    const t2 = performance.now();
    this.#draw(input, frame);
    const t3 = performance.now();
    this.#last = { input, frame };
    this.#frames++;
    this.#events.onFace({ face: frame.face, width: input.width, height: input.height });
    this.#record(t3, {
      capture: t1 - t0,
      detect: frame.timings.detect,
      student: frame.timings.student,
      // The paste back and drawing the view are one stage for the user.
      composite: frame.timings.composite + (t3 - t2),
      total: t3 - t0,
    });
  }

  /** The current video frame as RGBA pixels, mirrored when asked. */
  #grab(): PixelImage {
    const { videoWidth: width, videoHeight: height } = this.#video;
    const c = this.#capture;
    if (c.width !== width || c.height !== height) {
      c.width = width;
      c.height = height;
    }
    const ctx = c.getContext('2d', { willReadFrequently: true })!;
    ctx.setTransform(this.#mirror ? -1 : 1, 0, 0, 1, this.#mirror ? width : 0, 0);
    ctx.drawImage(this.#video, 0, 0, width, height);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    return { data: ctx.getImageData(0, 0, width, height).data, width, height, channels: 4 };
  }

  #draw(input: PixelImage, frame: LiveFrame): void {
    const canvas = this.#canvas;
    const { width, height } = input;
    const size = (w: number, h: number): CanvasRenderingContext2D => {
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      return canvas.getContext('2d', { willReadFrequently: true })!;
    };
    switch (this.mode) {
      case 'effect':
        size(width, height).putImageData(toImageData(frame.output), 0, 0);
        break;
      case 'side-by-side': {
        const ctx = size(width * 2, height);
        ctx.putImageData(toImageData(input), 0, 0);
        ctx.putImageData(toImageData(frame.output), width, 0);
        break;
      }
      case 'split': {
        const ctx = size(width, height);
        const x = Math.round(Math.min(1, Math.max(0, this.split)) * width);
        ctx.putImageData(toImageData(frame.output), 0, 0);
        ctx.putImageData(toImageData(input), 0, 0, x, 0, width - x, height);
        break;
      }
      case 'crop': {
        const crop = frame.crop;
        if (crop === null) {
          size(width, height).putImageData(toImageData(frame.output), 0, 0);
          break;
        }
        const ctx = size(crop.width * 2, crop.height);
        ctx.putImageData(toImageData(crop), 0, 0);
        if (frame.cropOut !== null) ctx.putImageData(toImageData(frame.cropOut), crop.width, 0);
        else ctx.clearRect(crop.width, 0, crop.width, crop.height);
        break;
      }
    }
  }

  #record(now: number, sample: { capture: number; detect: number; student: number; composite: number; total: number }): void {
    this.#samples.push(sample);
    if (this.#samples.length > WINDOW) this.#samples.shift();
    this.#frameTimes.push(now);
    while (this.#frameTimes.length > 0 && now - this.#frameTimes[0]! > 1000) this.#frameTimes.shift();
    if (now - this.#lastStats < STATS_INTERVAL_MS) return;
    this.#lastStats = now;
    const mean = (k: keyof typeof sample): number => this.#samples.reduce((s, x) => s + x[k], 0) / this.#samples.length;
    // Frames within the last second; before a full second has passed, the rate over the time seen so far.
    const span = this.#frameTimes.length > 1 ? (now - this.#frameTimes[0]!) / 1000 : 0;
    const fps = span > 0 ? (this.#frameTimes.length - 1) / span : 0;
    this.#events.onStats({
      fps,
      capture: mean('capture'),
      detect: mean('detect'),
      student: mean('student'),
      composite: mean('composite'),
      total: mean('total'),
      frames: this.#frames,
    });
  }
}

function toImageData(image: PixelImage): ImageData {
  const data = image.data instanceof Uint8ClampedArray ? image.data : new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length);
  return new ImageData(data as Uint8ClampedArray<ArrayBuffer>, image.width, image.height);
}
