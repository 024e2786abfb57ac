// The Export section's state: the export form, its job, past exports and opened (verified) packages.
import type { JobInfo, Result, StudioApi, StudioError } from '../../../shared/contract.ts';
import type { ExportEstimate, ExportEstimateSource, ExportInfo, ExportPackageParams, PackageSummary } from '../../../shared/export/types.ts';
import type { RunDetail, RunInfo } from '../../../shared/student/types.ts';
import type { JobsState } from './jobs.svelte.ts';

/** What the form holds; paths are on the studio's machine. */
export interface ExportForm {
  /** Export a training run's checkpoint, or a plain ONNX model file. */
  sourceKind: 'run' | 'model';
  runId: number | null;
  /** null: the checkpoint with the best validation PSNR (else the newest). */
  checkpointStep: number | null;
  modelPath: string;
  /** One path per line. */
  previewPaths: string;
  name: string;
  description: string;
  out: string;
  fp16: boolean;
  colorOrder: 'RGB' | 'BGR';
  low: number;
  high: number;
}

/** The Export page's data and actions over the studio API. */
export class ExportState {
  readonly #api: StudioApi;
  readonly #jobs: JobsState;

  form = $state<ExportForm>({
    sourceKind: 'run',
    runId: null,
    checkpointStep: null,
    modelPath: '',
    previewPaths: '',
    name: '',
    description: '',
    out: '',
    fp16: true,
    colorOrder: 'RGB',
    // The studio's students take RGB in [0, 1] (src/main/student/model.ts).
    low: 0,
    high: 1,
  });
  exports = $state.raw<ExportInfo[]>([]);
  /** Training runs that have trained at least one step, newest first. */
  runs = $state.raw<RunInfo[]>([]);
  /** The picked run with its checkpoints and metrics. */
  run = $state.raw<RunDetail | null>(null);
  exportJobId = $state<string | null>(null);
  estimateJobId = $state<string | null>(null);
  /** The source the last measurement was started for, so a changed form does not show a stale one. */
  estimatedFor = $state<string | null>(null);
  opened = $state.raw<PackageSummary | null>(null);
  isOpening = $state(false);
  /** The last failed request, said plainly on the page. */
  error = $state.raw<{ context: string; error: StudioError } | null>(null);

  readonly exportJob = $derived(this.#job(this.exportJobId));
  readonly exportResult = $derived(this.exportJob?.status === 'succeeded' ? (this.exportJob.result as ExportInfo) : null);
  readonly isExporting = $derived(this.exportJob?.status === 'queued' || this.exportJob?.status === 'running');
  readonly estimateJob = $derived(this.#job(this.estimateJobId));
  readonly isEstimating = $derived(this.estimateJob?.status === 'queued' || this.estimateJob?.status === 'running');
  /** What would be measured or exported: the picked run's checkpoint, or the model file; null when incomplete. */
  readonly estimateSource = $derived<ExportEstimateSource | null>(
    this.form.sourceKind === 'run'
      ? this.form.runId === null
        ? null
        : { kind: 'run', runId: this.form.runId, checkpointStep: this.form.checkpointStep }
      : this.form.modelPath.trim() === ''
        ? null
        : { kind: 'model', modelPath: this.form.modelPath.trim() },
  );
  /** Size and speed measured for the form's current source, or null. */
  readonly estimate = $derived(
    this.estimateJob?.status === 'succeeded' && this.estimatedFor === sourceKey(this.estimateSource) ? (this.estimateJob.result as ExportEstimate) : null,
  );

  constructor(api: StudioApi, jobs: JobsState) {
    this.#api = api;
    this.#jobs = jobs;
  }

  #job(id: string | null): JobInfo | null {
    return id === null ? null : (this.#jobs.get(id) ?? null);
  }

  /** Reloads the list when an export finishes; returns the unsubscribe function. */
  subscribe(): () => void {
    return this.#api.on('jobs:did-change', (job: JobInfo) => {
      if (job.kind === 'export-package' && job.status === 'succeeded') void this.load();
      if (job.kind === 'student-train' && job.status !== 'queued') void this.loadRuns();
    });
  }

  /** Loads past exports (on start and after a reconnect). */
  async load(): Promise<void> {
    const result = await this.#api.invoke('exports:list');
    if (this.#ok(result, 'Could not load past exports')) this.exports = result.value;
    await this.loadRuns();
  }

  /** Loads the runs that have trained; picks the newest when none is picked yet (the model-file form when there are none). */
  async loadRuns(): Promise<void> {
    const result = await this.#api.invoke('runs:list');
    if (!this.#ok(result, 'Could not load the training runs')) return;
    this.runs = result.value.filter((r) => r.step > 0);
    const picked = this.runs.find((r) => r.id === this.form.runId) ?? this.runs[0];
    if (picked) await this.pickRun(picked.id);
    else if (this.runs.length === 0 && this.form.runId === null) this.form.sourceKind = 'model';
  }

  /** Picks a run and loads its checkpoints; the checkpoint resets to the best one when the run changes. */
  async pickRun(runId: number): Promise<void> {
    if (this.form.runId !== runId) this.form.checkpointStep = null;
    this.form.runId = runId;
    const result = await this.#api.invoke('runs:get', runId);
    if (this.#ok(result, `Could not load run ${runId}`) && this.form.runId === runId) this.run = result.value;
  }

  /** Measures the size and speed of what the form would export, in a job. */
  async measure(): Promise<void> {
    const source = this.estimateSource;
    if (source === null) return;
    const result = await this.#jobs.start({ kind: 'export-estimate', params: { source } });
    if (this.#ok(result, 'Could not measure the model')) {
      this.estimateJobId = result.value.id;
      this.estimatedFor = sourceKey(source);
    }
  }

  /** Queues an export of the form's run checkpoint or model. */
  async start(): Promise<void> {
    const f = this.form;
    const isRun = f.sourceKind === 'run' && f.runId !== null;
    const params: ExportPackageParams = {
      source: isRun
        ? { kind: 'run', runId: f.runId!, checkpointStep: f.checkpointStep }
        : {
            kind: 'model',
            modelPath: f.modelPath.trim(),
            previewPaths: f.previewPaths
              .split('\n')
              .map((p) => p.trim())
              .filter((p) => p.length > 0),
          },
      name: f.name.trim(),
      description: f.description,
      out: f.out.trim(),
      fp16: f.fp16,
      // A run's student takes RGB in [0, 1]; the colour fields apply to a plain model.
      colorOrder: isRun ? 'RGB' : f.colorOrder,
      valueRange: isRun ? [0, 1] : [Number(f.low), Number(f.high)],
    };
    const result = await this.#api.invoke('exports:create', params);
    if (this.#ok(result, 'Could not start the export')) this.exportJobId = result.value.id;
  }

  /** Cancels the running export. */
  cancel(): Promise<void> {
    return this.exportJobId === null ? Promise.resolve() : this.#jobs.cancel(this.exportJobId);
  }

  /** Verifies the package at `path` and shows what was found. */
  async open(path: string): Promise<void> {
    this.isOpening = true;
    try {
      const result = await this.#api.invoke('exports:open', path.trim());
      if (this.#ok(result, 'Could not open the package')) this.opened = result.value;
    } finally {
      this.isOpening = false;
    }
  }

  #ok<T>(result: Result<T>, context: string): result is { ok: true; value: T } {
    if (result.ok) {
      this.error = null;
      return true;
    }
    this.error = { context, error: result.error };
    return false;
  }
}

function sourceKey(source: ExportEstimateSource | null): string | null {
  return source === null ? null : JSON.stringify(source);
}
