// Every job the studio knows, kept live from `jobs:did-change`, with cancel and resume.
import type { JobInfo, JobStartRequest, JobStatus, Result, StudioApi, StudioError } from '../../../shared/contract.ts';

const ACTIVE: ReadonlySet<JobStatus> = new Set(['queued', 'running']);

/** Whether a job is still queued or running. */
export function isActive(job: JobInfo): boolean {
  return ACTIVE.has(job.status);
}

/** The jobs list, newest first, and the actions on it. */
export class JobsState {
  readonly #api: StudioApi;
  #byId = $state.raw<ReadonlyMap<string, JobInfo>>(new Map());
  /** Ids whose event arrived while a list load was in flight: the event is newer than the list. */
  #changedDuringLoad: Set<string> | null = null;

  /** Why the list could not be loaded, if it could not. */
  loadError = $state.raw<StudioError | null>(null);
  /** The failure of the last cancel/resume per job id. */
  actionErrors = $state.raw<Readonly<Record<string, StudioError>>>({});
  /** Job ids with a cancel/resume request in flight. */
  busy = $state.raw<ReadonlySet<string>>(new Set());
  hasLoaded = $state(false);

  /** All jobs, newest first. */
  readonly list = $derived(
    [...this.#byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id)),
  );
  readonly activeCount = $derived(this.list.filter(isActive).length);

  constructor(api: StudioApi) {
    this.#api = api;
  }

  /** Follows `jobs:did-change`; returns the unsubscribe function. */
  subscribe(): () => void {
    return this.#api.on('jobs:did-change', (job) => this.#apply(job));
  }

  /** Loads the whole list (on start and after a reconnect, when events may have been missed). */
  async load(): Promise<void> {
    const changed = new Set<string>();
    this.#changedDuringLoad = changed;
    const result = await this.#api.invoke('jobs:list');
    if (this.#changedDuringLoad === changed) this.#changedDuringLoad = null;
    if (!result.ok) {
      this.loadError = result.error;
      return;
    }
    const next = new Map(result.value.map((job) => [job.id, job]));
    for (const id of changed) {
      const newer = this.#byId.get(id);
      if (newer) next.set(id, newer);
    }
    this.#byId = next;
    this.loadError = null;
    this.hasLoaded = true;
  }

  /** One job by id, if known. */
  get(id: string): JobInfo | undefined {
    return this.#byId.get(id);
  }

  /** Queues a new job and adds it to the list at once. */
  async start(request: JobStartRequest): Promise<Result<JobInfo>> {
    const result = await this.#api.invoke('jobs:start', request);
    if (result.ok) this.#apply(result.value);
    return result;
  }

  /** Cancels a queued or running job. */
  cancel(id: string): Promise<void> {
    return this.#act(id, () => this.#api.invoke('jobs:cancel', id));
  }

  /** Resumes an interrupted job. */
  resume(id: string): Promise<void> {
    return this.#act(id, () => this.#api.invoke('jobs:resume', id));
  }

  async #act(id: string, request: () => Promise<Result<JobInfo>>): Promise<void> {
    this.busy = new Set([...this.busy, id]);
    const errors = { ...this.actionErrors };
    delete errors[id];
    this.actionErrors = errors;
    const result = await request();
    this.busy = new Set([...this.busy].filter((busyId) => busyId !== id));
    if (result.ok) this.#apply(result.value);
    else this.actionErrors = { ...this.actionErrors, [id]: result.error };
  }

  #apply(job: JobInfo): void {
    this.#changedDuringLoad?.add(job.id);
    const next = new Map(this.#byId);
    next.set(job.id, job);
    this.#byId = next;
  }
}
