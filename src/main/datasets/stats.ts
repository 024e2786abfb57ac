// Dataset statistics: counts by status, rating, split and tag, faces found, a resolution histogram and tag balance.
import type { Database } from 'better-sqlite3';
import { DatasetNotFoundError } from './store.ts';
import type { DatasetKind, DatasetStats, ItemStatus, Split, TagBalance } from './types.ts';

/** Upper bounds (exclusive) of the resolution buckets, on the image's longer side. */
const RESOLUTION_EDGES = [256, 512, 1024, 2048, 4096];

/** Computes a dataset's statistics with a handful of aggregate queries (each one index or table scan). */
export function datasetStats(db: Database, datasetId: number): DatasetStats {
  const dataset = db.prepare('SELECT id, name, kind FROM datasets WHERE id = ?').get(datasetId) as
    | { id: number; name: string; kind: DatasetKind }
    | undefined;
  if (!dataset) throw new DatasetNotFoundError(`No dataset with id ${datasetId}.`);

  const byStatus: Record<ItemStatus, number> = { pending: 0, accepted: 0, rejected: 0 };
  for (const r of db.prepare('SELECT status, count(*) AS n FROM items WHERE dataset_id = ? GROUP BY status').all(datasetId) as {
    status: ItemStatus;
    n: number;
  }[]) {
    byStatus[r.status] = r.n;
  }
  const byRating = [0, 0, 0, 0, 0, 0];
  for (const r of db.prepare('SELECT rating, count(*) AS n FROM items WHERE dataset_id = ? GROUP BY rating').all(datasetId) as {
    rating: number;
    n: number;
  }[]) {
    byRating[r.rating] = r.n;
  }
  const bySplit: Record<Split, number> = { train: 0, validation: 0 };
  for (const r of db.prepare('SELECT split, count(*) AS n FROM items WHERE dataset_id = ? GROUP BY split').all(datasetId) as {
    split: Split;
    n: number;
  }[]) {
    bySplit[r.split] = r.n;
  }
  const faces = db
    .prepare(
      `SELECT count(*) FILTER (WHERE has_face = 1) AS found, count(*) FILTER (WHERE has_face = 0) AS notFound,
         count(*) FILTER (WHERE has_face IS NULL) AS notChecked, count(*) FILTER (WHERE face_count > 1) AS multiple
       FROM items WHERE dataset_id = ?`,
    )
    .get(datasetId) as DatasetStats['faces'];

  const caseSql = RESOLUTION_EDGES.map((edge, i) => `WHEN max(width, height) < ${edge} THEN ${i}`).join(' ');
  const resolution = [...RESOLUTION_EDGES, null].map((maxSide, i) => ({
    label: resolutionLabel(i),
    minSide: i === 0 ? 1 : RESOLUTION_EDGES[i - 1]!,
    maxSide,
    count: 0,
  }));
  for (const r of db
    .prepare(`SELECT CASE ${caseSql} ELSE ${RESOLUTION_EDGES.length} END AS bucket, count(*) AS n FROM items WHERE dataset_id = ? GROUP BY bucket`)
    .all(datasetId) as { bucket: number; n: number }[]) {
    resolution[r.bucket]!.count = r.n;
  }

  const byTag = db
    .prepare(
      `SELECT t.name AS tag, count(i.id) AS count, count(i.id) FILTER (WHERE i.status = 'accepted') AS accepted
       FROM tags t LEFT JOIN item_tags it ON it.tag_id = t.id LEFT JOIN items i ON i.id = it.item_id
       WHERE t.dataset_id = ? GROUP BY t.id ORDER BY t.name`,
    )
    .all(datasetId) as DatasetStats['byTag'];

  return {
    datasetId,
    name: dataset.name,
    kind: dataset.kind,
    total: byStatus.pending + byStatus.accepted + byStatus.rejected,
    byStatus,
    byRating,
    bySplit,
    byTag,
    faces,
    resolution,
    balance: tagBalance(db, datasetId, byStatus.accepted),
  };
}

function resolutionLabel(i: number): string {
  if (i === 0) return `< ${RESOLUTION_EDGES[0]}`;
  if (i === RESOLUTION_EDGES.length) return `≥ ${RESOLUTION_EDGES[i - 1]}`;
  return `${RESOLUTION_EDGES[i - 1]}–${RESOLUTION_EDGES[i]! - 1}`;
}

/**
 * Balance of accepted items over each tag group: tags written `group:value` (e.g. `age:adult`, `skin:V`) form a
 * group, the way the YouTube pipeline balanced its data over age, gender and skin tone.
 */
function tagBalance(db: Database, datasetId: number, accepted: number): TagBalance[] {
  const rows = db
    .prepare(
      `SELECT t.name AS name, count(i.id) AS n FROM tags t
         LEFT JOIN item_tags it ON it.tag_id = t.id
         LEFT JOIN items i ON i.id = it.item_id AND i.status = 'accepted'
       WHERE t.dataset_id = ? AND instr(t.name, ':') > 1 GROUP BY t.id ORDER BY t.name`,
    )
    .all(datasetId) as { name: string; n: number }[];
  const covered = db.prepare(
    `SELECT count(DISTINCT it.item_id) AS n FROM item_tags it JOIN tags t ON t.id = it.tag_id JOIN items i ON i.id = it.item_id
     WHERE t.dataset_id = ? AND i.status = 'accepted' AND substr(t.name, 1, instr(t.name, ':') - 1) = ?`,
  );
  const groups = new Map<string, { value: string; count: number }[]>();
  for (const r of rows) {
    const colon = r.name.indexOf(':');
    const group = r.name.slice(0, colon);
    const values = groups.get(group) ?? [];
    values.push({ value: r.name.slice(colon + 1), count: r.n });
    groups.set(group, values);
  }
  return [...groups].map(([group, values]) => {
    const tagged = values.reduce((s, v) => s + v.count, 0);
    const withGroup = (covered.get(datasetId, group) as { n: number }).n;
    return {
      group,
      values: values.map((v) => ({ ...v, share: tagged > 0 ? v.count / tagged : 0 })),
      untagged: accepted - withGroup,
      evenness: evenness(values.map((v) => v.count)),
    };
  });
}

/** Shannon entropy of the counts divided by its maximum, log(k): 1 when all k values are equally common. */
export function evenness(counts: readonly number[]): number {
  const total = counts.reduce((s, c) => s + c, 0);
  if (counts.length < 2 || total === 0) return 0;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / total) * Math.log(c / total);
  return h / Math.log(counts.length);
}
