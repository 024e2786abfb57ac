// Public entry of the CLIP engine: tokenizer, vocabulary files, text cleaning.
export { cleanText, fixTextSubset, htmlUnescape, stripSpace, WHITE_SPACE_CLASS } from './text-clean.ts';
export {
  baseSymbols,
  bytesToUnicode,
  CLIP_CONTEXT_LENGTH,
  ClipTokenizer,
  ClipVocabularyError,
  END_TOKEN,
  MAX_MERGES,
  START_TOKEN,
  type TokenBatch,
} from './tokenizer.ts';
export {
  findTokenizerFiles,
  formatMergesTxt,
  formatVocabJson,
  loadClipTokenizer,
  parseMergesTxt,
  parseTokenizerJson,
  parseVocabJson,
  type ClipVocabulary,
} from './vocab-files.ts';
