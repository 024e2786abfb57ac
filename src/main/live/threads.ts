// Threads of the native live backend's two models, shared by its worker and `bench live` so both measure the same.
import { availableParallelism } from 'node:os';

/**
 * BlazeFace (128², tiny) runs on the calling thread: a second intra-op pool would spin against the student's on the
 * same cores (measured on 2 cores: the student's frame went from 7.7 to 12.4 ms).
 */
export const LIVE_DETECTOR_THREADS = 1;

/** The student gets the cores, up to 4; the renderer and main keep the rest of the machine responsive. */
export function liveStudentThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}
