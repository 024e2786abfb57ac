// OpenAI CLIP's byte-level BPE tokenizer (clip/simple_tokenizer.py), giving the same token ids, from a vocabulary.
import { cleanText, WHITE_SPACE_CLASS } from './text-clean.ts';

/** OpenAI's context length: every CLIP text model takes 77 tokens. */
export const CLIP_CONTEXT_LENGTH = 77;
/** Start-of-text token as written in the vocabulary. */
export const START_TOKEN = '<|startoftext|>';
/** End-of-text token as written in the vocabulary. */
export const END_TOKEN = '<|endoftext|>';
/** How many merges OpenAI's tokenizer reads from its merge list (`merges[1:49152-256-2+1]`). */
export const MAX_MERGES = 49152 - 256 - 2;

/** Thrown when a vocabulary or merge list cannot drive a CLIP tokenizer; the message names what is wrong. */
export class ClipVocabularyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClipVocabularyError';
  }
}

/**
 * GPT-2/CLIP's reversible byte → printable character map, in the order OpenAI builds it (printable Latin-1 bytes
 * map to themselves, the others to U+0100 upwards). Index = byte value.
 */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Array<string>(256);
  for (const b of printable) map[b] = String.fromCodePoint(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (map[b] === undefined) map[b] = String.fromCodePoint(256 + n++);
  }
  return map;
}

/**
 * The 512 base symbols in vocabulary order (each byte symbol in OpenAI's order — printable bytes first — then the
 * same with `</w>`). A CLIP vocabulary starts with exactly these ids 0…511.
 */
export function baseSymbols(): string[] {
  const map = bytesToUnicode();
  const order: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) order.push(b);
  for (let b = 0xa1; b <= 0xac; b++) order.push(b);
  for (let b = 0xae; b <= 0xff; b++) order.push(b);
  for (let b = 0; b < 256; b++) if (!order.includes(b)) order.push(b);
  const symbols = order.map((b) => map[b]!);
  return [...symbols, ...symbols.map((s) => `${s}</w>`)];
}

// OpenAI's split pattern; `\s` spelled as Unicode White_Space (JS's adds U+FEFF), case-insensitive as
// OpenAI compiles it.
const SPLIT = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${WHITE_SPACE_CLASS}\\p{L}\\p{N}]+`,
  'giu',
);

const CACHE_LIMIT = 50_000;

/** Token ids of a batch in the layout CLIP text models take. */
export interface TokenBatch {
  /** [count, contextLength] row-major: start, tokens, end, then zeros. */
  readonly inputIds: BigInt64Array;
  /** [count, contextLength]: 1 over start…end, 0 over the padding. */
  readonly attentionMask: BigInt64Array;
  readonly count: number;
  readonly contextLength: number;
  /** Per text: whether it was cut to fit (its end token then sits in the last position). */
  readonly truncated: readonly boolean[];
}

/**
 * CLIP's tokenizer: ftfy-subset + HTML cleaning, lower-casing, OpenAI's split pattern, UTF-8 bytes mapped to
 * printable symbols, BPE merges with `</w>` on a word's last symbol.
 *
 * @example
 * const tok = new ClipTokenizer(vocab, merges);
 * tok.encode('a photo of a face');            // [320, 1125, 539, 320, 1710]
 * tok.tokenize('a face');                      // [49406, 320, 1710, 49407, 0, …] (77 long)
 */
export class ClipTokenizer {
  /** Id of `<|startoftext|>`. */
  readonly startId: number;
  /** Id of `<|endoftext|>`. */
  readonly endId: number;
  /** Number of entries in the vocabulary. */
  readonly vocabSize: number;
  readonly #encoder: ReadonlyMap<string, number>;
  readonly #ranks = new Map<string, number>();
  readonly #byteSymbols = bytesToUnicode();
  readonly #cache = new Map<string, readonly number[]>();

  /**
   * `vocab`: symbol → id (Hugging Face `vocab.json`, added tokens included); `merges`: pairs in priority order
   * (OpenAI reads at most {@link MAX_MERGES}). Throws a {@link ClipVocabularyError} when the vocabulary lacks a
   * byte symbol, a special token or the result of a merge.
   */
  constructor(vocab: ReadonlyMap<string, number>, merges: readonly (readonly [string, string])[]) {
    this.#encoder = vocab;
    this.vocabSize = vocab.size;
    const start = vocab.get(START_TOKEN);
    const end = vocab.get(END_TOKEN);
    if (start === undefined || end === undefined) {
      throw new ClipVocabularyError(`the vocabulary has no ${start === undefined ? START_TOKEN : END_TOKEN} token`);
    }
    this.startId = start;
    this.endId = end;
    for (const symbol of baseSymbols()) {
      if (!vocab.has(symbol)) {
        throw new ClipVocabularyError(`the vocabulary lacks the byte symbol ${JSON.stringify(symbol)}: not a CLIP byte-level BPE vocabulary`);
      }
    }
    const used = merges.slice(0, MAX_MERGES);
    used.forEach(([a, b], rank) => {
      if (!vocab.has(a + b)) {
        throw new ClipVocabularyError(`merge ${rank + 1} ("${a} ${b}") makes "${a + b}", which is not in the vocabulary`);
      }
      const key = `${a} ${b}`;
      if (!this.#ranks.has(key)) this.#ranks.set(key, rank);
    });
  }

  /** Token ids of a text without start/end tokens, exactly as OpenAI's `SimpleTokenizer.encode`. */
  encode(text: string): number[] {
    const ids: number[] = [];
    const encoder = new TextEncoder();
    for (const match of cleanText(text).matchAll(SPLIT)) {
      const piece = match[0];
      if (piece === START_TOKEN || piece === END_TOKEN) {
        ids.push(piece === START_TOKEN ? this.startId : this.endId);
        continue;
      }
      let symbols = '';
      for (const byte of encoder.encode(piece)) symbols += this.#byteSymbols[byte]!;
      ids.push(...this.#bpe(symbols));
    }
    return ids;
  }

  /**
   * One text as a `contextLength` row: start, tokens, end, zero padding. Too long a text is cut and its end token
   * kept in the last position (OpenAI's `truncate=True`).
   */
  tokenize(text: string, contextLength = CLIP_CONTEXT_LENGTH): { ids: number[]; length: number; truncated: boolean } {
    if (!Number.isInteger(contextLength) || contextLength < 2) throw new RangeError(`contextLength must be an integer ≥ 2, got ${contextLength}`);
    const tokens = [this.startId, ...this.encode(text), this.endId];
    const truncated = tokens.length > contextLength;
    if (truncated) {
      tokens.length = contextLength;
      tokens[contextLength - 1] = this.endId;
    }
    const length = tokens.length;
    while (tokens.length < contextLength) tokens.push(0);
    return { ids: tokens, length, truncated };
  }

  /** A batch of texts in the `input_ids` / `attention_mask` layout of CLIP text models (int64). */
  tokenizeBatch(texts: readonly string[], contextLength = CLIP_CONTEXT_LENGTH): TokenBatch {
    const inputIds = new BigInt64Array(texts.length * contextLength);
    const attentionMask = new BigInt64Array(texts.length * contextLength);
    const truncated: boolean[] = [];
    texts.forEach((text, row) => {
      const t = this.tokenize(text, contextLength);
      truncated.push(t.truncated);
      for (let i = 0; i < contextLength; i++) {
        inputIds[row * contextLength + i] = BigInt(t.ids[i]!);
        if (i < t.length) attentionMask[row * contextLength + i] = 1n;
      }
    });
    return { inputIds, attentionMask, count: texts.length, contextLength, truncated };
  }

  /** BPE of one pre-token (already byte-mapped): OpenAI's `bpe`, lowest-rank pair merged first. */
  #bpe(token: string): readonly number[] {
    const cached = this.#cache.get(token);
    if (cached !== undefined) return cached;
    const chars = [...token];
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]!}</w>`];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.#ranks.get(`${word[i]!} ${word[i + 1]!}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      // Merge every non-overlapping occurrence left to right, as the reference's index() scan does.
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (word[i] === first && i < word.length - 1 && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    const ids = word.map((symbol) => this.#encoder.get(symbol)!);
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(token, ids);
    return ids;
  }
}
