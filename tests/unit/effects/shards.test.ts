// Pair shards: a run split over machines merges into exactly the unsharded run, and damaged or mismatched shards are refused.
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo, Result } from '../../../src/shared/contract.ts';
import type { ItemInfo } from '../../../src/shared/datasets/types.ts';
import type { ClipModelInfo, EffectPairsParams, PromptInfo } from '../../../src/shared/effects/types.ts';
import type { TeacherInfo } from '../../../src/shared/teachers/types.ts';
import { DatasetExistsError } from '../../../src/main/datasets/store.ts';
import { generatePairs } from '../../../src/main/effects/edits.ts';
import { mergePairShards, ShardRejectedError, writePairShard, type MergeStores, type ShardManifest } from '../../../src/main/effects/shards.ts';
import { byteLevelVocabulary, writeTinyClip } from '../../../src/main/engine/clip/index.ts';
import { forEachZipEntry, DEFAULT_LIMITS } from '../../../src/main/export/reader.ts';
import { Studio } from '../../../src/main/services/studio.ts';
import { makeTempDir } from '../core/temp-dir.ts';
import { runCli, type CliResult } from '../support/cli.ts';

const temp = makeTempDir();
const dataDir = join(temp.dir, 'data');
let studio: Studio;
let isOpen = false;
let teacher: TeacherInfo;
let run: Omit<EffectPairsParams, 'datasetName'>;

function value<T>(result: Result<unknown>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value as T;
}

async function job<T>(result: Result<unknown>): Promise<T> {
  const info = value<JobInfo>(result);
  const done = await new Promise<JobInfo>((resolve) => {
    const off = studio.onEvent((_, j) => {
      if (j.id === info.id && ['succeeded', 'failed', 'cancelled'].includes(j.status)) {
        off();
        resolve(j);
      }
    });
  });
  if (done.status !== 'succeeded') throw new Error(`${info.kind} ${done.status}: ${done.error}`);
  return done.result as T;
}

function stores(): MergeStores {
  return { blobs: studio.blobs, datasets: studio.datasets.store, teachers: studio.teachers.store, effects: studio.effects.store };
}

function shardPath(name: string): string {
  return join(temp.dir, name);
}

async function writeShard(name: string, index: number, count: number, params = run): Promise<string> {
  const out = shardPath(name);
  await writePairShard(studio.blobs, studio.effects.store, teacher, { ...params, shard: { index, count } }, out);
  return out;
}

/** What must be the same in a merged and an unsharded dataset: every item's content, hashes and provenance, in order. */
function content(items: readonly ItemInfo[]): unknown[] {
  return [...items]
    .sort((a, b) => a.id - b.id)
    .map((i) => ({ imageSha: i.imageSha, targetSha: i.targetSha, thumbSha: i.thumbSha, targetThumbSha: i.targetThumbSha, phash: i.phash, split: i.split, provenance: i.provenance }));
}

function itemsOf(datasetId: number): ItemInfo[] {
  return studio.datasets.store.listItems({ datasetId, limit: 1000 }).items;
}

async function entriesOf(file: string): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  await forEachZipEntry(file, DEFAULT_LIMITS, { allowedName: /.*/, folders: [] }, async (name, bytes) => {
    entries.set(name, bytes);
  });
  return entries;
}

async function zipOf(file: string, entries: ReadonlyMap<string, Uint8Array>): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const [name, bytes] of entries) zip.addBuffer(Buffer.from(bytes), name);
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(file));
  return file;
}

function datasetNames(): string[] {
  return studio.datasets.store.listDatasets().map((d) => d.name).sort();
}

/** A refused merge: the message, no new dataset, and the references it took on the shards' images given back. */
async function refused(files: string[], message: RegExp): Promise<void> {
  const before = datasetNames();
  const image = itemsOf(studio.datasets.store.findDataset('Whole')!.id)[0]!.imageSha;
  const refs = studio.blobs.info(image)!.refcount;
  const error = await mergePairShards(stores(), files, 'Refused').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ShardRejectedError);
  expect((error as Error).message).toMatch(message);
  expect(datasetNames()).toEqual(before);
  expect(studio.blobs.info(image)!.refcount).toBe(refs);
}

beforeAll(async () => {
  studio = await Studio.open({ dataDir, host: 'browser', version: '0.0.0-test', log: () => undefined });
  isOpen = true;
  teacher = value<TeacherInfo>(await studio.handle('teachers:make-tiny', ['Tiny']));
  await writeTinyClip(join(temp.dir, 'clip'), byteLevelVocabulary());
  const clip = await job<ClipModelInfo>(await studio.handle('clips:import', [{ path: join(temp.dir, 'clip'), name: 'Tiny CLIP' }]));
  await job(await studio.handle('effects:compute-relevance', [{ teacherId: teacher.id, clipId: clip.id, images: 2, statsSamples: 64 }]));
  run = { teacherId: teacher.id, clipId: clip.id, target: 'a face with a white beard', neutral: 'a face', alpha: 6, beta: 0, psi: 0.7, seed: 5, count: 10 };
}, 60_000);

afterAll(async () => {
  if (isOpen) await studio.close();
  temp.cleanup();
});

describe('pair shards', () => {
  it('3 shards of 10 pairs (k mod 3) merge into exactly the unsharded run of 10: same seeds, same image hashes, same provenance', async () => {
    const whole = await generatePairs(studio.blobs, studio.effects.store, studio.datasets.store, teacher, { ...run, datasetName: 'Whole' });
    expect(whole.count).toBe(10);

    const files = [await writeShard('s2.zip', 2, 3), await writeShard('s0.zip', 0, 3), await writeShard('s1.zip', 1, 3)];
    const manifest = JSON.parse((await entriesOf(files[1]!)).get('manifest.json')!.toString()) as ShardManifest;
    expect(manifest.shard).toEqual({ index: 0, count: 3 });
    expect(manifest.pairs.map((p) => [p.index, p.seed])).toEqual([[0, 5], [3, 8], [6, 11], [9, 14]]);
    expect(manifest.run).toMatchObject({ count: 10, seed: 5, target: 'a face with a white beard', teacher: { weightsSha256: teacher.weightsSha256 }, clip: { name: 'Tiny CLIP' } });

    // The job takes the same shard parameter and writes the same pairs into a dataset of its own.
    const sharded = await job<{ datasetId: number; count: number }>(await studio.handle('effects:generate-pairs', [{ ...run, datasetName: 'Shard 1 of 3', shard: { index: 1, count: 3 } }]));
    expect(sharded.count).toBe(3);
    expect(itemsOf(sharded.datasetId).map((i) => (i.provenance as { seed: number }).seed)).toEqual([6, 9, 12]);

    const merged = await mergePairShards(stores(), files, 'Merged');
    expect(merged).toMatchObject({ datasetName: 'Merged', count: 10, duplicates: 0, shards: 3 });
    expect(studio.datasets.store.getDataset(merged.datasetId).kind).toBe('pairs');
    const mergedItems = itemsOf(merged.datasetId);
    expect(mergedItems.map((i) => (i.provenance as { seed: number }).seed)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(content(mergedItems)).toEqual(content(itemsOf(whole.datasetId)));

    // The same shards again: refused by name, and nothing is added anywhere.
    await expect(mergePairShards(stores(), files, 'Merged')).rejects.toThrow(DatasetExistsError);
    expect(itemsOf(merged.datasetId)).toHaveLength(10);
    await refused([files[0]!, files[1]!, files[2]!, files[1]!], /shards "s0\.zip" and "s0\.zip" are both shard 0\/3: give each shard once/);
  }, 60_000);

  it('refuses a changed image, a wrong checksum, an entry with "..", a missing shard and a shard of another prompt, writing nothing', async () => {
    const [s0, s1, s2] = [await writeShard('t0.zip', 0, 3), await writeShard('t1.zip', 1, 3), await writeShard('t2.zip', 2, 3)];
    const entries = await entriesOf(s1);

    const changed = new Map(entries);
    const edited = (await entriesOf(s0)).get('pairs/0000000-edited.png')!;
    changed.set('pairs/0000004-edited.png', edited);
    await refused([s0, await zipOf(shardPath('changed.zip'), changed), s2], /the edited image of pair 4 \(pairs\/0000004-edited\.png\) has sha256 [0-9a-f]{64} .* the shard was changed or damaged/);

    const manifest = JSON.parse(entries.get('manifest.json')!.toString()) as ShardManifest;
    manifest.pairs[0]!.original.sha256 = '0'.repeat(64);
    const wrongSum = new Map(entries).set('manifest.json', Buffer.from(JSON.stringify(manifest)));
    await refused([s0, await zipOf(shardPath('wrong-sum.zip'), wrongSum), s2], /the original image of pair 1 .* the manifest says 0{64}/);

    // yazl will not write "..": the entry is written under a name of the same length, then renamed in the bytes.
    const climbing = new Map(entries).set('zz/zzzzzzzzzz.png', Buffer.from('x'));
    const zip = await readFile(await zipOf(shardPath('climb.zip'), climbing));
    await writeFile(shardPath('climb.zip'), Buffer.from(zip.toString('latin1').replaceAll('zz/zzzzzzzzzz.png', '../../../evil.png'), 'latin1'));
    await refused([s0, shardPath('climb.zip'), s2], /shard "climb\.zip" is refused: entry "\.\.\/\.\.\/\.\.\/evil\.png" climbs out/);

    const unlisted = new Map(entries).set('pairs/0000002-edited.png', edited);
    await refused([s0, await zipOf(shardPath('unlisted.zip'), unlisted), s2], /entry "pairs\/0000002-edited\.png" is not listed in the manifest/);

    await refused([s0, s2], /the run is split into 3 shards but shard 1 is missing: give all 3/);

    const other = await writeShard('other.zip', 1, 3, { ...run, target: 'a smiling face' });
    await refused([s0, other, s2], /shard "other\.zip" is of another run than "t0\.zip": target is "a smiling face" there and "a face with a white beard" in "t0\.zip"/);

    const fewer = await writeShard('four.zip', 1, 4);
    await refused([s0, fewer, s2], /shard "four\.zip" is one of 4 shards but "t0\.zip" is one of 3/);
    await refused([s0, shardPath('absent.zip'), s2], /shard "absent\.zip" does not exist/);
  }, 60_000);

  it('runs headless: `pairs --prompt P --count N --shard I/N --out FILE` on each machine, then `pairs merge`', async () => {
    const prompt = value<PromptInfo>(await studio.handle('effects:save-prompt', [{ teacherId: teacher.id, target: run.target, neutral: run.neutral, alpha: run.alpha, beta: run.beta }]));
    await studio.close();
    isOpen = false;
    const cli = (args: string[]): Promise<CliResult> => runCli([...args, '--data-dir', dataDir], { cwd: temp.dir, home: dataDir });
    const make = ['pairs', '--prompt', String(prompt.id), '--count', '4', '--seed', '5'];
    const bad = await cli([...make, '--shard', '2/2', '--out', 'c.zip']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('the shard index must be from 0 to 1, got "2/2"');
    for (const i of [0, 1]) {
      const made = await cli([...make, '--shard', `${i}/2`, '--out', `c${i}.zip`]);
      expect(made.code, made.stderr).toBe(0);
      expect(JSON.parse(made.stdout)).toMatchObject({ shard: { index: i, count: 2 }, pairs: 2, count: 4, touched: 208 });
    }
    const merged = await cli(['pairs', 'merge', '--dataset', 'From CLI', 'c0.zip', 'c1.zip']);
    expect(merged.code, merged.stderr).toBe(0);
    expect(JSON.parse(merged.stdout)).toMatchObject({ datasetName: 'From CLI', count: 4, duplicates: 0, shards: 2 });
    const again = await cli(['pairs', 'merge', '--dataset', 'From CLI', 'c0.zip', 'c1.zip']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('A dataset named "From CLI" exists already.');

    studio = await Studio.open({ dataDir, host: 'browser', version: '0.0.0-test', log: () => undefined });
    isOpen = true;
    const whole = studio.datasets.store.findDataset('Whole')!;
    const fromCli = studio.datasets.store.findDataset('From CLI')!;
    expect(content(itemsOf(fromCli.id))).toEqual(content(itemsOf(whole.id)).slice(0, 4));
  }, 60_000);
});
