// CLIP models in the studio: a Hugging Face ONNX export folder checked and copied into the blob store, and opened from it.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { ClipImportParams, ClipModelInfo } from '../../shared/effects/types.ts';
import type { BlobStore } from '../core/blob-store.ts';
import {
  ClipFolderError,
  ClipTokenizer,
  findTokenizerFiles,
  inspectClipFolder,
  openClip,
  parseMergesTxt,
  parseTokenizerJson,
  parseVocabJson,
  type ClipModel,
  type ClipVocabulary,
  type LoadClipOptions,
} from '../engine/clip/index.ts';
import { checkClipName, clipInfo, ClipExistsError, type EffectsStore, type StoredClip } from './store.ts';

/** Reads the folder's tokenizer files into one vocabulary; throws a {@link ClipFolderError} naming the problem. */
async function readVocabulary(dir: string): Promise<ClipVocabulary> {
  const files = findTokenizerFiles(dir);
  if (files === null) throw new ClipFolderError(`${dir} has no CLIP tokenizer: expected tokenizer.json, or vocab.json with merges.txt`);
  try {
    if (files.kind === 'vocab+merges') {
      const [vocab, merges] = await Promise.all([readFile(files.vocab, 'utf8'), readFile(files.merges, 'utf8')]);
      return { vocab: parseVocabJson(vocab, files.vocab), merges: parseMergesTxt(merges, files.merges) };
    }
    return parseTokenizerJson(await readFile(files.path, 'utf8'), files.path);
  } catch (e) {
    throw new ClipFolderError((e as Error).message);
  }
}

/** The vocabulary as a minimal tokenizer.json, the one form the studio stores. */
function canonicalTokenizerJson(v: ClipVocabulary): string {
  return JSON.stringify({ model: { type: 'BPE', end_of_word_suffix: '</w>', vocab: Object.fromEntries(v.vocab), merges: v.merges.map(([a, b]) => `${a} ${b}`) } });
}

/**
 * Checks a CLIP folder (models, signatures, tokenizer) without storing anything: what `clips:import` runs before it
 * queues the job. Throws {@link ClipExistsError} for a taken name and {@link ClipFolderError} for a bad folder.
 */
export async function checkClipImport(store: EffectsStore, params: ClipImportParams): Promise<void> {
  const name = checkClipName(params.name);
  if (store.findClip(name)) throw new ClipExistsError(name);
  const info = await inspectClipFolder(params.path);
  const vocabulary = await readVocabulary(info.dir);
  try {
    new ClipTokenizer(vocabulary.vocab, vocabulary.merges);
  } catch (e) {
    throw new ClipFolderError(`${info.dir}: ${(e as Error).message}`);
  }
}

/**
 * Imports a CLIP folder: checks it as {@link checkClipImport} does, then streams the model files and the tokenizer
 * into the blob store and records the model. Nothing is recorded when any step fails.
 */
export async function importClip(store: EffectsStore, blobs: BlobStore, params: ClipImportParams, progress?: (step: number, total: number, message: string) => void): Promise<ClipModelInfo> {
  await checkClipImport(store, params);
  const info = await inspectClipFolder(params.path);
  const vocabulary = await readVocabulary(info.dir);
  const held: string[] = [];
  try {
    const { files } = info;
    const paths = files.kind === 'towers' ? [files.text, files.vision] : [files.model];
    let bytes = 0;
    for (const p of paths) bytes += (await stat(p)).size;
    progress?.(0, paths.length + 1, `Copying ${paths.length === 1 ? 'the model' : 'both towers'} into the studio`);
    const shas: string[] = [];
    for (const [i, p] of paths.entries()) {
      const blob = await blobs.putFile(p, 'onnx');
      held.push(blob.sha256);
      shas.push(blob.sha256);
      progress?.(i + 1, paths.length + 1, `Stored ${p}`);
    }
    if (files.kind === 'combined') {
      // One file serves as both towers: text_sha and vision_sha each hold a reference on it.
      blobs.retain(shas[0]!);
      held.push(shas[0]!);
      shas.push(shas[0]!);
    }
    const tokenizer = await blobs.put(Buffer.from(canonicalTokenizerJson(vocabulary), 'utf8'), 'tokenizer');
    held.push(tokenizer.sha256);
    const identity = createHash('sha256').update(shas.join(':')).digest('hex');
    const stored = store.insertClip({
      name: params.name,
      textSha: shas[0]!,
      visionSha: shas[1]!,
      config: { specs: { dim: info.dim, text: info.text, vision: info.vision }, layout: files.kind, tokenizerSha: tokenizer.sha256, identity, sourceDir: info.dir, bytes },
    });
    held.length = 0;
    progress?.(paths.length + 1, paths.length + 1, `Imported ${stored.name} (${stored.dim}-d embeddings)`);
    return clipInfo(stored);
  } catch (e) {
    // insertClip releases the references itself when it refuses; anything else is released here.
    if (!(e instanceof ClipExistsError)) for (const sha of held) blobs.release(sha);
    throw e;
  }
}

/** Opens a stored CLIP model from the blob store (verified reads); both towers on ORT. */
export async function loadStoredClip(blobs: BlobStore, clip: StoredClip, opts: LoadClipOptions = {}): Promise<ClipModel> {
  const { config } = clip;
  const vocabulary = parseTokenizerJson((await blobs.read(config.tokenizerSha)).toString('utf8'), `tokenizer of CLIP model "${clip.name}"`);
  const tokenizer = new ClipTokenizer(vocabulary.vocab, vocabulary.merges);
  const specs = { ...config.specs, dir: config.sourceDir };
  if (config.layout === 'combined') return openClip(specs, { kind: 'combined', model: await blobs.read(clip.textSha) }, tokenizer, config.identity, opts);
  const [text, vision] = [await blobs.read(clip.textSha), await blobs.read(clip.visionSha)];
  return openClip(specs, { kind: 'towers', text, vision }, tokenizer, config.identity, opts);
}
