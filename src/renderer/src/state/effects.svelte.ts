// The Effects section's state: CLIP models, the teacher's relevance table, the prompt being edited, its preview grid, saved prompts and pair generation.
import type { JobInfo, Result, StudioApi, StudioError } from '../../../shared/contract.ts';
import {
  DEFAULT_ALPHA,
  DEFAULT_BETA,
  type ClipModelInfo,
  type EffectPairsResult,
  type EffectPreviewParams,
  type EffectPreviewResult,
  type PromptInfo,
  type RelevanceInfo,
} from '../../../shared/effects/types.ts';
import type { TeacherInfo } from '../../../shared/teachers/types.ts';
import type { JobsState } from './jobs.svelte.ts';
import type { TeachersState } from './teachers.svelte.ts';

/** Seeds the preview grid shows. */
export const EFFECT_GRID_SIZE = 4;
/** StyleCLIP's relevance settings: 100 images, statistics over 100,000 latents. */
export const DEFAULT_RELEVANCE = { images: 100, statsSamples: 100_000 } as const;
/** Strengths the sweep renders, StyleCLIP's α range in even steps (at most MAX_PREVIEW_ALPHAS). */
export const SWEEP_ALPHAS: readonly number[] = [-10, -5, -2.5, 0, 2.5, 5, 10];
/** Quiet time after the last slider move before the preview is rendered again. */
const RERENDER_DELAY_MS = 250;

function directionKey(clipId: number, target: string, neutral: string): string {
  return JSON.stringify([clipId, target, neutral]);
}

/** The Effects page's data and actions over the studio API. */
export class EffectsState {
  readonly #api: StudioApi;
  readonly #jobs: JobsState;
  readonly #teachers: TeachersState;
  #rerender: ReturnType<typeof setTimeout> | null = null;
  /** Text directions of earlier previews by CLIP model and texts: moving α or β then needs no CLIP run. */
  readonly #directions = new Map<string, number[]>();

  clips = $state.raw<ClipModelInfo[]>([]);
  clipId = $state<number | null>(null);
  teacherId = $state<number | null>(null);
  relevance = $state.raw<RelevanceInfo[]>([]);
  prompts = $state.raw<PromptInfo[]>([]);
  /** The last failed request, said plainly on the page. */
  error = $state.raw<{ context: string; error: StudioError } | null>(null);
  target = $state('a smiling face');
  neutral = $state('a face');
  alpha = $state(DEFAULT_ALPHA);
  beta = $state(DEFAULT_BETA);
  seed = $state(0);
  psi = $state(0.7);
  importJobId = $state<string | null>(null);
  relevanceJobId = $state<string | null>(null);
  previewJobId = $state<string | null>(null);
  pairsJobId = $state<string | null>(null);
  sweepJobId = $state<string | null>(null);

  /** Every teacher (the Teacher page's list). */
  get teachers(): TeacherInfo[] {
    return this.#teachers.teachers;
  }
  /** The teacher the edits apply to. */
  get teacher(): TeacherInfo | null {
    return this.#teachers.teachers.find((t) => t.id === this.teacherId) ?? null;
  }
  readonly clip = $derived(this.clips.find((c) => c.id === this.clipId) ?? null);
  /** The relevance table of the chosen teacher under the chosen CLIP model, when it was measured. */
  readonly table = $derived(this.relevance.find((r) => r.clipId === this.clipId) ?? null);
  readonly importJob = $derived(this.#job(this.importJobId));
  readonly relevanceJob = $derived(this.#job(this.relevanceJobId));
  readonly previewJob = $derived(this.#job(this.previewJobId));
  readonly pairsJob = $derived(this.#job(this.pairsJobId));
  readonly sweepJob = $derived(this.#job(this.sweepJobId));
  /** The strength sweep once its job succeeded, for the chosen teacher only. */
  readonly sweep = $derived.by((): EffectPreviewResult | null => {
    const job = this.sweepJob;
    if (job?.status !== 'succeeded') return null;
    const result = job.result as EffectPreviewResult;
    return result.teacherId === this.teacherId ? result : null;
  });
  /** The grid once its preview job succeeded, for the chosen teacher only. */
  readonly preview = $derived.by((): EffectPreviewResult | null => {
    const job = this.previewJob;
    if (job?.status !== 'succeeded') return null;
    const result = job.result as EffectPreviewResult;
    return result.teacherId === this.teacherId ? result : null;
  });
  readonly pairsResult = $derived(this.pairsJob?.status === 'succeeded' ? (this.pairsJob.result as EffectPairsResult) : null);
  /** True when texts are filled in and a relevance table exists, so a preview or pairs can be made. */
  readonly canEdit = $derived(this.teacherId !== null && this.table !== null && this.target.trim() !== '' && this.neutral.trim() !== '');

  constructor(api: StudioApi, jobs: JobsState, teachers: TeachersState) {
    this.#api = api;
    this.#jobs = jobs;
    this.#teachers = teachers;
  }

  #job(id: string | null): JobInfo | null {
    return id === null ? null : (this.#jobs.get(id) ?? null);
  }

  /** Reloads what a finished job changed; returns the unsubscribe function. */
  subscribe(): () => void {
    return this.#api.on('jobs:did-change', (job) => {
      if (job.status !== 'succeeded') return;
      if (job.kind === 'clip-import') {
        void this.loadClips().then(() => {
          if (job.id === this.importJobId) this.clipId = (job.result as ClipModelInfo).id;
        });
      }
      if (job.kind === 'effects-relevance') void this.loadTeacher();
      if (job.kind === 'effects-preview') {
        const p = job.params as EffectPreviewParams;
        this.#directions.set(directionKey(p.clipId, p.target, p.neutral), (job.result as EffectPreviewResult).direction);
      }
    });
  }

  /** Loads the CLIP models and the chosen teacher's tables and prompts (on start and after a reconnect). */
  async load(): Promise<void> {
    await this.loadClips();
    await this.loadTeacher();
  }

  /** Loads the CLIP models; keeps the choice when it still exists, else takes the newest. */
  async loadClips(): Promise<void> {
    const result = await this.#api.invoke('clips:list');
    if (!this.#ok(result, 'Could not load the CLIP models')) return;
    this.clips = result.value;
    if (!this.clips.some((c) => c.id === this.clipId)) this.clipId = this.clips[0]?.id ?? null;
  }

  /** Loads the relevance tables and prompts of the chosen teacher (the Teacher page's choice when none is made). */
  async loadTeacher(): Promise<void> {
    if (this.teacherId === null || !this.#teachers.teachers.some((t) => t.id === this.teacherId)) {
      this.teacherId = this.#teachers.selectedId ?? this.#teachers.teachers[0]?.id ?? null;
    }
    const id = this.teacherId;
    if (id === null) {
      this.relevance = [];
      this.prompts = [];
      return;
    }
    const [relevance, prompts] = await Promise.all([this.#api.invoke('effects:relevance', id), this.#api.invoke('effects:prompts', id)]);
    if (id !== this.teacherId) return;
    if (this.#ok(relevance, 'Could not load the relevance tables')) this.relevance = relevance.value;
    if (this.#ok(prompts, 'Could not load the prompts')) this.prompts = prompts.value;
  }

  /** Chooses the teacher the edits apply to. */
  selectTeacher(id: number): Promise<void> {
    this.teacherId = id;
    return this.loadTeacher();
  }

  /** Queues the import of a CLIP ONNX export folder on the studio's machine. */
  async startImport(path: string, name: string): Promise<void> {
    const result = await this.#api.invoke('clips:import', { path: path.trim(), name: name.trim() });
    if (this.#ok(result, 'Could not start the CLIP import')) this.importJobId = result.value.id;
  }

  /** Deletes a CLIP model with the relevance tables measured with it. */
  async removeClip(id: number): Promise<void> {
    const result = await this.#api.invoke('clips:delete', id);
    if (this.#ok(result, 'Could not delete the CLIP model')) await this.load();
  }

  /** Queues measuring the chosen teacher's relevance table under the chosen CLIP model. */
  async computeRelevance(images: number, statsSamples: number): Promise<void> {
    if (this.teacherId === null || this.clipId === null) return;
    const result = await this.#api.invoke('effects:compute-relevance', { teacherId: this.teacherId, clipId: this.clipId, images, statsSamples });
    if (this.#ok(result, 'Could not start measuring the relevance')) this.relevanceJobId = result.value.id;
  }

  /** Cancels a job this page started. */
  cancel(id: string | null): Promise<void> {
    return id === null ? Promise.resolve() : this.#jobs.cancel(id);
  }

  /** Renders the grid: seeds `seed` … `seed + EFFECT_GRID_SIZE − 1`, unedited and edited at α. */
  async render(): Promise<void> {
    if (this.#rerender !== null) clearTimeout(this.#rerender);
    this.#rerender = null;
    const id = await this.#preview([this.alpha], 'Could not render the edit');
    if (id !== null) this.previewJobId = id;
  }

  /** Renders the grid's seeds at every strength of {@link SWEEP_ALPHAS}, to choose α by eye. */
  async renderSweep(): Promise<void> {
    const id = await this.#preview(SWEEP_ALPHAS, 'Could not render the strength sweep');
    if (id !== null) this.sweepJobId = id;
  }

  /** Queues a preview of the grid's seeds at these strengths; reuses a known text direction. */
  async #preview(alphas: readonly number[], context: string): Promise<string | null> {
    if (!this.canEdit || this.teacherId === null || this.clipId === null) return null;
    const seeds = Array.from({ length: EFFECT_GRID_SIZE }, (_, i) => this.seed + i);
    const [target, neutral] = [this.target.trim(), this.neutral.trim()];
    const direction = this.#directions.get(directionKey(this.clipId, target, neutral));
    const result = await this.#api.invoke('effects:preview', {
      teacherId: this.teacherId,
      clipId: this.clipId,
      target,
      neutral,
      beta: this.beta,
      alphas: [...alphas],
      seeds,
      psi: this.psi,
      ...(direction === undefined ? {} : { direction }),
    });
    return this.#ok(result, context) ? result.value.id : null;
  }

  /** After a slider moved: renders again once the sliders rest, when a grid is already shown. */
  scheduleRender(): void {
    if (this.previewJobId === null) return;
    if (this.#rerender !== null) clearTimeout(this.#rerender);
    this.#rerender = setTimeout(() => void this.render(), RERENDER_DELAY_MS);
  }

  /** Saves the current texts, α and β as a prompt of the teacher. */
  async savePrompt(isFavorite?: boolean): Promise<void> {
    if (this.teacherId === null) return;
    const request = { teacherId: this.teacherId, target: this.target.trim(), neutral: this.neutral.trim(), alpha: this.alpha, beta: this.beta, ...(isFavorite === undefined ? {} : { isFavorite }) };
    const result = await this.#api.invoke('effects:save-prompt', request);
    if (this.#ok(result, 'Could not save the prompt')) await this.loadTeacher();
  }

  /** Marks or unmarks a saved prompt as a favourite (keeping its α and β). */
  async toggleFavorite(prompt: PromptInfo): Promise<void> {
    const { teacherId, target, neutral, alpha, beta } = prompt;
    const result = await this.#api.invoke('effects:save-prompt', { teacherId, target, neutral, alpha, beta, isFavorite: !prompt.isFavorite });
    if (this.#ok(result, 'Could not update the prompt')) await this.loadTeacher();
  }

  /** Puts a saved prompt into the editor and renders it. */
  use(prompt: PromptInfo): Promise<void> {
    this.target = prompt.target;
    this.neutral = prompt.neutral;
    this.alpha = prompt.alpha;
    this.beta = prompt.beta;
    return this.render();
  }

  /** Deletes a saved prompt. */
  async removePrompt(id: number): Promise<void> {
    const result = await this.#api.invoke('effects:delete-prompt', id);
    if (this.#ok(result, 'Could not delete the prompt')) await this.loadTeacher();
  }

  /** Queues `count` pairs of the current edit (from the grid's first seed and ψ) into a new pairs dataset. */
  async generatePairs(count: number, datasetName: string): Promise<void> {
    if (this.teacherId === null || this.clipId === null) return;
    const result = await this.#api.invoke('effects:generate-pairs', {
      teacherId: this.teacherId,
      clipId: this.clipId,
      target: this.target.trim(),
      neutral: this.neutral.trim(),
      alpha: this.alpha,
      beta: this.beta,
      psi: this.psi,
      seed: this.seed,
      count,
      datasetName: datasetName.trim(),
    });
    if (this.#ok(result, 'Could not start generating pairs')) this.pairsJobId = result.value.id;
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
