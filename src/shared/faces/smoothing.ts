// Temporal smoothing of face detections for video: a One Euro filter per coordinate, so the live crop does not jitter.
import type { FaceDetection } from './types.ts';

/** Settings of a {@link OneEuroFilter} (Casiez, Roussel, Vogel 2012). */
export interface OneEuroSettings {
  /** Cut-off frequency in Hz when the value is still: lower smooths more (and lags more). */
  minCutoff: number;
  /** How fast the cut-off rises with speed (per unit of speed): higher follows fast moves with less lag. */
  beta: number;
  /** Cut-off frequency in Hz of the speed estimate itself. */
  derivativeCutoff: number;
}

/** The smoothing factor of a first-order low-pass at `cutoff` Hz sampled every `dt` seconds. */
export function lowPassAlpha(cutoff: number, dt: number): number {
  const tau = 1 / (2 * Math.PI * cutoff);
  return 1 / (1 + tau / dt);
}

/** One Euro filter over one scalar: an adaptive low-pass whose cut-off grows with the signal's speed. */
export class OneEuroFilter {
  readonly #settings: OneEuroSettings;
  #value: number | null = null;
  #speed = 0;

  constructor(settings: OneEuroSettings) {
    this.#settings = settings;
  }

  /** Filters the next sample, taken `dt` seconds after the previous one (the first sample passes through). */
  next(x: number, dt: number): number {
    if (this.#value === null || !(dt > 0)) {
      this.#value = x;
      this.#speed = 0;
      return x;
    }
    const { minCutoff, beta, derivativeCutoff } = this.#settings;
    const rawSpeed = (x - this.#value) / dt;
    const a = lowPassAlpha(derivativeCutoff, dt);
    this.#speed += a * (rawSpeed - this.#speed);
    const alpha = lowPassAlpha(minCutoff + beta * Math.abs(this.#speed), dt);
    this.#value += alpha * (x - this.#value);
    return this.#value;
  }

  /** Forgets the history: the next sample passes through. */
  reset(): void {
    this.#value = null;
    this.#speed = 0;
  }
}

/**
 * Defaults for face coordinates expressed in face sizes (see {@link DetectionSmoother}), tuned at 30 fps: ±3 px of
 * detector jitter on a 100 px face shrinks ~3×, and a head moving one face width per second lags ~2% of its width.
 */
export const FACE_SMOOTHING: OneEuroSettings = { minCutoff: 0.5, beta: 4, derivativeCutoff: 1 };

/** How long a face may go undetected before the tracker lets it go, in seconds. */
export const FACE_HOLD_SECONDS = 0.3;

/**
 * Smooths one tracked face over time: the box and all six keypoints, each coordinate through its own
 * {@link OneEuroFilter}. Coordinates are divided by the face's size before filtering, so the same settings hold for a
 * face near the camera and one far from it. A face missing for less than {@link FACE_HOLD_SECONDS} keeps its last
 * smoothed position; a jump to a face that does not overlap the tracked one restarts the filters.
 */
export class DetectionSmoother {
  readonly #settings: OneEuroSettings;
  #filters: OneEuroFilter[] = [];
  #last: FaceDetection | null = null;
  #lastSeen = -Infinity;
  #lastTime = -Infinity;

  constructor(settings: OneEuroSettings = FACE_SMOOTHING) {
    this.#settings = settings;
  }

  /** The smoothed face for a frame at `time` seconds given this frame's best detection (or null when none was found). */
  next(detection: FaceDetection | null, time: number): FaceDetection | null {
    if (detection === null) {
      if (time - this.#lastSeen > FACE_HOLD_SECONDS) this.reset();
      return this.#last;
    }
    if (this.#last === null || !overlaps(this.#last, detection)) this.reset();
    const values = flatten(detection);
    if (this.#filters.length !== values.length) this.#filters = values.map(() => new OneEuroFilter(this.#settings));
    const scale = Math.max(1, detection.box.width, detection.box.height);
    const dt = time - this.#lastTime;
    const smoothed = values.map((v, i) => this.#filters[i]!.next(v / scale, dt) * scale);
    this.#last = unflatten(smoothed, detection.score);
    this.#lastSeen = time;
    this.#lastTime = time;
    return this.#last;
  }

  /** Forgets the tracked face. */
  reset(): void {
    for (const f of this.#filters) f.reset();
    this.#last = null;
    this.#lastSeen = -Infinity;
    this.#lastTime = -Infinity;
  }
}

function flatten(d: FaceDetection): number[] {
  return [d.box.x, d.box.y, d.box.width, d.box.height, ...d.keypoints.flatMap((p) => [p.x, p.y])];
}

function unflatten(v: number[], score: number): FaceDetection {
  const keypoints = [];
  for (let i = 4; i + 1 < v.length; i += 2) keypoints.push({ x: v[i]!, y: v[i + 1]! });
  return { score, box: { x: v[0]!, y: v[1]!, width: v[2]!, height: v[3]! }, keypoints };
}

function overlaps(a: FaceDetection, b: FaceDetection): boolean {
  return (
    a.box.x < b.box.x + b.box.width && b.box.x < a.box.x + a.box.width && a.box.y < b.box.y + b.box.height && b.box.y < a.box.y + a.box.height
  );
}
