// CLIP folders: the tiny CLIP in Hugging Face layout loads and encodes; broken folders fail with clear messages.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTinyVisionModel,
  byteLevelVocabulary,
  ClipFolderError,
  loadClip,
  parseMergesTxt,
  parseVocabJson,
  TINY_CLIP,
  writeTinyClip,
  type ClipModel,
} from '../../../../src/main/engine/clip/index.ts';
import { Graph } from '../../../../src/main/engine/graph/index.ts';
import { clipVocabTexts } from './support.ts';

let root: string;
let good: string;
let clip: ClipModel;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'clip-folder-'));
  good = join(root, 'good');
  const { vocabJson, mergesTxt } = clipVocabTexts();
  await writeTinyClip(good, { vocab: parseVocabJson(vocabJson), merges: parseMergesTxt(mergesTxt) });
  clip = await loadClip(good, { providers: ['cpu'], threads: 1 });
});
afterAll(async () => {
  await clip?.release();
  rmSync(root, { recursive: true, force: true });
});

function copyGood(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const f of ['text_model.onnx', 'vision_model.onnx', 'vocab.json', 'merges.txt', 'preprocessor_config.json']) copyFileSync(join(good, f), join(dir, f));
  return dir;
}

function norms(rows: Float32Array, dim: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows.length / dim; r++) out.push(Math.hypot(...rows.subarray(r * dim, (r + 1) * dim)));
  return out;
}

describe('tiny CLIP folder', () => {
  it('loads through the Hugging Face code path and embeds texts as unit vectors, in batches', async () => {
    expect(clip.dim).toBe(TINY_CLIP.dim);
    expect(clip.identity).toMatch(/^[0-9a-f]{64}$/);
    const texts = Array.from({ length: 20 }, (_, i) => `a face number ${i}`);
    const all = await clip.text.encode(texts);
    for (const n of norms(all, clip.dim)) expect(n).toBeCloseTo(1, 5);
    // A text's embedding does not depend on its neighbours in the batch (padding of the fixed batch is dropped).
    const one = await clip.text.encode([texts[17]!]);
    for (let i = 0; i < clip.dim; i++) expect(one[i]).toBeCloseTo(all[17 * clip.dim + i]!, 5);
    const [a, b] = [await clip.text.encode(['a face']), await clip.text.encode(['a face with a white beard'])];
    expect(a.some((v, i) => Math.abs(v - b[i]!) > 1e-3)).toBe(true);
  });

  it('preprocesses and embeds images of any size', async () => {
    const img = (w: number, h: number, seed: number) => ({
      width: w,
      height: h,
      data: Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 31 + seed * 17) % 256),
    });
    const e = await clip.image.encodeImages([img(64, 64, 1), img(48, 80, 2)]);
    expect(e.length).toBe(2 * clip.dim);
    for (const n of norms(e, clip.dim)) expect(n).toBeCloseTo(1, 5);
    expect(clip.image.inputSize).toEqual({ width: TINY_CLIP.imageSize, height: TINY_CLIP.imageSize });
  });

  it('writes a usable byte-level vocabulary when the real one is not at hand', async () => {
    const dir = join(root, 'bytes');
    await writeTinyClip(dir, byteLevelVocabulary(), { dim: 8 });
    const small = await loadClip(dir, { providers: ['cpu'], threads: 1 });
    try {
      // 'a' is base symbol 0x61 − 0x21 = 64; 'b</w>' is 256 + 65; then the start (512) and end (513) tokens.
      expect(small.text.tokenizer.tokenize('ab').ids.slice(0, 4)).toEqual([512, 64, 321, 513]);
      expect(norms(await small.text.encode(['a face']), 8)[0]).toBeCloseTo(1, 5);
    } finally {
      await small.release();
    }
  });
});

describe('broken CLIP folders', () => {
  it('names a missing folder, missing models and a missing tokenizer', async () => {
    await expect(loadClip(join(root, 'nowhere'))).rejects.toThrow(/CLIP folder .*nowhere does not exist/);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await expect(loadClip(empty)).rejects.toThrow(/no CLIP ONNX export: expected text_model.onnx and vision_model.onnx, or model.onnx/);
    const noTok = copyGood('no-tokenizer');
    unlinkSync(join(noTok, 'merges.txt'));
    await expect(loadClip(noTok, { providers: ['cpu'] })).rejects.toThrow(ClipFolderError);
    await expect(loadClip(noTok, { providers: ['cpu'] })).rejects.toThrow(/merges.txt is not/);
  });

  it('names wrong input names and mismatched embedding sizes', async () => {
    const wrongInput = copyGood('wrong-input');
    const g = new Graph('renamed');
    const x = g.input('pixels', 'float32', [1, 3, 32, 32]);
    g.output('image_embeds', g.reshape(g.reduceMean(x, { axes: [2, 3], keepdims: false }), [1, 3]));
    writeFileSync(join(wrongInput, 'vision_model.onnx'), g.toModelBytes({ params: 'initializers' }));
    await expect(loadClip(wrongInput)).rejects.toThrow(/vision_model.onnx has no input "pixel_values".*pixels \(float32 \[1, 3, 32, 32\]\)/);

    const wrongDim = copyGood('wrong-dim');
    writeFileSync(join(wrongDim, 'vision_model.onnx'), buildTinyVisionModel({ ...TINY_CLIP, dim: 16 }));
    await expect(loadClip(wrongDim)).rejects.toThrow(/text embeddings have 32 values but the image embeddings 16/);

    const wrongSize = copyGood('wrong-size');
    writeFileSync(join(wrongSize, 'preprocessor_config.json'), JSON.stringify({ size: { shortest_edge: 224 }, crop_size: { height: 224, width: 224 } }));
    await expect(loadClip(wrongSize)).rejects.toThrow(/takes 32×32 pixel_values but preprocessor_config.json makes 224×224 images/);
  });
});
