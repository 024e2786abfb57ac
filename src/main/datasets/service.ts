// The datasets domain behind the contract's `datasets:*` requests: thin checks and shaping over DatasetStore.
import { randomUUID } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { BlobStore } from '../core/blob-store.ts';
import { datasetStats } from './stats.ts';
import { DatasetStore } from './store.ts';
import type {
  CreateDatasetRequest,
  DatasetImportParams,
  DatasetInfo,
  DatasetStats,
  DuplicateReport,
  ItemPage,
  ItemQuery,
  ItemState,
  ItemUpdate,
  UpdateItemsResult,
} from './types.ts';

/** Most near-duplicate groups one report carries. */
const MAX_DUPLICATE_GROUPS = 200;

/** A request that cannot be carried out as asked (a path that does not exist, a wrong number of folders). */
export class DatasetRequestError extends Error {
  override readonly name = 'DatasetRequestError';
}

/** Answers the datasets requests of one studio. */
export class DatasetService {
  /** The store, for code in main that writes datasets itself (the teacher's synthetic pairs, commands). */
  readonly store: DatasetStore;
  readonly #db: Database;
  readonly #blobs: BlobStore;

  constructor(db: Database, blobs: BlobStore) {
    this.#db = db;
    this.#blobs = blobs;
    this.store = new DatasetStore(db, blobs);
  }

  /** Every dataset, newest first. */
  list(): DatasetInfo[] {
    return this.store.listDatasets();
  }

  /** A new, empty dataset. */
  create(request: CreateDatasetRequest): DatasetInfo {
    return this.store.createDataset({
      name: request.name,
      kind: request.kind,
      ...(request.splitSeed === undefined ? {} : { splitSeed: request.splitSeed }),
      ...(request.validationFraction === undefined ? {} : { validationFraction: request.validationFraction }),
    });
  }

  /** Renames a dataset. */
  rename(id: number, name: string): DatasetInfo {
    return this.store.renameDataset(id, name);
  }

  /** Deletes a dataset and frees the blobs no other owner holds. */
  async delete(id: number): Promise<void> {
    this.store.deleteDataset(id);
    await this.#blobs.sweep();
  }

  /** A window of items and the number matching the filters. */
  items(query: ItemQuery): ItemPage {
    this.store.getDataset(query.datasetId);
    return this.store.listItems(query);
  }

  /** The dataset's tags with how many items carry each. */
  tags(datasetId: number): { name: string; count: number }[] {
    this.store.getDataset(datasetId);
    return this.store.tags(datasetId);
  }

  /** One change to many items; returns their states from before, for undo. */
  updateItems(ids: readonly number[], update: ItemUpdate): UpdateItemsResult {
    return this.store.updateItems(ids, update);
  }

  /** Puts items back into earlier states (undo). */
  restoreItems(states: readonly ItemState[]): { updated: number } {
    return { updated: this.store.restoreItems(states) };
  }

  /** Counts for the stats view. */
  stats(datasetId: number): DatasetStats {
    return datasetStats(this.#db, datasetId);
  }

  /** Groups of near-duplicate items (pHash within `maxDistance` bits), largest groups first. */
  duplicates(datasetId: number, maxDistance = 6): DuplicateReport {
    this.store.getDataset(datasetId);
    const groups = this.store.nearDuplicates(datasetId, maxDistance).sort((a, b) => b.itemIds.length - a.itemIds.length);
    return {
      datasetId,
      maxDistance,
      groupCount: groups.length,
      groups: groups.slice(0, MAX_DUPLICATE_GROUPS).map((g) => ({ items: this.store.getItems(g.itemIds), maxDistance: g.maxDistance })),
    };
  }

  /**
   * Keeps a webcam frame as a file under `<dataDir>/captures` (the item's source) and returns its path, for an import
   * job to bring into the dataset; only PNG and JPEG bytes are taken, the import checks the rest.
   */
  async saveCapture(dataDir: string, datasetId: number, imageBase64: string): Promise<string> {
    const dataset = this.store.getDataset(datasetId);
    if (dataset.kind !== 'photos') throw new DatasetRequestError(`"${dataset.name}" is a ${dataset.kind} dataset; webcam captures go into photos datasets`);
    const bytes = Buffer.from(imageBase64, 'base64');
    const ext = isPng(bytes) ? '.png' : isJpeg(bytes) ? '.jpg' : null;
    if (ext === null) throw new DatasetRequestError('a capture must be a PNG or JPEG image');
    const folder = join(dataDir, 'captures');
    await mkdir(folder, { recursive: true });
    const path = join(folder, `capture-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}${ext}`);
    await writeFile(path, bytes, { flag: 'wx' });
    return path;
  }

  /** Checks an import before its job is queued, so the user hears at once about a wrong dataset or path. */
  async checkImport(params: DatasetImportParams): Promise<void> {
    const dataset = this.store.getDataset(params.datasetId);
    if (params.pairs && dataset.kind === 'photos') {
      throw new DatasetRequestError(`"${dataset.name}" is a photos dataset; import pairs into a pairs dataset`);
    }
    if (!params.pairs && dataset.kind !== 'photos') {
      throw new DatasetRequestError(`"${dataset.name}" is a ${dataset.kind} dataset; import photos into a photos dataset, or choose pairs`);
    }
    if (params.pairs && params.paths.length > 2) {
      throw new DatasetRequestError(`paired import takes one folder or two (before, after), got ${params.paths.length}`);
    }
    for (const path of params.paths) {
      const st = await stat(path).catch(() => null);
      if (st === null) throw new DatasetRequestError(`cannot import ${path}: no such file or folder`);
      if (params.pairs && !st.isDirectory()) throw new DatasetRequestError(`${path} is not a folder; paired import takes folders`);
    }
  }
}

function isPng(bytes: Buffer): boolean {
  return bytes.length > 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a;
}

function isJpeg(bytes: Buffer): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}
