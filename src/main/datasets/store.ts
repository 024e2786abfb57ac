// The datasets tables in SQLite: datasets, items and tags for the curation grid, and the work lists of imports.
import type { Database, Statement } from 'better-sqlite3';
import type { FaceDetection } from '../../shared/faces/types.ts';
import type { BlobStore } from '../core/blob-store.ts';
import { nearDuplicateGroups } from './duplicates.ts';
import type { WorkEntry } from './enumerate.ts';
import { splitOf } from './splits.ts';
import type {
  DatasetInfo,
  DatasetKind,
  FileOutcome,
  FileOutcomeKind,
  ImportCounts,
  ItemInfo,
  ItemPage,
  ItemQuery,
  ItemSort,
  ItemState,
  ItemStatus,
  ItemUpdate,
  NearDuplicateGroup,
  Split,
  UpdateItemsResult,
} from './types.ts';

/** A dataset with this name exists already. */
export class DatasetExistsError extends Error {
  override readonly name = 'DatasetExistsError';
  constructor(readonly datasetName: string) {
    super(`A dataset named "${datasetName}" exists already.`);
  }
}

/** No dataset (or item) with this id or name. */
export class DatasetNotFoundError extends Error {
  override readonly name = 'DatasetNotFoundError';
}

/** Options of {@link DatasetStore.createDataset}. */
export interface CreateDatasetOptions {
  name: string;
  kind: DatasetKind;
  /** Seed of the train/validation split; default 0. */
  splitSeed?: number;
  /** Share of items in validation; default 0.1. */
  validationFraction?: number;
}

/**
 * A new item. The caller holds one blob reference for each hash given and hands it to the item; when the item turns
 * out to duplicate one already in the dataset, {@link DatasetStore.insertItems} releases those references.
 */
export interface NewItem {
  datasetId: number;
  width: number;
  height: number;
  /** null when faces were not looked for. */
  faces: FaceDetection[] | null;
  sourcePath: string | null;
  targetSourcePath: string | null;
  provenance: unknown;
  imageSha: string;
  thumbSha: string;
  targetSha: string | null;
  targetThumbSha: string | null;
  phash: string | null;
}

/** Result of inserting one {@link NewItem}: the new item's id, or the id of the item that already has the content. */
export type InsertResult = { itemId: number; duplicateOf: null } | { itemId: null; duplicateOf: number };

/** One processed entry of an import's work list, committed with {@link DatasetStore.commitImportBatch}. */
export type ImportFileResult =
  /** Insert this item: the entry becomes `imported`, or `duplicate` when the dataset has its content already. */
  | { seq: number; outcome: 'item'; item: NewItem }
  /** Found to duplicate an existing item before any work was done. */
  | { seq: number; outcome: 'duplicate'; duplicateOf: number }
  | { seq: number; outcome: 'error'; reason: string };

/** One entry of an import's work list. */
export interface ImportFile {
  seq: number;
  path: string;
  targetPath: string | null;
}

const DEFAULT_PAGE = 200;
const MAX_PAGE = 1000;

interface DatasetRow {
  id: number;
  name: string;
  kind: DatasetKind;
  split_seed: number;
  validation_fraction: number;
  created_at: number;
  item_count: number;
}

interface SplitParams {
  split_seed: number;
  validation_fraction: number;
}

interface ItemRow {
  id: number;
  dataset_id: number;
  status: ItemStatus;
  rating: number;
  notes: string;
  width: number;
  height: number;
  has_face: number | null;
  face_count: number;
  face: string | null;
  source_path: string | null;
  target_source_path: string | null;
  provenance: string | null;
  image_sha: string;
  thumb_sha: string;
  target_sha: string | null;
  target_thumb_sha: string | null;
  phash: string | null;
  split: Split;
  created_at: number;
  updated_at: number;
}

const ITEM_COLUMNS = `id, dataset_id, status, rating, notes, width, height, has_face, face_count, face, source_path,
  target_source_path, provenance, image_sha, thumb_sha, target_sha, target_thumb_sha, phash, split, created_at, updated_at`;

const DATASET_SELECT = `SELECT d.id, d.name, d.kind, d.split_seed, d.validation_fraction, d.created_at,
  (SELECT count(*) FROM items i WHERE i.dataset_id = d.id) AS item_count FROM datasets d`;

const SORT_SQL: Record<ItemSort, string> = {
  id: 'id ASC',
  '-id': 'id DESC',
  rating: 'rating ASC, id ASC',
  '-rating': 'rating DESC, id ASC',
};

/** Datasets, items, tags and import work lists over one database connection; every multi-row write is one transaction. */
export class DatasetStore {
  readonly #db: Database;
  readonly #blobs: BlobStore;
  readonly #queries = new Map<string, Statement>();
  readonly #sql: {
    insertDataset: Statement<[string, string, number, number, number]>;
    datasetById: Statement<[number], DatasetRow>;
    datasetByName: Statement<[string], DatasetRow>;
    splitParams: Statement<[number], SplitParams>;
    listDatasets: Statement<[], DatasetRow>;
    deleteDataset: Statement<[number]>;
    renameDataset: Statement<[string, number]>;
    itemState: Statement<[number], { id: number; dataset_id: number; status: ItemStatus; rating: number; notes: string }>;
    tagsOfItem: Statement<[number], { name: string }>;
    setState: Statement<[string, number, string, number, number]>;
    clearTags: Statement<[number]>;
    datasetBlobs: Statement<[number], { image_sha: string; thumb_sha: string; target_sha: string | null; target_thumb_sha: string | null }>;
    insertItem: Statement<unknown[]>;
    findContent: Statement<[number, string, string], { id: number }>;
    itemById: Statement<[number], ItemRow>;
    tagsOfItems: Statement<[string], { item_id: number; name: string }>;
    upsertTag: Statement<[number, string]>;
    tagId: Statement<[number, string], { id: number }>;
    addItemTag: Statement<[number, number]>;
    removeItemTag: Statement<[number, number]>;
    tagCounts: Statement<[number], { name: string; count: number }>;
    phashes: Statement<[number], { id: number; phash: string }>;
    splitInputs: Statement<[number], { id: number; image_sha: string }>;
    setSplit: Statement<[string, number]>;
    setSplitParams: Statement<[number, number, number]>;
    insertImport: Statement<[string, number, string, number]>;
    insertImportFile: Statement<[string, number, string, string | null, string, string | null]>;
    pendingFiles: Statement<[string], { seq: number; path: string; target_path: string | null }>;
    settleImportFile: Statement<[string, string | null, number | null, string, number]>;
    finishImport: Statement<[number, string]>;
    importById: Statement<[string], { id: string; dataset_id: number; finished_at: number | null }>;
    importCounts: Statement<[string], { outcome: string; n: number }>;
    importFaces: Statement<[string], { n: number }>;
  };

  constructor(db: Database, blobs: BlobStore) {
    this.#db = db;
    this.#blobs = blobs;
    this.#sql = {
      insertDataset: db.prepare(
        'INSERT INTO datasets (name, kind, split_seed, validation_fraction, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      datasetById: db.prepare(`${DATASET_SELECT} WHERE d.id = ?`),
      datasetByName: db.prepare(`${DATASET_SELECT} WHERE d.name = ?`),
      splitParams: db.prepare('SELECT split_seed, validation_fraction FROM datasets WHERE id = ?'),
      listDatasets: db.prepare(`${DATASET_SELECT} ORDER BY d.created_at DESC, d.id DESC`),
      deleteDataset: db.prepare('DELETE FROM datasets WHERE id = ?'),
      renameDataset: db.prepare('UPDATE datasets SET name = ? WHERE id = ?'),
      itemState: db.prepare('SELECT id, dataset_id, status, rating, notes FROM items WHERE id = ?'),
      tagsOfItem: db.prepare('SELECT t.name FROM item_tags it JOIN tags t ON t.id = it.tag_id WHERE it.item_id = ? ORDER BY t.name'),
      setState: db.prepare('UPDATE items SET status = ?, rating = ?, notes = ?, updated_at = ? WHERE id = ?'),
      clearTags: db.prepare('DELETE FROM item_tags WHERE item_id = ?'),
      datasetBlobs: db.prepare('SELECT image_sha, thumb_sha, target_sha, target_thumb_sha FROM items WHERE dataset_id = ?'),
      insertItem: db.prepare(
        `INSERT INTO items (dataset_id, width, height, has_face, face_count, face, source_path, target_source_path,
           provenance, image_sha, thumb_sha, target_sha, target_thumb_sha, phash, split, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      findContent: db.prepare(
        "SELECT id FROM items WHERE dataset_id = ? AND image_sha = ? AND ifnull(target_sha, '') = ?",
      ),
      itemById: db.prepare(`SELECT ${ITEM_COLUMNS} FROM items WHERE id = ?`),
      tagsOfItems: db.prepare(
        `SELECT it.item_id, t.name FROM item_tags it JOIN tags t ON t.id = it.tag_id
         WHERE it.item_id IN (SELECT value FROM json_each(?)) ORDER BY t.name`,
      ),
      upsertTag: db.prepare('INSERT INTO tags (dataset_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      tagId: db.prepare('SELECT id FROM tags WHERE dataset_id = ? AND name = ?'),
      addItemTag: db.prepare('INSERT INTO item_tags (item_id, tag_id) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      removeItemTag: db.prepare('DELETE FROM item_tags WHERE item_id = ? AND tag_id = ?'),
      tagCounts: db.prepare(
        `SELECT t.name, count(it.item_id) AS count FROM tags t LEFT JOIN item_tags it ON it.tag_id = t.id
         WHERE t.dataset_id = ? GROUP BY t.id ORDER BY t.name`,
      ),
      phashes: db.prepare('SELECT id, phash FROM items WHERE dataset_id = ? AND phash IS NOT NULL'),
      splitInputs: db.prepare('SELECT id, image_sha FROM items WHERE dataset_id = ?'),
      setSplit: db.prepare('UPDATE items SET split = ? WHERE id = ?'),
      setSplitParams: db.prepare('UPDATE datasets SET split_seed = ?, validation_fraction = ? WHERE id = ?'),
      insertImport: db.prepare('INSERT INTO dataset_imports (id, dataset_id, params, created_at) VALUES (?, ?, ?, ?)'),
      insertImportFile: db.prepare(
        'INSERT INTO import_files (import_id, seq, path, target_path, outcome, reason) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      pendingFiles: db.prepare(
        "SELECT seq, path, target_path FROM import_files WHERE import_id = ? AND outcome = 'pending' ORDER BY seq",
      ),
      settleImportFile: db.prepare(
        "UPDATE import_files SET outcome = ?, reason = ?, item_id = ? WHERE import_id = ? AND seq = ? AND outcome = 'pending'",
      ),
      finishImport: db.prepare('UPDATE dataset_imports SET finished_at = ? WHERE id = ?'),
      importById: db.prepare('SELECT id, dataset_id, finished_at FROM dataset_imports WHERE id = ?'),
      importCounts: db.prepare('SELECT outcome, count(*) AS n FROM import_files WHERE import_id = ? GROUP BY outcome'),
      importFaces: db.prepare(
        `SELECT count(*) AS n FROM import_files f JOIN items i ON i.id = f.item_id
         WHERE f.import_id = ? AND f.outcome = 'imported' AND i.has_face = 1`,
      ),
    };
  }

  /** Creates an empty dataset; throws {@link DatasetExistsError} when the name is taken. */
  createDataset(options: CreateDatasetOptions): DatasetInfo {
    const name = options.name.trim();
    if (name.length === 0) throw new Error('A dataset needs a name.');
    const fraction = options.validationFraction ?? 0.1;
    if (!(fraction >= 0 && fraction <= 1)) throw new Error(`validationFraction must be in [0, 1], got ${fraction}`);
    if (this.#sql.datasetByName.get(name)) throw new DatasetExistsError(name);
    const { lastInsertRowid } = this.#sql.insertDataset.run(name, options.kind, options.splitSeed ?? 0, fraction, Date.now());
    return this.getDataset(Number(lastInsertRowid));
  }

  /** A dataset by id; throws {@link DatasetNotFoundError}. */
  getDataset(id: number): DatasetInfo {
    const row = this.#sql.datasetById.get(id);
    if (!row) throw new DatasetNotFoundError(`No dataset with id ${id}.`);
    return toDataset(row);
  }

  /** A dataset by name, or null. */
  findDataset(name: string): DatasetInfo | null {
    const row = this.#sql.datasetByName.get(name.trim());
    return row ? toDataset(row) : null;
  }

  /** Every dataset, newest first. */
  listDatasets(): DatasetInfo[] {
    return this.#sql.listDatasets.all().map(toDataset);
  }

  /** Renames a dataset; throws {@link DatasetNotFoundError}, or {@link DatasetExistsError} when the name is taken. */
  renameDataset(id: number, newName: string): DatasetInfo {
    const name = newName.trim();
    if (name.length === 0) throw new Error('A dataset needs a name.');
    this.getDataset(id);
    const holder = this.#sql.datasetByName.get(name);
    if (holder && holder.id !== id) throw new DatasetExistsError(name);
    this.#sql.renameDataset.run(name, id);
    return this.getDataset(id);
  }

  /** Deletes a dataset, its items, tags and import records, and releases the items' blobs (swept later). */
  deleteDataset(id: number): void {
    this.getDataset(id);
    this.#db.transaction(() => {
      for (const row of this.#sql.datasetBlobs.all(id)) {
        for (const sha of [row.image_sha, row.thumb_sha, row.target_sha, row.target_thumb_sha]) {
          if (sha !== null) this.#blobs.release(sha);
        }
      }
      this.#sql.deleteDataset.run(id);
    }).immediate();
  }

  /**
   * Inserts items in one transaction. An item whose content (image, and target for pairs) the dataset already
   * holds is not inserted: its blob references are released and the existing item's id is returned.
   */
  insertItems(items: readonly NewItem[]): InsertResult[] {
    return this.#db.transaction(() => {
      const now = Date.now();
      const splits = new Map<number, SplitParams>();
      return items.map((item) => this.#insertItem(item, now, splits));
    }).immediate();
  }

  /**
   * Creates a dataset with its items in one transaction, so that it appears whole or not at all (a merge of pair
   * shards). Items are inserted as by {@link insertItems}; throws {@link DatasetExistsError} when the name is taken.
   */
  createDatasetWithItems(options: CreateDatasetOptions, items: readonly Omit<NewItem, 'datasetId'>[]): { dataset: DatasetInfo; inserted: InsertResult[] } {
    return this.#db.transaction(() => {
      const created = this.createDataset(options);
      const inserted = this.insertItems(items.map((item) => ({ ...item, datasetId: created.id })));
      return { dataset: this.getDataset(created.id), inserted };
    }).immediate();
  }

  /** Inserts one item inside the caller's transaction; `splits` caches each dataset's split parameters for it. */
  #insertItem(item: NewItem, now: number, splits: Map<number, SplitParams>): InsertResult {
    let dataset = splits.get(item.datasetId);
    if (dataset === undefined) {
      // The light lookup: the listing query also counts the dataset's items, which scans them.
      dataset = this.#sql.splitParams.get(item.datasetId);
      if (!dataset) throw new DatasetNotFoundError(`No dataset with id ${item.datasetId}.`);
      splits.set(item.datasetId, dataset);
    }
    const best = item.faces?.[0] ?? null;
    // run() and `changes` rather than RETURNING: RETURNING makes every insert about 2.5× slower.
    const { changes, lastInsertRowid } = this.#sql.insertItem.run(
      item.datasetId,
      item.width,
      item.height,
      item.faces === null ? null : item.faces.length > 0 ? 1 : 0,
      item.faces?.length ?? 0,
      best === null ? null : JSON.stringify(roundFace(best)),
      item.sourcePath,
      item.targetSourcePath,
      item.provenance === undefined || item.provenance === null ? null : JSON.stringify(item.provenance),
      item.imageSha,
      item.thumbSha,
      item.targetSha,
      item.targetThumbSha,
      item.phash,
      splitOf(dataset.split_seed, item.imageSha, dataset.validation_fraction),
      now,
      now,
    );
    if (changes === 1) return { itemId: Number(lastInsertRowid), duplicateOf: null };
    const existing = this.#sql.findContent.get(item.datasetId, item.imageSha, item.targetSha ?? '');
    if (!existing) throw new Error('insertItems: the insert was refused but no item has this content');
    for (const sha of [item.imageSha, item.thumbSha, item.targetSha, item.targetThumbSha]) {
      if (sha !== null) this.#blobs.release(sha);
    }
    return { itemId: null, duplicateOf: existing.id };
  }

  /** The item holding this content in the dataset, or null. */
  findItemByContent(datasetId: number, imageSha: string, targetSha: string | null): number | null {
    return this.#sql.findContent.get(datasetId, imageSha, targetSha ?? '')?.id ?? null;
  }

  /** One item; throws {@link DatasetNotFoundError}. */
  getItem(id: number): ItemInfo {
    const row = this.#sql.itemById.get(id);
    if (!row) throw new DatasetNotFoundError(`No item with id ${id}.`);
    return this.#withTags([row])[0]!;
  }

  /** Items by id, in the order asked; unknown ids are left out. */
  getItems(ids: readonly number[]): ItemInfo[] {
    return this.#withTags(ids.flatMap((id) => this.#sql.itemById.get(id) ?? []));
  }

  /** A filtered, sorted window of a dataset's items and the number that match in all (for a virtualised grid). */
  listItems(query: ItemQuery): ItemPage {
    const { where, params } = itemFilter(query);
    const limit = Math.min(MAX_PAGE, Math.max(0, Math.floor(query.limit ?? DEFAULT_PAGE)));
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const order = SORT_SQL[query.sort ?? 'id'];
    const rows = this.#query<ItemRow>(
      `SELECT ${ITEM_COLUMNS} FROM items WHERE ${where} ORDER BY ${order} LIMIT ? OFFSET ?`,
    ).all(...params, limit, offset);
    const total = this.#query<{ n: number }>(`SELECT count(*) AS n FROM items WHERE ${where}`).get(...params)!.n;
    return { items: this.#withTags(rows), total };
  }

  /**
   * Applies one change to many items in one transaction and returns each item's state from before it, so that
   * {@link restoreItems} can undo it. Unknown ids throw {@link DatasetNotFoundError} and change nothing.
   */
  updateItems(ids: readonly number[], update: ItemUpdate): UpdateItemsResult {
    if (update.rating !== undefined && !(Number.isInteger(update.rating) && update.rating >= 0 && update.rating <= 5)) {
      throw new Error(`rating must be an integer from 0 to 5, got ${update.rating}`);
    }
    const addTags = (update.addTags ?? []).map(cleanTag);
    const removeTags = (update.removeTags ?? []).map(cleanTag);
    const now = Date.now();
    return this.#db.transaction(() => {
      const previous: ItemState[] = [];
      // Tag ids per dataset, looked up once for the whole change.
      const tagIds = new Map<number, { add: number[]; remove: number[] }>();
      for (const id of new Set(ids)) {
        const row = this.#sql.itemState.get(id);
        if (!row) throw new DatasetNotFoundError(`No item with id ${id}.`);
        previous.push({ ...stateOf(row), tags: this.#sql.tagsOfItem.all(id).map((t) => t.name) });
        let tags = tagIds.get(row.dataset_id);
        if (tags === undefined) {
          tags = {
            add: addTags.map((t) => this.#tagIdFor(row.dataset_id, t)),
            remove: removeTags.flatMap((t) => this.#sql.tagId.get(row.dataset_id, t)?.id ?? []),
          };
          tagIds.set(row.dataset_id, tags);
        }
        this.#sql.setState.run(update.status ?? row.status, update.rating ?? row.rating, update.notes ?? row.notes, now, id);
        for (const tagId of tags.add) this.#sql.addItemTag.run(id, tagId);
        for (const tagId of tags.remove) this.#sql.removeItemTag.run(id, tagId);
      }
      return { updated: previous.length, previous };
    }).immediate();
  }

  /** Puts items back into the given states (status, rating, notes and exactly these tags), in one transaction. */
  restoreItems(states: readonly ItemState[]): number {
    for (const s of states) {
      if (!(Number.isInteger(s.rating) && s.rating >= 0 && s.rating <= 5)) {
        throw new Error(`rating must be an integer from 0 to 5, got ${s.rating} (item ${s.id})`);
      }
    }
    const now = Date.now();
    return this.#db.transaction(() => {
      for (const state of states) {
        const row = this.#sql.itemState.get(state.id);
        if (!row) throw new DatasetNotFoundError(`No item with id ${state.id}.`);
        this.#sql.setState.run(state.status, state.rating, state.notes, now, state.id);
        this.#sql.clearTags.run(state.id);
        for (const tag of state.tags) this.#sql.addItemTag.run(state.id, this.#tagIdFor(row.dataset_id, cleanTag(tag)));
      }
      return states.length;
    }).immediate();
  }

  #tagIdFor(datasetId: number, tag: string): number {
    const name = tag.trim();
    if (name.length === 0) throw new Error('A tag cannot be empty.');
    this.#sql.upsertTag.run(datasetId, name);
    return this.#sql.tagId.get(datasetId, name)!.id;
  }

  /** The dataset's tags with how many items carry each. */
  tags(datasetId: number): { name: string; count: number }[] {
    return this.#sql.tagCounts.all(datasetId);
  }

  /** Groups of items whose perceptual hashes differ in at most `maxDistance` of 64 bits (default 6). */
  nearDuplicates(datasetId: number, maxDistance = 6): NearDuplicateGroup[] {
    return nearDuplicateGroups(this.#sql.phashes.all(datasetId), maxDistance);
  }

  /** Re-splits every item with a new seed and validation share; returns the counts per split. */
  reassignSplits(datasetId: number, seed: number, validationFraction: number): Record<Split, number> {
    if (!(validationFraction >= 0 && validationFraction <= 1)) {
      throw new Error(`validationFraction must be in [0, 1], got ${validationFraction}`);
    }
    this.getDataset(datasetId);
    return this.#db.transaction(() => {
      this.#sql.setSplitParams.run(seed, validationFraction, datasetId);
      const counts: Record<Split, number> = { train: 0, validation: 0 };
      for (const row of this.#sql.splitInputs.all(datasetId)) {
        const split = splitOf(seed, row.image_sha, validationFraction);
        this.#sql.setSplit.run(split, row.id);
        counts[split] += 1;
      }
      return counts;
    }).immediate();
  }

  /** Records a new import and its whole work list (one transaction), before any file is read. */
  createImport(importId: string, datasetId: number, params: unknown, files: readonly WorkEntry[]): void {
    this.getDataset(datasetId);
    this.#db.transaction(() => {
      this.#sql.insertImport.run(importId, datasetId, JSON.stringify(params), Date.now());
      files.forEach((f, seq) => {
        this.#sql.insertImportFile.run(importId, seq, f.path, f.targetPath, f.preset?.outcome ?? 'pending', f.preset?.reason ?? null);
      });
    }).immediate();
  }

  /** The import's dataset, or null when no import has this id. */
  importDataset(importId: string): number | null {
    return this.#sql.importById.get(importId)?.dataset_id ?? null;
  }

  /** Entries of the work list not yet processed, in order. */
  pendingImportFiles(importId: string): ImportFile[] {
    return this.#sql.pendingFiles.all(importId).map((r) => ({ seq: r.seq, path: r.path, targetPath: r.target_path }));
  }

  /**
   * Commits processed entries in one transaction: items are inserted (or found to be duplicates) and each entry's
   * outcome recorded together, so after a crash an entry is either fully done or still pending.
   */
  commitImportBatch(importId: string, results: readonly ImportFileResult[]): FileOutcomeKind[] {
    return this.#db.transaction(() => {
      const now = Date.now();
      const splits = new Map<number, SplitParams>();
      return results.map((r): FileOutcomeKind => {
        if (r.outcome === 'error') {
          this.#sql.settleImportFile.run('error', r.reason, null, importId, r.seq);
          return 'error';
        }
        const inserted = r.outcome === 'item' ? this.#insertItem(r.item, now, splits) : { itemId: null, duplicateOf: r.duplicateOf };
        if (inserted.itemId !== null) {
          this.#sql.settleImportFile.run('imported', null, inserted.itemId, importId, r.seq);
          return 'imported';
        }
        this.#sql.settleImportFile.run('duplicate', `same content as item ${inserted.duplicateOf}`, inserted.duplicateOf, importId, r.seq);
        return 'duplicate';
      });
    }).immediate();
  }

  /** Marks an import finished. */
  finishImport(importId: string): void {
    this.#sql.finishImport.run(Date.now(), importId);
  }

  /** Totals of an import so far. */
  importCounts(importId: string): ImportCounts {
    const counts: ImportCounts = { total: 0, imported: 0, duplicate: 0, error: 0, skipped: 0, withFace: 0 };
    for (const { outcome, n } of this.#sql.importCounts.all(importId)) {
      counts.total += n;
      if (outcome !== 'pending') counts[outcome as FileOutcomeKind] = n;
    }
    counts.withFace = this.#sql.importFaces.get(importId)!.n;
    return counts;
  }

  /** Per-file outcomes of an import, in work-list order, optionally only some outcomes. */
  importFiles(importId: string, options: { outcomes?: FileOutcomeKind[]; offset?: number; limit?: number } = {}): FileOutcome[] {
    const outcomes = options.outcomes ?? ['imported', 'duplicate', 'error', 'skipped'];
    const rows = this.#query<{ path: string; target_path: string | null; outcome: FileOutcomeKind; reason: string | null; item_id: number | null }>(
      `SELECT path, target_path, outcome, reason, item_id FROM import_files
       WHERE import_id = ? AND outcome IN (SELECT value FROM json_each(?)) ORDER BY seq LIMIT ? OFFSET ?`,
    ).all(importId, JSON.stringify(outcomes), options.limit ?? -1, options.offset ?? 0);
    return rows.map((r) => ({ path: r.path, targetPath: r.target_path, outcome: r.outcome, reason: r.reason, itemId: r.item_id }));
  }

  #withTags(rows: readonly ItemRow[]): ItemInfo[] {
    const tags = new Map<number, string[]>();
    if (rows.length > 0) {
      for (const t of this.#sql.tagsOfItems.all(JSON.stringify(rows.map((r) => r.id)))) {
        const list = tags.get(t.item_id);
        if (list) list.push(t.name);
        else tags.set(t.item_id, [t.name]);
      }
    }
    return rows.map((r) => toItem(r, tags.get(r.id) ?? []));
  }

  // Filtered queries differ only in which filters are present: a handful of shapes, each prepared once.
  #query<T>(sql: string): Statement<unknown[], T> {
    let stmt = this.#queries.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#queries.set(sql, stmt);
    }
    return stmt as Statement<unknown[], T>;
  }
}

/** The WHERE clause (always bound, never spliced) of an item query. */
function itemFilter(query: ItemQuery): { where: string; params: unknown[] } {
  const clauses = ['dataset_id = ?'];
  const params: unknown[] = [query.datasetId];
  if (query.status !== undefined) {
    clauses.push('status = ?');
    params.push(query.status);
  }
  if (query.minRating !== undefined && query.minRating > 0) {
    clauses.push('rating >= ?');
    params.push(query.minRating);
  }
  if (query.hasFace !== undefined) {
    clauses.push('has_face = ?');
    params.push(query.hasFace ? 1 : 0);
  }
  if (query.split !== undefined) {
    clauses.push('split = ?');
    params.push(query.split);
  }
  if (query.tag !== undefined) {
    clauses.push('id IN (SELECT item_id FROM item_tags WHERE tag_id = (SELECT id FROM tags WHERE dataset_id = ? AND name = ?))');
    params.push(query.datasetId, query.tag.trim());
  }
  return { where: clauses.join(' AND '), params };
}

function cleanTag(tag: string): string {
  const name = tag.trim();
  if (name.length === 0) throw new Error('A tag cannot be empty.');
  return name;
}

function stateOf(row: { id: number; status: ItemStatus; rating: number; notes: string }): Omit<ItemState, 'tags'> {
  return { id: row.id, status: row.status, rating: row.rating, notes: row.notes };
}

function toDataset(row: DatasetRow): DatasetInfo {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    itemCount: row.item_count,
    splitSeed: row.split_seed,
    validationFraction: row.validation_fraction,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

function toItem(row: ItemRow, tags: string[]): ItemInfo {
  return {
    id: row.id,
    datasetId: row.dataset_id,
    status: row.status,
    rating: row.rating,
    notes: row.notes,
    tags,
    width: row.width,
    height: row.height,
    hasFace: row.has_face === null ? null : row.has_face === 1,
    faceCount: row.face_count,
    face: row.face === null ? null : (JSON.parse(row.face) as FaceDetection),
    sourcePath: row.source_path,
    targetSourcePath: row.target_source_path,
    provenance: row.provenance === null ? null : (JSON.parse(row.provenance) as unknown),
    imageSha: row.image_sha,
    thumbSha: row.thumb_sha,
    targetSha: row.target_sha,
    targetThumbSha: row.target_thumb_sha,
    phash: row.phash,
    split: row.split,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

// Hundredths of a pixel are far below the detector's precision; rounding keeps the JSON short.
function roundFace(face: FaceDetection): FaceDetection {
  const r = (v: number): number => Math.round(v * 100) / 100;
  return {
    score: Math.round(face.score * 10000) / 10000,
    box: { x: r(face.box.x), y: r(face.box.y), width: r(face.box.width), height: r(face.box.height) },
    keypoints: face.keypoints.map((p) => ({ x: r(p.x), y: r(p.y) })),
  };
}
