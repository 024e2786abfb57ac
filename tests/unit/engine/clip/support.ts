// Shared helpers of the CLIP tests: the real CLIP vocabulary (committed, gzip'd) written out as a Hugging Face folder.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/clip/', import.meta.url));

/** OpenAI's vocab.json and merges.txt texts (bpe_simple_vocab_16e6 in Hugging Face's layout). */
export function clipVocabTexts(): { vocabJson: string; mergesTxt: string } {
  return {
    vocabJson: gunzipSync(readFileSync(join(FIXTURES, 'vocab.json.gz'))).toString('utf8'),
    mergesTxt: gunzipSync(readFileSync(join(FIXTURES, 'merges.txt.gz'))).toString('utf8'),
  };
}

/** Writes vocab.json + merges.txt (the slow tokenizer's files) into `dir`. */
export function writeVocabFiles(dir: string): void {
  const { vocabJson, mergesTxt } = clipVocabTexts();
  writeFileSync(join(dir, 'vocab.json'), vocabJson);
  writeFileSync(join(dir, 'merges.txt'), mergesTxt);
}

/** Writes a tokenizer.json (the fast tokenizer's file) holding the same vocabulary into `dir`. */
export function writeTokenizerJson(dir: string, mergesAsPairs = false): void {
  const { vocabJson, mergesTxt } = clipVocabTexts();
  const vocab = JSON.parse(vocabJson) as Record<string, number>;
  const merges = mergesTxt.trim().split('\n').slice(1);
  const special = ['<|startoftext|>', '<|endoftext|>'];
  const model = {
    type: 'BPE',
    dropout: null,
    unk_token: '<|endoftext|>',
    continuing_subword_prefix: '',
    end_of_word_suffix: '</w>',
    fuse_unk: false,
    vocab: Object.fromEntries(Object.entries(vocab).filter(([t]) => !special.includes(t))),
    merges: mergesAsPairs ? merges.map((m) => m.split(' ')) : merges,
  };
  const addedTokens = special.map((content) => ({ id: vocab[content], content, special: true }));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ version: '1.0', added_tokens: addedTokens, model }));
}

/** One case of the committed token table. */
export interface TokenCase {
  text: string;
  ftfy?: string;
  ids: number[];
  clipBpeJs?: (number | null)[];
}

/** The committed token-id table (see tests/fixtures/clip/make-fixtures.ts). */
export function tokenTable(): TokenCase[] {
  return (JSON.parse(readFileSync(join(FIXTURES, 'token-table.json'), 'utf8')) as { cases: TokenCase[] }).cases;
}
