// Public entry of the CLIP engine: tokenizer, vocabulary files, text cleaning, preprocessing, encoders, folders.
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
export { ClipImageEncoder, ClipTextEncoder, normalizeRows } from './encoders.ts';
export {
  ClipFolderError,
  findClipModelFiles,
  inspectClipFolder,
  loadClip,
  openClip,
  type ClipFolderInfo,
  type ClipModel,
  type ClipModelFiles,
  type ClipModelSources,
  type ClipSpecs,
  type LoadClipOptions,
} from './folder.ts';
export {
  generatorImageToRgb,
  OPENAI_CLIP_IMAGE_CONFIG,
  outputSize,
  parsePreprocessorConfig,
  preprocessImage,
  type ClipImageConfig,
  type RgbImage,
} from './preprocess.ts';
export { buildTinyTextModel, buildTinyVisionModel, byteLevelVocabulary, TINY_CLIP, writeTinyClip, type TinyClipOptions } from './tiny.ts';
