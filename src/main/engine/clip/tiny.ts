// Tiny CLIP-shaped encoders made by the studio's graph builder, written as a Hugging Face ONNX export folder.
//
// The folder has the layout (and the graph input/output names) of a real export — `text_model.onnx` (input_ids,
// attention_mask → text_embeds), `vision_model.onnx` (pixel_values → image_embeds), `vocab.json` + `merges.txt`,
// `preprocessor_config.json` — so `loadClip` reads it through the same code path as ViT-B/32. Weights are random
// (seeded): the towers are smooth, deterministic maps into a shared embedding space, enough to run relevance,
// preview and pair generation end to end in tests and in the demo; they know nothing about faces.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Graph, Rng, type Tensor } from '../graph/index.ts';
import { baseSymbols, CLIP_CONTEXT_LENGTH, END_TOKEN, START_TOKEN } from './tokenizer.ts';
import { formatMergesTxt, formatVocabJson, type ClipVocabulary } from './vocab-files.ts';

/** Sizes of a tiny CLIP pair. */
export interface TinyClipOptions {
  seed?: number;
  /** Embedding size shared by both towers. */
  dim?: number;
  /** Token embedding width. */
  tokenWidth?: number;
  /** Side of the square `pixel_values` (the preprocessor resizes and crops to it). */
  imageSize?: number;
  /** Fixed batch of the text model. */
  textBatch?: number;
  /** Fixed batch of the vision model. */
  visionBatch?: number;
}

/** Defaults of {@link writeTinyClip}: 32-d embeddings, 32×32 images. */
export const TINY_CLIP: Required<TinyClipOptions> = { seed: 7, dim: 32, tokenWidth: 16, imageSize: 32, textBatch: 16, visionBatch: 32 };

/**
 * A byte-level CLIP vocabulary without merges (the 512 base symbols, then the start and end tokens): every text
 * tokenizes to one id per UTF-8 byte. For a tiny CLIP made where the real vocabulary is not at hand; pass the real
 * vocabulary when token ids must be OpenAI's.
 */
export function byteLevelVocabulary(): ClipVocabulary {
  const vocab = new Map<string, number>(baseSymbols().map((s, i) => [s, i]));
  vocab.set(START_TOKEN, vocab.size);
  vocab.set(END_TOKEN, vocab.size);
  return { vocab, merges: [] };
}

function gaussian(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * std;
  return out;
}

/** input_ids [B, 77] int64, attention_mask [B, 77] int64 → text_embeds [B, dim]: masked mean of token embeddings, tanh MLP, projection. */
export function buildTinyTextModel(vocabSize: number, o: Required<TinyClipOptions>): Uint8Array {
  const rng = new Rng(o.seed, 'tiny-clip-text');
  const g = new Graph('tiny_clip_text');
  const len = CLIP_CONTEXT_LENGTH;
  const b = o.textBatch;
  const ids = g.input('input_ids', 'int64', [b, len]);
  const mask = g.input('attention_mask', 'int64', [b, len]);
  const table = g.constant(gaussian(rng, vocabSize * o.tokenWidth, 1), [vocabSize, o.tokenWidth], 'float32', 'text.token_embedding');
  const tokens = g.addNode('Gather', [table, ids], [{ dtype: 'float32', shape: [b, len, o.tokenWidth] }], {}, g.nodeName('Gather', 'embed_tokens'))[0]!;
  const m = g.reshape(g.cast(mask, 'float32'), [b, len, 1], 'mask');
  // The position of each token matters a little, as in CLIP: a fixed ramp weights later tokens more.
  const ramp = g.constant(Array.from({ length: len }, (_, i) => 1 + i / len), [1, len, 1], 'float32', 'text.position_weight');
  const summed = g.reduceSum(g.mul(g.mul(tokens, m), ramp), { axes: [1], keepdims: false, name: 'pool_sum' });
  const count = g.reduceSum(m, { axes: [1], keepdims: false, name: 'pool_count' });
  const pooled = g.div(summed, g.add(count, 1e-6), 'pooled');
  const hidden = dense(g, rng, pooled, o.tokenWidth, 2 * o.dim, 'text.fc');
  const embeds = dense(g, rng, g.tanh(hidden), 2 * o.dim, o.dim, 'text.projection');
  g.output('text_embeds', embeds);
  return g.toModelBytes({ params: 'initializers' });
}

/** pixel_values [B, 3, S, S] → image_embeds [B, dim]: a 4×4 patch conv, tanh, flatten, projection. */
export function buildTinyVisionModel(o: Required<TinyClipOptions>): Uint8Array {
  if (o.imageSize % 4 !== 0) throw new RangeError(`tiny CLIP: imageSize must be a multiple of 4, got ${o.imageSize}`);
  const rng = new Rng(o.seed, 'tiny-clip-vision');
  const g = new Graph('tiny_clip_vision');
  const b = o.visionBatch;
  const s = o.imageSize;
  const pixels = g.input('pixel_values', 'float32', [b, 3, s, s]);
  const patch = 8;
  const w = g.constant(gaussian(rng, patch * 3 * 16, 1 / Math.sqrt(3 * 16)), [patch, 3, 4, 4], 'float32', 'vision.patch_embedding');
  const features = g.tanh(g.conv(pixels, w, null, { strides: 4, name: 'patch_conv' }));
  const flat = g.reshape(features, [b, patch * (s / 4) * (s / 4)], 'flatten');
  g.output('image_embeds', dense(g, rng, flat, patch * (s / 4) * (s / 4), o.dim, 'vision.projection'));
  return g.toModelBytes({ params: 'initializers' });
}

function dense(g: Graph, rng: Rng, x: Tensor, inF: number, outF: number, name: string): Tensor {
  const w = g.constant(gaussian(rng, outF * inF, 1 / Math.sqrt(inF)), [outF, inF], 'float32', `${name}.weight`);
  const bias = g.constant(gaussian(rng, outF, 0.1), [outF], 'float32', `${name}.bias`);
  return g.gemm(x, w, bias, { transB: true, name });
}

/**
 * Writes a tiny CLIP folder (Hugging Face export layout) into `dir` with the given tokenizer vocabulary — the real
 * CLIP vocabulary, so that prompts tokenize exactly as they would for ViT-B/32.
 */
export async function writeTinyClip(dir: string, vocabulary: ClipVocabulary, options: TinyClipOptions = {}): Promise<void> {
  const o = { ...TINY_CLIP, ...options };
  let vocabSize = 0;
  for (const id of vocabulary.vocab.values()) vocabSize = Math.max(vocabSize, id + 1);
  await mkdir(dir, { recursive: true });
  const preprocessor = {
    crop_size: { height: o.imageSize, width: o.imageSize },
    do_center_crop: true,
    do_normalize: true,
    do_resize: true,
    do_rescale: true,
    feature_extractor_type: 'CLIPFeatureExtractor',
    image_mean: [0.48145466, 0.4578275, 0.40821073],
    image_std: [0.26862954, 0.26130258, 0.27577711],
    image_processor_type: 'CLIPImageProcessor',
    resample: 3,
    rescale_factor: 1 / 255,
    size: { shortest_edge: o.imageSize },
  };
  const config = {
    model_type: 'clip',
    projection_dim: o.dim,
    producer: 'effects-studio tiny CLIP (random weights)',
    tiny: o,
  };
  await Promise.all([
    writeFile(join(dir, 'text_model.onnx'), buildTinyTextModel(vocabSize, o)),
    writeFile(join(dir, 'vision_model.onnx'), buildTinyVisionModel(o)),
    writeFile(join(dir, 'vocab.json'), formatVocabJson(vocabulary.vocab)),
    writeFile(join(dir, 'merges.txt'), formatMergesTxt(vocabulary.merges)),
    writeFile(join(dir, 'preprocessor_config.json'), `${JSON.stringify(preprocessor, null, 2)}\n`),
    writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`),
  ]);
}
