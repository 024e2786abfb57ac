// The Export section's state: the export form, its job, past exports and opened (verified) packages.
import type { JobInfo, Result, StudioApi, StudioError } from '../../../shared/contract.ts';
import type { ExportInfo, ExportPackageParams, PackageSummary } from '../../../shared/export/types.ts';
import type { JobsState } from './jobs.svelte.ts';

/** What the form holds; paths are on the studio's machine. */
export interface ExportForm {
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
  exportJobId = $state<string | null>(null);
  opened = $state.raw<PackageSummary | null>(null);
  isOpening = $state(false);
  /** The last failed request, said plainly on the page. */
  error = $state.raw<{ context: string; error: StudioError } | null>(null);

  readonly exportJob = $derived(this.#job(this.exportJobId));
  readonly exportResult = $derived(this.exportJob?.status === 'succeeded' ? (this.exportJob.result as ExportInfo) : null);
  readonly isExporting = $derived(this.exportJob?.status === 'queued' || this.exportJob?.status === 'running');

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
    });
  }

  /** Loads past exports (on start and after a reconnect). */
  async load(): Promise<void> {
    const result = await this.#api.invoke('exports:list');
    if (this.#ok(result, 'Could not load past exports')) this.exports = result.value;
  }

  /** Queues an export of the form's model. */
  async start(): Promise<void> {
    const f = this.form;
    const params: ExportPackageParams = {
      source: {
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
      colorOrder: f.colorOrder,
      valueRange: [Number(f.low), Number(f.high)],
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
