// Near-duplicate groups over perceptual hashes: multi-index hashing, so 100k items need no all-pairs comparison.
import type { NearDuplicateGroup } from './types.ts';

/** An item and its perceptual hash (16 hex digits). */
export interface HashedItem {
  id: number;
  phash: string;
}

/**
 * Groups items whose hashes are within `maxDistance` bits of each other, transitively (A~B and B~C put A, B, C in
 * one group). Splitting the 64 bits into `maxDistance + 1` chunks, two hashes that close must agree exactly on at
 * least one chunk (pigeonhole), so only items sharing a chunk value are compared. Groups are ordered largest
 * first; ids inside a group ascend.
 */
export function nearDuplicateGroups(items: readonly HashedItem[], maxDistance: number): NearDuplicateGroup[] {
  if (!(Number.isInteger(maxDistance) && maxDistance >= 0 && maxDistance < 64)) {
    throw new Error(`nearDuplicateGroups: maxDistance must be an integer from 0 to 63, got ${maxDistance}`);
  }
  // Identical hashes are grouped up front: a pile of equal hashes (blank frames) would otherwise fill one bucket.
  const byHash = new Map<string, number[]>();
  for (const item of items) {
    const ids = byHash.get(item.phash);
    if (ids) ids.push(item.id);
    else byHash.set(item.phash, [item.id]);
  }
  const hashes = [...byHash.keys()];
  const words = hashes.map(toWords);
  const parent = hashes.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const chunks = maxDistance + 1;
  const bits = hashes.map(toBits);
  for (let c = 0; c < chunks; c++) {
    const start = Math.floor((c * 64) / chunks);
    const end = Math.floor(((c + 1) * 64) / chunks);
    const buckets = new Map<string, number[]>();
    bits.forEach((b, i) => {
      const key = b.slice(start, end);
      const bucket = buckets.get(key);
      if (bucket) bucket.push(i);
      else buckets.set(key, [i]);
    });
    for (const bucket of buckets.values()) {
      for (let x = 0; x < bucket.length; x++) {
        for (let y = x + 1; y < bucket.length; y++) {
          const i = bucket[x]!;
          const j = bucket[y]!;
          const ri = find(i);
          const rj = find(j);
          if (ri !== rj && distanceWords(words[i]!, words[j]!) <= maxDistance) parent[ri] = rj;
        }
      }
    }
  }
  const components = new Map<number, number[]>();
  hashes.forEach((_, i) => {
    const root = find(i);
    const members = components.get(root);
    if (members) members.push(i);
    else components.set(root, [i]);
  });
  const groups: NearDuplicateGroup[] = [];
  for (const members of components.values()) {
    const ids = members.flatMap((i) => byHash.get(hashes[i]!)!);
    if (ids.length < 2) continue;
    ids.sort((a, b) => a - b);
    const firstHash = members.find((i) => byHash.get(hashes[i]!)!.includes(ids[0]!))!;
    const maxFromFirst = Math.max(...members.map((i) => distanceWords(words[firstHash]!, words[i]!)));
    groups.push({ itemIds: ids, maxDistance: maxFromFirst });
  }
  return groups.sort((a, b) => b.itemIds.length - a.itemIds.length || a.itemIds[0]! - b.itemIds[0]!);
}

function toWords(hex: string): [number, number] {
  return [parseInt(hex.slice(0, 8), 16), parseInt(hex.slice(8, 16), 16)];
}

function toBits(hex: string): string {
  let out = '';
  for (const ch of hex) out += parseInt(ch, 16).toString(2).padStart(4, '0');
  return out;
}

function popcount32(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function distanceWords(a: readonly [number, number], b: readonly [number, number]): number {
  return popcount32((a[0] ^ b[0]) >>> 0) + popcount32((a[1] ^ b[1]) >>> 0);
}
