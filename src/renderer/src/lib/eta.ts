// How long a running job has left, from the rate of its progress reports since the first one this page saw.

/** Estimates time left from successive `step`/`total` reports of one job. */
export class EtaEstimator {
  #first: { at: number; step: number } | null = null;

  /** Seconds left at `now` (ms), or null until a rate is known (a second and one step after the first report). */
  update(step: number, total: number, now: number): number | null {
    if (total <= 0 || step >= total) return null;
    // A job that restarted from an earlier step (resumed) starts a new rate.
    if (this.#first === null || step < this.#first.step) {
      this.#first = { at: now, step };
      return null;
    }
    const done = step - this.#first.step;
    const seconds = (now - this.#first.at) / 1000;
    if (done <= 0 || seconds < 1) return null;
    return ((total - step) * seconds) / done;
  }
}

/** A rounded time left, e.g. `about 40 s left`, `about 12 min left`, `about 2 h 5 min left`. */
export function formatTimeLeft(seconds: number): string {
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds / 5) * 5)} s left`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min left`;
  return `about ${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}
