// The Train section's state: the training form with presets and its size estimate, the runs, and the followed run's metrics.
import type { JobInfo, Result, StudioApi, StudioError } from '../../../shared/contract.ts';
import type { DatasetInfo } from '../../../shared/datasets/types.ts';
import { DEFAULT_ADVERSARIAL, DEFAULT_PERCEPTUAL, DEFAULT_TRAIN_PARAMS, TRAIN_PRESETS, type TrainPreset } from '../../../shared/student/config.ts';
import type { RunDetail, RunInfo, StudentDescription, StudentTrainParams } from '../../../shared/student/types.ts';
import type { JobsState } from './jobs.svelte.ts';

/** Settings of a new run, without the dataset. */
export type TrainSettings = Omit<StudentTrainParams, 'datasetId'>;

/** Where the form's settings came from: a preset, or the user's own changes. */
export type TrainFormPreset = TrainPreset | 'default' | 'custom';

/** A run's detail is reloaded at most this often while its job reports progress. */
const RELOAD_INTERVAL_MS = 700;

function copy(settings: TrainSettings): TrainSettings {
  return { ...settings, student: { ...settings.student }, augment: { ...settings.augment } };
}

/** The form's "Advanced losses": the optional perceptual and adversarial terms, sent only when switched on. */
export interface LossForm {
  isPerceptualOn: boolean;
  /** Path of the ONNX feature network on the studio's machine. */
  path: string;
  /** Comma-separated names of the feature maps to compare. */
  outputs: string;
  perceptualWeight: number;
  distance: 'l1' | 'l2';
  range: [number, number];
  mean: [number, number, number];
  std: [number, number, number];
  isAdversarialOn: boolean;
  adversarialWeight: number;
  discriminatorWidth: number;
}

function defaultLossForm(): LossForm {
  const p = DEFAULT_PERCEPTUAL;
  return {
    isPerceptualOn: false,
    path: '',
    outputs: '',
    perceptualWeight: p.weight,
    distance: p.distance,
    range: [p.range[0], p.range[1]],
    mean: [p.mean[0], p.mean[1], p.mean[2]],
    std: [p.std[0], p.std[1], p.std[2]],
    isAdversarialOn: false,
    adversarialWeight: DEFAULT_ADVERSARIAL.weight,
    discriminatorWidth: DEFAULT_ADVERSARIAL.discriminatorWidth,
  };
}

/** The settings with the loss terms the form switched on (main checks every value and the network file). */
export function withLosses(settings: TrainSettings, form: LossForm): TrainSettings {
  const out = copy(settings);
  if (form.isPerceptualOn) {
    out.perceptual = {
      path: form.path.trim(),
      outputs: form.outputs.split(',').map((o) => o.trim()).filter((o) => o !== ''),
      weight: form.perceptualWeight,
      distance: form.distance,
      range: [form.range[0], form.range[1]],
      mean: [form.mean[0], form.mean[1], form.mean[2]],
      std: [form.std[0], form.std[1], form.std[2]],
    };
  }
  if (form.isAdversarialOn) out.adversarial = { weight: form.adversarialWeight, discriminatorWidth: form.discriminatorWidth };
  return out;
}

/** The Train page's data and actions over the studio API. */
export class TrainState {
  readonly #api: StudioApi;
  readonly #jobs: JobsState;
  #reloadTimer: ReturnType<typeof setTimeout> | null = null;
  #lastReload = 0;
  #estimateSeq = 0;

  /** Datasets a student can train on (pairs and synthetic pairs). */
  datasets = $state.raw<DatasetInfo[]>([]);
  datasetId = $state<number | null>(null);
  preset = $state<TrainFormPreset>('default');
  settings = $state<TrainSettings>(copy(DEFAULT_TRAIN_PARAMS));
  /** The optional loss terms (kept when a preset is applied). */
  losses = $state<LossForm>(defaultLossForm());
  /** Size and cost of the form's student, or why it cannot be built. */
  estimate = $state.raw<StudentDescription | null>(null);
  estimateError = $state.raw<StudioError | null>(null);
  runs = $state.raw<RunInfo[]>([]);
  /** The run the page follows (the one just started, or one picked from the list). */
  runId = $state<number | null>(null);
  run = $state.raw<RunDetail | null>(null);
  isStarting = $state(false);
  /** Checkpoint steps picked for the comparison. */
  compare = $state<{ a: number | null; b: number | null }>({ a: null, b: null });
  /** The last failed request, said plainly on the page. */
  error = $state.raw<{ context: string; error: StudioError } | null>(null);

  /** The followed run's job, kept live by the jobs list. */
  readonly job = $derived(this.#jobOf(this.run?.jobId ?? null));
  readonly isActive = $derived(this.job?.status === 'queued' || this.job?.status === 'running');

  constructor(api: StudioApi, jobs: JobsState) {
    this.#api = api;
    this.#jobs = jobs;
  }

  #jobOf(id: string | null): JobInfo | null {
    return id === null ? null : (this.#jobs.get(id) ?? null);
  }

  /** Follows training jobs: the run list and the followed run reload as they progress; returns the unsubscribe function. */
  subscribe(): () => void {
    return this.#api.on('jobs:did-change', (job: JobInfo) => {
      if (job.kind !== 'student-train') return;
      if (this.run?.jobId === job.id) this.#scheduleReload(job.status !== 'running');
      else if (job.status !== 'running') void this.loadRuns();
    });
  }

  /** Loads datasets and runs (on start and after a reconnect). */
  async load(): Promise<void> {
    await this.loadDatasets();
    await this.loadRuns();
    if (this.runId === null && this.runs[0]) await this.follow(this.runs[0].id);
    else if (this.runId !== null) await this.#reload();
    await this.refreshEstimate();
  }

  /** Reloads the datasets a student can train on (when the page opens: other sections make datasets). */
  async loadDatasets(): Promise<void> {
    const datasets = await this.#api.invoke('datasets:list');
    if (!this.#ok(datasets, 'Could not load the datasets')) return;
    this.datasets = datasets.value.filter((d) => d.kind !== 'photos');
    if (this.datasetId === null || !this.datasets.some((d) => d.id === this.datasetId)) this.datasetId = this.datasets[0]?.id ?? null;
  }

  /** Reloads the run list. */
  async loadRuns(): Promise<void> {
    const result = await this.#api.invoke('runs:list');
    if (this.#ok(result, 'Could not load the training runs')) this.runs = result.value;
  }

  /** Follows a run: its curves, previews and checkpoints show on the page. */
  async follow(runId: number): Promise<void> {
    if (this.runId !== runId) this.compare = { a: null, b: null };
    this.runId = runId;
    await this.#reload();
  }

  /** Replaces the settings with a preset's. */
  applyPreset(preset: TrainPreset | 'default'): void {
    this.preset = preset;
    this.settings = copy(preset === 'default' ? DEFAULT_TRAIN_PARAMS : TRAIN_PRESETS[preset].params);
    void this.refreshEstimate();
  }

  /** Marks the settings as the user's own after a change, and re-estimates the student. */
  changed(): void {
    this.preset = 'custom';
    // After every handler of this event: a select's bound value is written on `change`, after `input`.
    queueMicrotask(() => void this.refreshEstimate());
  }

  /** Re-estimates after a change of the advanced losses (they are not part of a preset). */
  lossesChanged(): void {
    queueMicrotask(() => void this.refreshEstimate());
  }

  /** Asks main for the student's parameters, multiply-adds and training memory (the answer for the latest settings wins). */
  async refreshEstimate(): Promise<void> {
    const seq = ++this.#estimateSeq;
    const losses = { adversarial: this.losses.isAdversarialOn ? withLosses(this.settings, this.losses).adversarial! : null, perceptual: this.losses.isPerceptualOn };
    const result = await this.#api.invoke('students:describe', { ...this.settings.student }, this.settings.batch, losses);
    if (seq !== this.#estimateSeq) return;
    if (result.ok) {
      this.estimate = result.value;
      this.estimateError = null;
    } else {
      this.estimate = null;
      this.estimateError = result.error;
    }
  }

  /** Checks and starts a run on the chosen dataset, then follows it. */
  async start(): Promise<void> {
    if (this.datasetId === null) return;
    this.isStarting = true;
    const result = await this.#api.invoke('runs:start', { ...withLosses(this.settings, this.losses), datasetId: this.datasetId });
    this.isStarting = false;
    if (!this.#ok(result, 'Could not start training')) return;
    this.error = null;
    // The run is recorded with its job, so it can be followed at once.
    await this.loadRuns();
    const run = this.runs.find((r) => r.jobId === result.value.id);
    if (run) await this.follow(run.id);
  }

  /** Stops the followed run so that it can be resumed later. */
  pause(): Promise<void> {
    return this.#act('Could not pause training', (id) => this.#api.invoke('jobs:pause', id));
  }

  /** Continues the followed run from its newest checkpoint. */
  resume(): Promise<void> {
    return this.#act('Could not resume training', (id) => this.#api.invoke('jobs:resume', id));
  }

  /** Stops the followed run for good (its checkpoints stay). */
  cancel(): Promise<void> {
    return this.#act('Could not cancel training', (id) => this.#api.invoke('jobs:cancel', id));
  }

  async #act(context: string, request: (jobId: string) => Promise<Result<JobInfo>>): Promise<void> {
    if (!this.run) return;
    const result = await request(this.run.jobId);
    if (this.#ok(result, context)) this.error = null;
  }

  #scheduleReload(now: boolean): void {
    if (this.#reloadTimer !== null) {
      if (!now) return;
      clearTimeout(this.#reloadTimer);
    }
    const wait = now ? 0 : Math.max(0, RELOAD_INTERVAL_MS - (Date.now() - this.#lastReload));
    this.#reloadTimer = setTimeout(() => {
      this.#reloadTimer = null;
      void this.#reload();
    }, wait);
  }

  async #reload(): Promise<void> {
    const runId = this.runId;
    if (runId === null) return;
    this.#lastReload = Date.now();
    const [result] = await Promise.all([this.#api.invoke('runs:get', runId), this.loadRuns()]);
    if (this.runId === runId && this.#ok(result, `Could not load run ${runId}`)) this.run = result.value;
  }

  #ok<T>(result: Result<T>, context: string): result is { ok: true; value: T } {
    if (!result.ok) this.error = { context, error: result.error };
    return result.ok;
  }
}
