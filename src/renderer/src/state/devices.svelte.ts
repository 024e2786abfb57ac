// The device check: start it, follow its job, and show the newest report of which providers work.
import type { DeviceReport, JobInfo, StudioApi, StudioError } from '../../../shared/contract.ts';
import { isActive, type JobsState } from './jobs.svelte.ts';

function newer(a: DeviceReport | null, b: DeviceReport): DeviceReport {
  return a !== null && a.checkedAt >= b.checkedAt ? a : b;
}

/** Compute settings: the newest device report and the device-check job in progress. */
export class DevicesState {
  readonly #api: StudioApi;
  readonly #jobs: JobsState;
  #stored = $state.raw<DeviceReport | null>(null);

  /** Why `devices:last` failed, if it did. */
  loadError = $state.raw<StudioError | null>(null);
  /** Why starting a check failed, if it did. */
  startError = $state.raw<StudioError | null>(null);
  isStarting = $state(false);

  /** The newest device-check job, whatever its status. */
  readonly latestCheck: JobInfo | null;
  readonly isChecking: boolean;
  /** The newest report: the stored one, or a check that finished since. */
  readonly report: DeviceReport | null;

  constructor(api: StudioApi, jobs: JobsState) {
    this.#api = api;
    this.#jobs = jobs;
    this.latestCheck = $derived(jobs.list.find((job) => job.kind === 'device-check') ?? null);
    this.isChecking = $derived(this.isStarting || (this.latestCheck !== null && isActive(this.latestCheck)));
    this.report = $derived(
      jobs.list
        .filter((job) => job.kind === 'device-check' && job.status === 'succeeded' && job.result !== null)
        .reduce<DeviceReport | null>((best, job) => newer(best, job.result as DeviceReport), this.#stored),
    );
  }

  /** Loads the most recent stored report (`devices:last`). */
  async load(): Promise<void> {
    const result = await this.#api.invoke('devices:last');
    if (result.ok) {
      this.#stored = result.value;
      this.loadError = null;
    } else {
      this.loadError = result.error;
    }
  }

  /** Starts a `device-check` job that probes every provider. */
  async runCheck(): Promise<void> {
    this.isStarting = true;
    this.startError = null;
    const result = await this.#jobs.start({ kind: 'device-check', params: {} });
    this.isStarting = false;
    if (!result.ok) this.startError = result.error;
  }
}
