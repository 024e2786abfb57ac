// CLIP text and image encoders on ONNX Runtime: batching to the model's batch size, projection, unit-length embeddings.
import * as ort from 'onnxruntime-node';
import type { Feeds, Session } from '../runtime/index.ts';
import { preprocessImage, type ClipImageConfig, type RgbImage } from './preprocess.ts';
import type { ClipTokenizer } from './tokenizer.ts';

/** An integer input's element type as the model declares it. */
export type IdType = 'int64' | 'int32';

/** A pooled-output → embedding projection read from the folder's weights: `embed = pooled · Wᵀ`. */
export interface Projection {
  /** [dim, inDim] row-major (PyTorch Linear layout, no bias). */
  readonly weight: Float32Array;
  readonly inDim: number;
}

/** How to run one tower of a CLIP model. */
export interface TowerSpec {
  /** The model's fixed batch size, or null when its batch axis is dynamic. */
  readonly batch: number | null;
  /** Output fetched: `text_embeds` / `image_embeds`, or `pooler_output` with a projection. */
  readonly output: string;
  readonly projection: Projection | null;
  /** Inputs of the other tower a combined model.onnx also needs (a one-item dummy), by batch size. */
  readonly otherFeeds: ((batch: number) => Feeds) | null;
}

/** How to run the text tower. */
export interface TextTowerSpec extends TowerSpec {
  readonly idsType: IdType;
  /** null when the model takes no attention mask. */
  readonly maskType: IdType | null;
  readonly contextLength: number;
}

/** How to run the vision tower. */
export interface VisionTowerSpec extends TowerSpec {
  readonly preprocess: ClipImageConfig;
  /** pixel_values height and width after preprocessing. */
  readonly height: number;
  readonly width: number;
}

function idTensor(values: BigInt64Array, type: IdType, dims: number[]): ort.Tensor {
  return type === 'int64' ? new ort.Tensor('int64', values, dims) : new ort.Tensor('int32', Int32Array.from(values, Number), dims);
}

/** Scales each row of [n, dim] to unit length in place (zero rows stay zero). */
export function normalizeRows(data: Float32Array, dim: number): Float32Array {
  for (let r = 0; r < data.length / dim; r++) {
    let sq = 0;
    for (let i = 0; i < dim; i++) sq += data[r * dim + i]! ** 2;
    const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
    for (let i = 0; i < dim; i++) data[r * dim + i]! *= inv;
  }
  return data;
}

/**
 * Runs `count` items through a tower in chunks of its batch (fixed batches are padded with zeros and the padding
 * dropped) and returns [count, dim] unit-length embeddings.
 */
async function runTower(
  session: Session,
  spec: TowerSpec,
  dim: number,
  maxBatch: number,
  count: number,
  feedsFor: (start: number, n: number, batch: number) => Feeds,
): Promise<Float32Array> {
  const out = new Float32Array(count * dim);
  const chunk = spec.batch ?? maxBatch;
  for (let start = 0; start < count; start += chunk) {
    const n = Math.min(chunk, count - start);
    const batch = spec.batch ?? n;
    const feeds = { ...feedsFor(start, n, batch), ...(spec.otherFeeds?.(1) ?? {}) };
    const result = await session.run(feeds, [spec.output]);
    const raw = result[spec.output]!.data as Float32Array;
    const p = spec.projection;
    for (let i = 0; i < n; i++) {
      if (p === null) {
        out.set(raw.subarray(i * dim, (i + 1) * dim), (start + i) * dim);
        continue;
      }
      for (let o = 0; o < dim; o++) {
        let acc = 0;
        for (let k = 0; k < p.inDim; k++) acc += raw[i * p.inDim + k]! * p.weight[o * p.inDim + k]!;
        out[(start + i) * dim + o] = acc;
      }
    }
  }
  return normalizeRows(out, dim);
}

/** CLIP's text tower: texts → unit-length embeddings. */
export class ClipTextEncoder {
  readonly #session: Session;
  readonly #spec: TextTowerSpec;
  readonly #maxBatch: number;

  /** Use `loadClip`. */
  constructor(
    session: Session,
    /** The tokenizer the folder ships. */
    readonly tokenizer: ClipTokenizer,
    spec: TextTowerSpec,
    /** Embedding size. */
    readonly dim: number,
    maxBatch: number,
  ) {
    this.#session = session;
    this.#spec = spec;
    this.#maxBatch = maxBatch;
  }

  /** Tokens per text the model takes (77 for every CLIP). */
  get contextLength(): number {
    return this.#spec.contextLength;
  }

  /** Embeds texts: [texts.length, dim] row-major, each row of unit length. Long texts are truncated (see tokenize). */
  async encode(texts: readonly string[]): Promise<Float32Array> {
    const { contextLength: len, idsType, maskType } = this.#spec;
    return runTower(this.#session, this.#spec, this.dim, this.#maxBatch, texts.length, (start, n, batch) => {
      const tokens = this.tokenizer.tokenizeBatch(texts.slice(start, start + n), len);
      const ids = new BigInt64Array(batch * len);
      const mask = new BigInt64Array(batch * len);
      ids.set(tokens.inputIds);
      mask.set(tokens.attentionMask);
      const feeds: Feeds = { input_ids: idTensor(ids, idsType, [batch, len]) };
      if (maskType !== null) feeds.attention_mask = idTensor(mask, maskType, [batch, len]);
      return feeds;
    });
  }
}

/** CLIP's vision tower: images → unit-length embeddings. */
export class ClipImageEncoder {
  readonly #session: Session;
  readonly #spec: VisionTowerSpec;
  readonly #maxBatch: number;

  /** Use `loadClip`. */
  constructor(
    session: Session,
    spec: VisionTowerSpec,
    /** Embedding size. */
    readonly dim: number,
    maxBatch: number,
  ) {
    this.#session = session;
    this.#spec = spec;
    this.#maxBatch = maxBatch;
  }

  /** The preprocessing this model expects (from the folder's preprocessor_config.json). */
  get preprocess(): ClipImageConfig {
    return this.#spec.preprocess;
  }

  /** Side lengths of `pixel_values`. */
  get inputSize(): { height: number; width: number } {
    return { height: this.#spec.height, width: this.#spec.width };
  }

  /** Embeds already preprocessed images: `pixels` is [count, 3, H, W]; returns [count, dim] unit-length rows. */
  async encodePixels(pixels: Float32Array, count: number): Promise<Float32Array> {
    const { height: h, width: w } = this.#spec;
    const per = 3 * h * w;
    if (pixels.length !== count * per) throw new RangeError(`encodePixels: ${pixels.length} values are not ${count} images of 3×${h}×${w}`);
    return runTower(this.#session, this.#spec, this.dim, this.#maxBatch, count, (start, n, batch) => {
      const data = new Float32Array(batch * per);
      data.set(pixels.subarray(start * per, (start + n) * per));
      return { pixel_values: new ort.Tensor('float32', data, [batch, 3, h, w]) };
    });
  }

  /** Preprocesses (see preprocess.ts) and embeds RGB images; returns [images.length, dim] unit-length rows. */
  async encodeImages(images: readonly RgbImage[]): Promise<Float32Array> {
    const { height: h, width: w } = this.#spec;
    const per = 3 * h * w;
    const pixels = new Float32Array(images.length * per);
    const prepared = await Promise.all(images.map((img) => preprocessImage(img, this.#spec.preprocess)));
    prepared.forEach((p, i) => {
      if (p.length !== per) throw new RangeError(`image ${i} preprocesses to ${p.length / 3} pixels, not the model's ${h}×${w}`);
      pixels.set(p, i * per);
    });
    return this.encodePixels(pixels, images.length);
  }
}
