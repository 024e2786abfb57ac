// The Teacher section's state: stored teachers, the import and demo actions, the sample grid and "save as dataset".
import type { JobInfo, Result, StudioApi, StudioError } from '../../../shared/contract.ts';
import {
  MAX_TEACHER_PREVIEW,
  type OnnxTeacherDeclaration,
  type TeacherInfo,
  type TeacherPreviewResult,
  type TeacherSampleResult,
} from '../../../shared/teachers/types.ts';
import type { JobsState } from './jobs.svelte.ts';

/** Samples the grid shows. */
export const GRID_SIZE = 8;

/** The Teacher page's data and actions over the studio API. */
export class TeachersState {
  readonly #api: StudioApi;
  readonly #jobs: JobsState;

  teachers = $state.raw<TeacherInfo[]>([]);
  selectedId = $state<number | null>(null);
  /** The last failed request, said plainly on the page. */
  error = $state.raw<{ context: string; error: StudioError } | null>(null);
  isMakingTiny = $state(false);
  /** Seed of the grid's first sample, and truncation ψ. */
  seed = $state(0);
  psi = $state(0.7);
  importJobId = $state<string | null>(null);
  previewJobId = $state<string | null>(null);
  sampleJobId = $state<string | null>(null);

  readonly selected = $derived(this.teachers.find((t) => t.id === this.selectedId) ?? null);
  /** ψ the grid and "save as dataset" use: the slider's, or exactly 1 for a black-box ONNX teacher (no truncation). */
  readonly effectivePsi = $derived(this.selected?.styleSpace === false ? 1 : this.psi);
  readonly importJob = $derived(this.#job(this.importJobId));
  readonly previewJob = $derived(this.#job(this.previewJobId));
  readonly sampleJob = $derived(this.#job(this.sampleJobId));
  /** The grid's images once its preview job succeeded (for the selected teacher only). */
  readonly preview = $derived.by((): TeacherPreviewResult | null => {
    const job = this.previewJob;
    if (job?.status !== 'succeeded') return null;
    const result = job.result as TeacherPreviewResult;
    return result.teacherId === this.selectedId ? result : null;
  });
  readonly sampleResult = $derived(
    this.sampleJob?.status === 'succeeded' ? (this.sampleJob.result as TeacherSampleResult) : null,
  );

  constructor(api: StudioApi, jobs: JobsState) {
    this.#api = api;
    this.#jobs = jobs;
  }

  #job(id: string | null): JobInfo | null {
    return id === null ? null : (this.#jobs.get(id) ?? null);
  }

  /** Reloads the list when an import finishes; returns the unsubscribe function. */
  subscribe(): () => void {
    return this.#api.on('jobs:did-change', (job) => {
      if (job.kind === 'teacher-import' && job.status === 'succeeded') {
        void this.load().then(() => {
          if (job.id === this.importJobId) this.select((job.result as TeacherInfo).id);
        });
      }
    });
  }

  /** Loads the teacher list (on start and after a reconnect). */
  async load(): Promise<void> {
    const result = await this.#api.invoke('teachers:list');
    if (!this.#ok(result, 'Could not load the teachers')) return;
    this.teachers = result.value;
    if (this.selectedId !== null && !this.teachers.some((t) => t.id === this.selectedId)) this.selectedId = null;
    if (this.selectedId === null && this.teachers.length > 0) this.select(this.teachers[0]!.id);
  }

  /** Selects a teacher and renders its grid. */
  select(id: number): void {
    this.selectedId = id;
    void this.render();
  }

  /** Makes the tiny demo teacher under the first free name "Tiny demo", "Tiny demo 2", … */
  async makeTiny(): Promise<void> {
    const taken = new Set(this.teachers.map((t) => t.name));
    let name = 'Tiny demo';
    for (let i = 2; taken.has(name); i++) name = `Tiny demo ${i}`;
    this.isMakingTiny = true;
    const result = await this.#api.invoke('teachers:make-tiny', name);
    this.isMakingTiny = false;
    if (!this.#ok(result, 'Could not make the demo teacher')) return;
    await this.load();
    this.select(result.value.id);
  }

  /** Queues the import of a .safetensors file, or of an .onnx generator with its declared I/O, on the studio's machine. */
  async startImport(path: string, name: string, onnx?: OnnxTeacherDeclaration): Promise<void> {
    const request = { path: path.trim(), name: name.trim() };
    const result = await this.#api.invoke('teachers:import', onnx === undefined ? request : { ...request, onnx });
    if (this.#ok(result, 'Could not start the import')) this.importJobId = result.value.id;
  }

  /** Renders the grid: seeds `seed` … `seed + GRID_SIZE − 1` with ψ, in a job (the generator blocks its thread). */
  async render(): Promise<void> {
    if (this.selectedId === null) return;
    const seeds = Array.from({ length: Math.min(GRID_SIZE, MAX_TEACHER_PREVIEW) }, (_, i) => this.seed + i);
    const result = await this.#jobs.start({ kind: 'teacher-preview', params: { teacherId: this.selectedId, seeds, psi: this.effectivePsi } });
    if (this.#ok(result, 'Could not render samples')) this.previewJobId = result.value.id;
  }

  /** Queues sampling `count` images of the selected teacher (from the grid's seed and ψ) into a new dataset. */
  async saveAsDataset(count: number, datasetName: string): Promise<void> {
    if (this.selectedId === null) return;
    const result = await this.#api.invoke('teachers:sample', {
      teacherId: this.selectedId,
      count,
      psi: this.effectivePsi,
      seed: this.seed,
      datasetName: datasetName.trim(),
    });
    if (this.#ok(result, 'Could not start sampling')) this.sampleJobId = result.value.id;
  }

  /** Cancels the running sampling job. */
  cancelSample(): Promise<void> {
    return this.sampleJobId === null ? Promise.resolve() : this.#jobs.cancel(this.sampleJobId);
  }

  /** Renames a teacher. */
  async rename(id: number, name: string): Promise<void> {
    const result = await this.#api.invoke('teachers:rename', id, name.trim());
    if (this.#ok(result, 'Could not rename the teacher')) await this.load();
  }

  /** Deletes a teacher (datasets sampled from it stay). */
  async remove(id: number): Promise<void> {
    const result = await this.#api.invoke('teachers:delete', id);
    if (this.#ok(result, 'Could not delete the teacher')) await this.load();
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
