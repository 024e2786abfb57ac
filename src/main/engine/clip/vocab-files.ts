// Reads a CLIP tokenizer's vocabulary from a Hugging Face folder: `vocab.json` + `merges.txt`, or `tokenizer.json`.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClipTokenizer, ClipVocabularyError } from './tokenizer.ts';

/** A vocabulary and its merges, as the tokenizer files hold them. */
export interface ClipVocabulary {
  /** Symbol → id, added (special) tokens included. */
  readonly vocab: ReadonlyMap<string, number>;
  /** Merge pairs in priority order. */
  readonly merges: readonly (readonly [string, string])[];
}

function vocabFromObject(obj: unknown, source: string): Map<string, number> {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new ClipVocabularyError(`${source}: the vocabulary must be a JSON object of token → id`);
  }
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(obj)) {
    if (!Number.isInteger(id) || (id as number) < 0) throw new ClipVocabularyError(`${source}: token ${JSON.stringify(token)} has id ${String(id)}`);
    vocab.set(token, id as number);
  }
  return vocab;
}

function parsePair(entry: unknown, index: number, source: string): [string, string] {
  const parts = typeof entry === 'string' ? entry.trim().split(/\s+/u) : entry;
  if (!Array.isArray(parts) || parts.length !== 2 || parts.some((p) => typeof p !== 'string' || p === '')) {
    throw new ClipVocabularyError(`${source}: merge ${index + 1} (${JSON.stringify(entry)}) is not a pair of symbols`);
  }
  return [parts[0] as string, parts[1] as string];
}

/** Parses Hugging Face's `vocab.json` (token → id). */
export function parseVocabJson(text: string, source = 'vocab.json'): Map<string, number> {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new ClipVocabularyError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  return vocabFromObject(obj, source);
}

/** Parses `merges.txt`: a `#version` header line, then one `a b` pair per line. */
export function parseMergesTxt(text: string, source = 'merges.txt'): [string, string][] {
  const lines = text.trim().split('\n');
  const body = lines[0]?.startsWith('#version') ? lines.slice(1) : lines;
  return body.filter((l) => l.trim() !== '').map((line, i) => parsePair(line, i, source));
}

/** Parses Hugging Face `tokenizer.json` of a BPE model with `</w>` word ends (CLIP's fast tokenizer). */
export function parseTokenizerJson(text: string, source = 'tokenizer.json'): ClipVocabulary {
  let obj: { model?: { type?: unknown; vocab?: unknown; merges?: unknown; end_of_word_suffix?: unknown }; added_tokens?: unknown };
  try {
    obj = JSON.parse(text) as typeof obj;
  } catch (e) {
    throw new ClipVocabularyError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  const model = obj.model;
  if (model === undefined || model.type !== 'BPE') {
    throw new ClipVocabularyError(`${source}: the tokenizer model is ${JSON.stringify(model?.type ?? null)}, not CLIP's BPE`);
  }
  if (model.end_of_word_suffix !== undefined && model.end_of_word_suffix !== null && model.end_of_word_suffix !== '</w>') {
    throw new ClipVocabularyError(`${source}: words end in ${JSON.stringify(model.end_of_word_suffix)}, not CLIP's "</w>"`);
  }
  const vocab = vocabFromObject(model.vocab, source);
  if (Array.isArray(obj.added_tokens)) {
    for (const t of obj.added_tokens as { id?: unknown; content?: unknown }[]) {
      if (typeof t.content === 'string' && Number.isInteger(t.id)) vocab.set(t.content, t.id as number);
    }
  }
  if (!Array.isArray(model.merges)) throw new ClipVocabularyError(`${source}: model.merges is missing`);
  return { vocab, merges: model.merges.map((m, i) => parsePair(m, i, source)) };
}

/** Which tokenizer files a folder holds, or null when it has none CLIP can use. */
export function findTokenizerFiles(dir: string): { kind: 'vocab+merges'; vocab: string; merges: string } | { kind: 'tokenizer.json'; path: string } | null {
  const vocab = join(dir, 'vocab.json');
  const merges = join(dir, 'merges.txt');
  if (existsSync(vocab) && existsSync(merges)) return { kind: 'vocab+merges', vocab, merges };
  const tj = join(dir, 'tokenizer.json');
  if (existsSync(tj)) return { kind: 'tokenizer.json', path: tj };
  return null;
}

/**
 * Loads the CLIP tokenizer of a Hugging Face folder: `vocab.json` + `merges.txt` (the slow tokenizer's files,
 * preferred when present) or `tokenizer.json`. Throws a {@link ClipVocabularyError} naming the folder and what is
 * missing or malformed.
 */
export async function loadClipTokenizer(dir: string): Promise<ClipTokenizer> {
  const files = findTokenizerFiles(dir);
  if (files === null) {
    const half = existsSync(join(dir, 'vocab.json')) ? ' (vocab.json is there but merges.txt is not)' : '';
    throw new ClipVocabularyError(`${dir} has no CLIP tokenizer: expected tokenizer.json, or vocab.json with merges.txt${half}`);
  }
  if (files.kind === 'vocab+merges') {
    const [vocabText, mergesText] = await Promise.all([readFile(files.vocab, 'utf8'), readFile(files.merges, 'utf8')]);
    return withSource(files.vocab, () => new ClipTokenizer(parseVocabJson(vocabText, files.vocab), parseMergesTxt(mergesText, files.merges)));
  }
  const parsed = parseTokenizerJson(await readFile(files.path, 'utf8'), files.path);
  return withSource(files.path, () => new ClipTokenizer(parsed.vocab, parsed.merges));
}

function withSource<T>(source: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof ClipVocabularyError && !e.message.startsWith(source)) throw new ClipVocabularyError(`${source}: ${e.message}`);
    throw e;
  }
}

/** Serialises a vocabulary as Hugging Face's `vocab.json` text, tokens in id order. */
export function formatVocabJson(vocab: ReadonlyMap<string, number>): string {
  // Built by hand: a JS object would move integer-like tokens ("0"…"9") to the front.
  const entries = [...vocab.entries()].sort((a, b) => a[1] - b[1]);
  return `{${entries.map(([token, id]) => `${JSON.stringify(token)}:${id}`).join(',')}}`;
}

/** Serialises merges as Hugging Face's `merges.txt` text. */
export function formatMergesTxt(merges: readonly (readonly [string, string])[]): string {
  return ['#version: 0.2', ...merges.map(([a, b]) => `${a} ${b}`)].join('\n') + '\n';
}
