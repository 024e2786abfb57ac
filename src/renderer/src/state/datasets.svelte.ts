// The Datasets section's state: the dataset list, the curation grid (windowed pages, cursor, selection, undo), filters, stats, imports.
import type { JobInfo, Result, StudioApi, StudioError } from '../../../shared/contract.ts';
import type {
  DatasetInfo,
  DatasetKind,
  DatasetStats,
  DuplicateReport,
  ItemInfo,
  ItemQuery,
  ItemSort,
  ItemState,
  ItemStatus,
  ItemUpdate,
} from '../../../shared/datasets/types.ts';
import type { JobsState } from './jobs.svelte.ts';

/** Items fetched per request; the grid asks for the pages its window touches. */
export const PAGE_SIZE = 200;
/** How many undo steps are kept. */
const UNDO_DEPTH = 100;

/** The grid's filters; `undefined` is "any". */
export interface GridFilters {
  status?: ItemStatus | undefined;
  tag?: string | undefined;
  minRating?: number | undefined;
  hasFace?: boolean | undefined;
  sort: ItemSort;
}

/** One undoable edit: the states of the items before it. */
interface UndoStep {
  label: string;
  previous: ItemState[];
}

/** The Datasets page's data and actions over the studio API. */
export class DatasetsState {
  readonly #api: StudioApi;
  readonly #jobs: JobsState;

  datasets = $state.raw<DatasetInfo[]>([]);
  selectedId = $state<number | null>(null);
  /** The last failed request, said plainly on the page. */
  error = $state.raw<{ context: string; error: StudioError } | null>(null);

  filters = $state.raw<GridFilters>({ sort: 'id' });
  /** Items matching the filters. */
  total = $state(0);
  /** Loaded pages of the current filters, by page index. */
  pages = $state.raw<ReadonlyMap<number, ItemInfo[]>>(new Map());
  /** Index (in the filtered order) of the item the keyboard is on. */
  cursor = $state(0);
  /** Selected item ids (multi-select); empty means "the item under the cursor". */
  selection = $state.raw<ReadonlySet<number>>(new Set());
  #anchor = 0;
  stats = $state.raw<DatasetStats | null>(null);
  tags = $state.raw<{ name: string; count: number }[]>([]);
  duplicates = $state.raw<DuplicateReport | null>(null);
  /** Shows the "after" image of pairs where the grid and preview show one image. */
  showAfter = $state(false);
  /** The import job started from this page, followed until it ends. */
  importJobId = $state<string | null>(null);
  /** Edits (and undos) sent but not yet confirmed by the reload that follows them. */
  saving = $state(0);
  #undo = $state.raw<UndoStep[]>([]);
  /** Bumped on every reload so that answers to superseded page requests are dropped. */
  #generation = 0;
  #pending = new Set<number>();
  #visible = { start: 0, end: 0 };
  #settling: Promise<void> | null = null;
  #isDirty = false;
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;

  readonly selected = $derived(this.datasets.find((d) => d.id === this.selectedId) ?? null);
  readonly canUndo = $derived(this.#undo.length > 0);
  readonly undoLabel = $derived(this.#undo.at(-1)?.label ?? null);
  readonly cursorItem = $derived(this.itemAt(this.cursor));

  constructor(api: StudioApi, jobs: JobsState) {
    this.#api = api;
    this.#jobs = jobs;
  }

  /** The import job started from this page, as the jobs list has it now. */
  get importJob(): JobInfo | null {
    return this.importJobId === null ? null : (this.#jobs.get(this.importJobId) ?? null);
  }

  /** Refreshes the grid while an import of the open dataset commits batches; returns the unsubscribe function. */
  subscribe(): () => void {
    return this.#api.on('jobs:did-change', (job) => {
      if (job.kind !== 'dataset-import') return;
      const params = job.params as { datasetId?: number };
      if (params.datasetId !== this.selectedId) return;
      const isFinal = job.status !== 'queued' && job.status !== 'running';
      this.#scheduleRefresh(isFinal);
      if (isFinal) void this.loadDatasets();
    });
  }

  /** Loads the dataset list, keeping the open one when it still exists. */
  async loadDatasets(): Promise<void> {
    const r = await this.#api.invoke('datasets:list');
    if (!this.#ok(r, 'Could not load the datasets')) return;
    this.datasets = r.value;
    if (this.selectedId !== null && !r.value.some((d) => d.id === this.selectedId)) this.selectedId = null;
    if (this.selectedId === null && r.value.length > 0) await this.open(r.value[0]!.id);
  }

  /** Opens a dataset in the grid. */
  async open(id: number): Promise<void> {
    this.selectedId = id;
    this.#undo = [];
    this.duplicates = null;
    this.filters = { sort: 'id' };
    await this.reload(true);
  }

  /** Creates a dataset and opens it; false when it failed (the error is shown). */
  async create(name: string, kind: DatasetKind): Promise<boolean> {
    const r = await this.#api.invoke('datasets:create', { name, kind });
    if (!this.#ok(r, 'Could not create the dataset')) return false;
    this.datasets = [r.value, ...this.datasets];
    await this.open(r.value.id);
    return true;
  }

  /** Renames the open dataset. */
  async rename(name: string): Promise<boolean> {
    if (this.selectedId === null) return false;
    const r = await this.#api.invoke('datasets:rename', this.selectedId, name);
    if (!this.#ok(r, 'Could not rename the dataset')) return false;
    this.datasets = this.datasets.map((d) => (d.id === r.value.id ? r.value : d));
    return true;
  }

  /** Deletes the open dataset and its images. */
  async remove(): Promise<void> {
    if (this.selectedId === null) return;
    const r = await this.#api.invoke('datasets:delete', this.selectedId);
    if (!this.#ok(r, 'Could not delete the dataset')) return;
    this.selectedId = null;
    this.pages = new Map();
    this.total = 0;
    this.stats = null;
    await this.loadDatasets();
  }

  /** Starts an import job into the open dataset; the grid fills as its batches are committed. */
  async importPaths(paths: string[], pairs: boolean): Promise<boolean> {
    if (this.selectedId === null || paths.length === 0) return false;
    const r = await this.#api.invoke('datasets:import', { datasetId: this.selectedId, paths, pairs });
    if (!this.#ok(r, 'Could not start the import')) return false;
    this.importJobId = r.value.id;
    return true;
  }

  /** Cancels the running import. */
  async cancelImport(): Promise<void> {
    if (this.importJobId !== null) await this.#jobs.cancel(this.importJobId);
  }

  /** Changes the filters and reloads the grid from the top. */
  async setFilters(change: Partial<GridFilters>): Promise<void> {
    this.filters = { ...this.filters, ...change };
    this.cursor = 0;
    this.#anchor = 0;
    this.selection = new Set();
    await this.reload(false);
  }

  /** Reloads counts, tags, stats and the pages the grid shows (after edits and imports). */
  async reload(resetCursor: boolean): Promise<void> {
    if (this.selectedId === null) return;
    const generation = ++this.#generation;
    this.#pending.clear();
    if (resetCursor) {
      this.cursor = 0;
      this.#anchor = 0;
      this.selection = new Set();
    }
    // Refetch only what is on screen (and under the cursor); other pages load again when scrolled to.
    const wanted = new Set<number>([Math.floor(this.cursor / PAGE_SIZE)]);
    for (let p = Math.floor(this.#visible.start / PAGE_SIZE); p <= Math.floor(Math.max(0, this.#visible.end - 1) / PAGE_SIZE); p++) wanted.add(p);
    const [fetched, stats, tags] = await Promise.all([
      Promise.all([...wanted].map(async (p) => [p, await this.#fetchPage(p)] as const)),
      this.#api.invoke('datasets:stats', this.selectedId),
      this.#api.invoke('datasets:tags', this.selectedId),
    ]);
    if (generation !== this.#generation) return;
    if (stats.ok) this.stats = stats.value;
    if (tags.ok) this.tags = tags.value;
    const pages = new Map<number, ItemInfo[]>();
    for (const [p, r] of fetched) {
      if (!r) return;
      pages.set(p, r.items);
      this.total = r.total;
    }
    this.pages = pages;
    this.cursor = Math.min(this.cursor, Math.max(0, this.total - 1));
  }

  /** Loads the pages covering items [start, end) if they are not loaded yet (the grid calls this as it scrolls). */
  ensureRange(start: number, end: number, isVisible = false): void {
    if (isVisible) this.#visible = { start, end };
    const last = Math.min(end, this.total) - 1;
    for (let p = Math.floor(Math.max(0, start) / PAGE_SIZE); p <= Math.floor(last / PAGE_SIZE); p++) void this.ensurePage(p);
  }

  /** Loads one page unless it is loaded or on its way. */
  async ensurePage(page: number): Promise<void> {
    if (this.pages.has(page) || this.#pending.has(page) || page * PAGE_SIZE >= Math.max(this.total, 1)) return;
    const generation = this.#generation;
    this.#pending.add(page);
    const r = await this.#fetchPage(page);
    if (generation !== this.#generation) return;
    this.#pending.delete(page);
    if (!r) return;
    this.total = r.total;
    this.pages = new Map(this.pages).set(page, r.items);
  }

  /** The item at a position in the filtered order, if its page is loaded. */
  itemAt(index: number): ItemInfo | undefined {
    return this.pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  /** Moves the cursor (clamped); with `extend`, selects the range from the anchor, as shift-click does. */
  moveTo(index: number, extend = false): void {
    if (this.total === 0) return;
    const next = Math.max(0, Math.min(this.total - 1, index));
    this.cursor = next;
    if (extend) this.#selectRange(this.#anchor, next);
    else {
      this.#anchor = next;
      this.selection = new Set();
    }
    this.ensureRange(next - PAGE_SIZE / 2, next + PAGE_SIZE / 2);
  }

  /** A click on a grid cell: plain moves, shift selects a range, ctrl/cmd toggles one item. */
  click(index: number, mode: 'plain' | 'range' | 'toggle'): void {
    if (mode === 'range') {
      this.moveTo(index, true);
      return;
    }
    if (mode === 'toggle') {
      const item = this.itemAt(index);
      if (!item) return;
      const next = new Set(this.selection);
      const current = this.itemAt(this.cursor);
      // The first ctrl-click keeps the item under the cursor in the selection, as file managers do.
      if (next.size === 0 && current && current.id !== item.id) next.add(current.id);
      if (next.has(item.id)) next.delete(item.id);
      else next.add(item.id);
      this.selection = next;
      this.cursor = index;
      this.#anchor = index;
      return;
    }
    this.moveTo(index);
  }

  #selectRange(from: number, to: number): void {
    const ids = new Set<number>();
    for (let i = Math.min(from, to); i <= Math.max(from, to); i++) {
      const item = this.itemAt(i);
      if (item) ids.add(item.id);
    }
    this.selection = ids;
  }

  /** Ids the next edit applies to: the selection, or the item under the cursor. */
  targets(): number[] {
    if (this.selection.size > 0) return [...this.selection];
    const item = this.itemAt(this.cursor);
    return item ? [item.id] : [];
  }

  /** Applies an edit to `only`, else the selection or the cursor's item; remembers it for undo; refreshes counts and grid. */
  async apply(update: ItemUpdate, label: string, only?: number[]): Promise<void> {
    const ids = only ?? this.targets();
    if (ids.length === 0) return;
    const wanted = new Set(ids);
    // An item the status filter no longer shows leaves the grid at once, and the next one moves under the cursor.
    const leavesView = update.status !== undefined && this.filters.status !== undefined && this.filters.status !== update.status;
    this.#showLocally((item) => (wanted.has(item.id) ? edited(item, update) : item), leavesView ? wanted : undefined);
    // Without a selection the cursor steps on, so a run of A/R keys walks through the grid.
    if (only === undefined && this.selection.size === 0 && update.status !== undefined && !leavesView) this.moveTo(this.cursor + 1);
    else if (leavesView) this.moveTo(Math.min(this.cursor, this.total - 1));
    this.saving += 1;
    try {
      await this.#update(ids, update, label);
    } finally {
      this.saving -= 1;
    }
  }

  async #update(ids: number[], update: ItemUpdate, label: string): Promise<void> {
    const r = await this.#api.invoke('datasets:update-items', ids, update);
    if (!this.#ok(r, `Could not ${label}`)) {
      await this.#settle();
      return;
    }
    this.#undo = [...this.#undo.slice(-(UNDO_DEPTH - 1)), { label, previous: r.value.previous }];
    await this.#settle();
  }

  /** Reverts the last edit. */
  async undo(): Promise<void> {
    const step = this.#undo.at(-1);
    if (!step) return;
    const before = new Map(step.previous.map((state) => [state.id, state]));
    this.#showLocally((item) => {
      const state = before.get(item.id);
      return state ? { ...item, status: state.status, rating: state.rating, notes: state.notes, tags: state.tags } : item;
    });
    this.#undo = this.#undo.slice(0, -1);
    this.saving += 1;
    try {
      const r = await this.#api.invoke('datasets:restore-items', step.previous);
      if (!this.#ok(r, `Could not undo ${step.label}`)) this.#undo = [...this.#undo, step];
      await this.#settle();
    } finally {
      this.saving -= 1;
    }
  }

  /** Loads the near-duplicate groups of the open dataset. */
  async findDuplicates(): Promise<void> {
    if (this.selectedId === null) return;
    const r = await this.#api.invoke('datasets:duplicates', this.selectedId, null);
    if (this.#ok(r, 'Could not look for duplicates')) this.duplicates = r.value;
  }

  /** Clears the shown error. */
  dismissError(): void {
    this.error = null;
  }

  // Reloads after edits; edits that land while a reload runs share one more reload after it, so a fast run of keys
  // costs a few reloads (each counts the whole dataset), not one per key.
  #settle(): Promise<void> {
    if (this.#settling) {
      this.#isDirty = true;
      return this.#settling;
    }
    this.#settling = (async () => {
      do {
        this.#isDirty = false;
        await this.reload(false);
      } while (this.#isDirty);
    })().finally(() => {
      this.#settling = null;
    });
    return this.#settling;
  }

  // Shows an edit at once in the loaded pages and the status counts; the reload that follows the request confirms it
  // (or, when the request failed, puts back what the studio holds).
  // Items in `drop` leave the filtered view; later pages are off by their number until the reload.
  #showLocally(change: (item: ItemInfo) => ItemInfo, drop?: ReadonlySet<number>): void {
    // Answers to requests sent before this edit would show the item as it was: drop them.
    this.#generation += 1;
    this.#pending.clear();
    const byStatus = this.stats ? { ...this.stats.byStatus } : null;
    const pages = new Map<number, ItemInfo[]>();
    let dropped = 0;
    for (const [page, items] of this.pages) {
      const kept: ItemInfo[] = [];
      for (const item of items) {
        const next = change(item);
        if (drop?.has(item.id)) dropped += 1;
        else kept.push(next);
        if (byStatus && next.status !== item.status) {
          byStatus[item.status] -= 1;
          byStatus[next.status] += 1;
        }
      }
      pages.set(page, kept);
    }
    this.pages = pages;
    this.total -= dropped;
    if (this.stats && byStatus) this.stats = { ...this.stats, byStatus };
  }

  async #fetchPage(page: number): Promise<{ items: ItemInfo[]; total: number } | null> {
    if (this.selectedId === null) return null;
    const query: ItemQuery = { datasetId: this.selectedId, sort: this.filters.sort, offset: page * PAGE_SIZE, limit: PAGE_SIZE };
    if (this.filters.status !== undefined) query.status = this.filters.status;
    if (this.filters.tag !== undefined) query.tag = this.filters.tag;
    if (this.filters.minRating !== undefined) query.minRating = this.filters.minRating;
    if (this.filters.hasFace !== undefined) query.hasFace = this.filters.hasFace;
    const r = await this.#api.invoke('datasets:items', query);
    return this.#ok(r, 'Could not load the items') ? r.value : null;
  }

  // Import progress arrives up to ten times a second; the grid reloads at most twice a second, and once at the end.
  #scheduleRefresh(now: boolean): void {
    if (this.#refreshTimer !== null) {
      if (!now) return;
      clearTimeout(this.#refreshTimer);
    }
    this.#refreshTimer = setTimeout(
      () => {
        this.#refreshTimer = null;
        void this.reload(false);
      },
      now ? 0 : 500,
    );
  }

  #ok<T>(r: Result<T>, context: string): r is { ok: true; value: T } {
    if (r.ok) return true;
    this.error = { context, error: r.error };
    return false;
  }
}

/** An item as it is after an edit. */
function edited(item: ItemInfo, update: ItemUpdate): ItemInfo {
  const removed = new Set((update.removeTags ?? []).map((t) => t.trim()));
  const tags = [...new Set([...item.tags, ...(update.addTags ?? []).map((t) => t.trim())])].filter((t) => !removed.has(t)).sort();
  return {
    ...item,
    status: update.status ?? item.status,
    rating: update.rating ?? item.rating,
    notes: update.notes ?? item.notes,
    tags,
  };
}
