// Opens a CLIP model folder in the Hugging Face ONNX export layout: checks it, then builds both encoders on ORT.
//
// Accepted layouts (the folder itself or its `onnx/` subfolder): `text_model.onnx` + `vision_model.onnx`
// (CLIPTextModelWithProjection / CLIPVisionModelWithProjection exports) or one `model.onnx` (optimum's CLIPModel
// export, which takes both towers' inputs in every run). Everything is checked from the files' declared signatures
// before a session is created, so a wrong folder fails in milliseconds with a message that names the problem.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ProviderName } from '../../../shared/contract.ts';
import { createSession, type Feeds, type Session } from '../runtime/index.ts';
import { ClipImageEncoder, ClipTextEncoder, type IdType, type TextTowerSpec, type VisionTowerSpec } from './encoders.ts';
import { readOnnxSignature, ONNX_TYPE_NAMES, type OnnxSignature, type OnnxValueSignature } from './onnx-signature.ts';
import { OPENAI_CLIP_IMAGE_CONFIG, outputSize, parsePreprocessorConfig, type ClipImageConfig } from './preprocess.ts';
import { CLIP_CONTEXT_LENGTH, type ClipTokenizer } from './tokenizer.ts';
import { loadClipTokenizer } from './vocab-files.ts';

/** A CLIP folder that cannot be used, with the reason. */
export class ClipFolderError extends Error {
  override readonly name = 'ClipFolderError';
}

/** Options of {@link loadClip}. */
export interface LoadClipOptions {
  providers?: readonly ProviderName[];
  threads?: number;
  /** Set when other ORT sessions (the teacher) run at the same time. */
  shareCores?: boolean;
  /** Largest batch fed to a model with a dynamic batch axis (default 32). */
  maxBatch?: number;
}

/** Both towers of a CLIP model and what identifies it. */
export interface ClipModel {
  readonly text: ClipTextEncoder;
  readonly image: ClipImageEncoder;
  /** Embedding size. */
  readonly dim: number;
  /** sha256 over the model files' contents: caches (channel relevance) are keyed by it. */
  readonly identity: string;
  /** Absolute folder path (for a stored model, the folder it was imported from). */
  readonly dir: string;
  /** Frees the sessions. */
  release(): Promise<void>;
}

/** The files a folder provides, found by {@link findClipModelFiles}. */
export type ClipModelFiles = { kind: 'towers'; text: string; vision: string } | { kind: 'combined'; model: string };

/** Finds the ONNX files of a CLIP export in `dir` or `dir/onnx`; null when there are none. */
export function findClipModelFiles(dir: string): ClipModelFiles | null {
  for (const base of [dir, join(dir, 'onnx')]) {
    const text = join(base, 'text_model.onnx');
    const vision = join(base, 'vision_model.onnx');
    if (existsSync(text) && existsSync(vision)) return { kind: 'towers', text, vision };
    const model = join(base, 'model.onnx');
    if (existsSync(model)) return { kind: 'combined', model };
  }
  return null;
}

const ELEM_INT64 = 7;
const ELEM_INT32 = 6;
const ELEM_FLOAT = 1;

function describe(v: OnnxValueSignature): string {
  const dims = v.dims === null ? '' : ` [${v.dims.map((d) => d ?? '?').join(', ')}]`;
  return `${v.name} (${ONNX_TYPE_NAMES[v.elemType] ?? `type ${v.elemType}`}${dims})`;
}

function findValue(list: readonly OnnxValueSignature[], name: string): OnnxValueSignature | undefined {
  return list.find((v) => v.name === name);
}

function need(sig: OnnxSignature, name: string, file: string, what: string): OnnxValueSignature {
  const v = findValue(sig.inputs, name);
  if (v === undefined) {
    throw new ClipFolderError(`${file} has no input "${name}" (${what}); its inputs are ${sig.inputs.map(describe).join(', ') || 'none'}`);
  }
  return v;
}

function idType(v: OnnxValueSignature, file: string): IdType {
  if (v.elemType === ELEM_INT64) return 'int64';
  if (v.elemType === ELEM_INT32) return 'int32';
  throw new ClipFolderError(`${file}: input ${describe(v)} must be int64 or int32`);
}

/** A fixed dimension, null when dynamic or unspecified. */
function fixed(d: number | string | null | undefined): number | null {
  return typeof d === 'number' ? d : null;
}

function embedOutput(sig: OnnxSignature, name: string, file: string): { dim: number; batch: number | null } {
  const v = sig.outputs.find((o) => o.name === name);
  if (v === undefined) {
    throw new ClipFolderError(`${file} has no output "${name}"; its outputs are ${sig.outputs.map(describe).join(', ') || 'none'} (export the model with its projection)`);
  }
  if (v.elemType !== ELEM_FLOAT) throw new ClipFolderError(`${file}: output ${describe(v)} must be float32`);
  const dim = fixed(v.dims?.[1]);
  if (v.dims === null || v.dims.length !== 2 || dim === null) throw new ClipFolderError(`${file}: output ${describe(v)} must be [batch, embedding size] with a fixed size`);
  return { dim, batch: fixed(v.dims[0]) };
}

interface CheckedText {
  spec: Omit<TextTowerSpec, 'otherFeeds'>;
  dim: number;
}

function checkText(sig: OnnxSignature, file: string): CheckedText {
  const ids = need(sig, 'input_ids', file, 'token ids');
  const mask = findValue(sig.inputs, 'attention_mask');
  const len = fixed(ids.dims?.[1]) ?? CLIP_CONTEXT_LENGTH;
  if (ids.dims !== null && ids.dims.length !== 2) throw new ClipFolderError(`${file}: input ${describe(ids)} must be [batch, tokens]`);
  const out = embedOutput(sig, 'text_embeds', file);
  const batch = fixed(ids.dims?.[0]) ?? out.batch;
  return {
    spec: { batch, output: 'text_embeds', projection: null, idsType: idType(ids, file), maskType: mask === undefined ? null : idType(mask, file), contextLength: len },
    dim: out.dim,
  };
}

interface CheckedVision {
  spec: Omit<VisionTowerSpec, 'otherFeeds'>;
  dim: number;
}

function checkVision(sig: OnnxSignature, file: string, preprocess: ClipImageConfig): CheckedVision {
  const px = need(sig, 'pixel_values', file, 'preprocessed images');
  if (px.elemType !== ELEM_FLOAT) throw new ClipFolderError(`${file}: input ${describe(px)} must be float32`);
  if (px.dims !== null && (px.dims.length !== 4 || (fixed(px.dims[1]) ?? 3) !== 3)) {
    throw new ClipFolderError(`${file}: input ${describe(px)} must be [batch, 3, height, width]`);
  }
  // What the preprocessor makes of a square image must be what the model takes.
  const made = outputSize(preprocess, 1024, 1024);
  const h = fixed(px.dims?.[2]) ?? made.height;
  const w = fixed(px.dims?.[3]) ?? made.width;
  if (h !== made.height || w !== made.width) {
    throw new ClipFolderError(`${file} takes ${w}×${h} pixel_values but preprocessor_config.json makes ${made.width}×${made.height} images`);
  }
  const out = embedOutput(sig, 'image_embeds', file);
  return { spec: { batch: fixed(px.dims?.[0]) ?? out.batch, output: 'image_embeds', projection: null, preprocess, height: h, width: w }, dim: out.dim };
}

async function readPreprocessor(dir: string): Promise<ClipImageConfig> {
  const path = join(dir, 'preprocessor_config.json');
  if (!existsSync(path)) return OPENAI_CLIP_IMAGE_CONFIG;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new ClipFolderError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  try {
    return parsePreprocessorConfig(json);
  } catch (e) {
    throw new ClipFolderError(`${path}: ${(e as Error).message}`);
  }
}

async function hashFiles(paths: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const p of paths) {
    for await (const chunk of createReadStream(p)) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/** The checked facts of a folder, before any session exists. */
export interface ClipFolderInfo {
  readonly dir: string;
  readonly files: ClipModelFiles;
  readonly dim: number;
  readonly text: Omit<TextTowerSpec, 'otherFeeds'>;
  readonly vision: Omit<VisionTowerSpec, 'otherFeeds'>;
}

/**
 * Checks a CLIP folder without loading its weights: model files, input and output names and types, embedding sizes
 * of both towers, the image size against preprocessor_config.json. Throws a {@link ClipFolderError} naming the problem.
 */
export async function inspectClipFolder(folder: string): Promise<ClipFolderInfo> {
  const dir = resolve(folder);
  if (!existsSync(dir)) throw new ClipFolderError(`the CLIP folder ${dir} does not exist`);
  const files = findClipModelFiles(dir);
  if (files === null) {
    throw new ClipFolderError(`${dir} holds no CLIP ONNX export: expected text_model.onnx and vision_model.onnx, or model.onnx (in the folder or its onnx/ subfolder)`);
  }
  const preprocess = await readPreprocessor(dir);
  const textFile = files.kind === 'towers' ? files.text : files.model;
  const visionFile = files.kind === 'towers' ? files.vision : files.model;
  const textSig = readSignature(textFile);
  const visionSig = files.kind === 'towers' ? readSignature(visionFile) : textSig;
  const text = checkText(textSig, textFile);
  const vision = checkVision(visionSig, visionFile, preprocess);
  if (text.dim !== vision.dim) {
    throw new ClipFolderError(`${dir}: the text embeddings have ${text.dim} values but the image embeddings ${vision.dim}; the towers are not one CLIP model`);
  }
  return { dir, files, dim: text.dim, text: text.spec, vision: vision.spec };
}

function readSignature(file: string): OnnxSignature {
  try {
    return readOnnxSignature(file);
  } catch (e) {
    throw new ClipFolderError((e as Error).message);
  }
}

/**
 * Opens a CLIP folder: checks it (see {@link inspectClipFolder}), loads the tokenizer and creates one ORT session per
 * tower (one for both when the folder has a combined model.onnx).
 *
 * @example
 * const clip = await loadClip('/models/clip-vit-base-patch32');
 * const t = await clip.text.encode(['a face']); // [1, 512], unit length
 */
export async function loadClip(folder: string, opts: LoadClipOptions = {}): Promise<ClipModel> {
  const info = await inspectClipFolder(folder);
  const tokenizer = await loadClipTokenizer(info.dir).catch((e: Error) => {
    throw new ClipFolderError(e.message);
  });
  const { files } = info;
  const paths = files.kind === 'towers' ? [files.text, files.vision] : [files.model];
  const identity = await hashFiles(paths);
  const models: ClipModelSources = files.kind === 'towers' ? { kind: 'towers', text: files.text, vision: files.vision } : { kind: 'combined', model: files.model };
  return openClip(info, models, tokenizer, identity, opts);
}

/** Where the model bytes of {@link openClip} come from: file paths or bytes already read (the blob store's). */
export type ClipModelSources =
  | { kind: 'towers'; text: string | Uint8Array; vision: string | Uint8Array }
  | { kind: 'combined'; model: string | Uint8Array };

/** The checked facts {@link openClip} needs: what {@link inspectClipFolder} found, without the folder. */
export type ClipSpecs = Pick<ClipFolderInfo, 'dim' | 'text' | 'vision'> & { readonly dir: string };

/**
 * Creates the sessions of a CLIP model whose specs were checked before (by {@link inspectClipFolder}, at import):
 * one per tower, or one for both when the model is a combined model.onnx.
 */
export async function openClip(info: ClipSpecs, models: ClipModelSources, tokenizer: ClipTokenizer, identity: string, opts: LoadClipOptions = {}): Promise<ClipModel> {
  const { dim } = info;
  const sessionOpts = {
    ...(opts.providers !== undefined ? { providers: opts.providers } : {}),
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.shareCores !== undefined ? { shareCores: opts.shareCores } : {}),
  };
  const maxBatch = opts.maxBatch ?? 32;
  const sessions: Session[] = [];
  try {
    let textSpec: TextTowerSpec;
    let visionSpec: VisionTowerSpec;
    let textSession: Session;
    let visionSession: Session;
    if (models.kind === 'towers') {
      textSession = await createSession(models.text, sessionOpts);
      sessions.push(textSession);
      visionSession = await createSession(models.vision, sessionOpts);
      sessions.push(visionSession);
      textSpec = { ...info.text, otherFeeds: null };
      visionSpec = { ...info.vision, otherFeeds: null };
    } else {
      textSession = await createSession(models.model, sessionOpts);
      sessions.push(textSession);
      visionSession = textSession;
      const { height, width } = info.vision;
      const len = info.text.contextLength;
      // A combined model runs both towers every time: the other tower gets one blank item.
      const blankImage = (): Feeds => ({ pixel_values: new ort.Tensor('float32', new Float32Array(3 * height * width), [1, 3, height, width]) });
      const blankText = (): Feeds => {
        const feeds: Feeds = { input_ids: new ort.Tensor('int64', new BigInt64Array(len), [1, len]) };
        if (info.text.maskType !== null) feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(len).fill(1n), [1, len]);
        return feeds;
      };
      textSpec = { ...info.text, otherFeeds: blankImage };
      visionSpec = { ...info.vision, otherFeeds: blankText };
    }
    return {
      text: new ClipTextEncoder(textSession, tokenizer, textSpec, dim, maxBatch),
      image: new ClipImageEncoder(visionSession, visionSpec, dim, maxBatch),
      dim,
      identity,
      dir: info.dir,
      release: async () => {
        for (const s of sessions) await s.release();
      },
    };
  } catch (e) {
    for (const s of sessions) await s.release();
    throw e;
  }
}
