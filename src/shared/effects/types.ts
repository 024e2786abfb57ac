// Effect types shared by main and the renderer: CLIP models, channel relevance, prompts, edit previews and pair generation.
import type { ProviderName } from '../contract.ts';

/** StyleCLIP's default strength α. */
export const DEFAULT_ALPHA = 4.1;
/** StyleCLIP's default disentanglement threshold β. */
export const DEFAULT_BETA = 0.15;
/** The range of α the studio accepts (StyleCLIP's UI: −10 … 10). */
export const ALPHA_RANGE = [-10, 10] as const;
/** The range of β the studio accepts (StyleCLIP's UI uses 0.08 … 0.3; 0 keeps every channel). */
export const BETA_RANGE = [0, 1] as const;
/** Longest target or neutral text. */
export const MAX_PROMPT_TEXT = 300;
/** Most images a relevance table may be measured on. */
export const MAX_RELEVANCE_IMAGES = 1000;
/** Most latents the style statistics may be taken over. */
export const MAX_RELEVANCE_STATS = 1_000_000;
/** Most seeds in one edit preview. */
export const MAX_PREVIEW_SEEDS = 16;
/** Most strengths one edit preview renders. */
export const MAX_PREVIEW_ALPHAS = 9;
/** Most pairs one `effects-pairs` job writes. */
export const MAX_EFFECT_PAIRS = 1_000_000;

/** A CLIP model stored in the studio (both towers, tokenizer, preprocessing). */
export interface ClipModelInfo {
  id: number;
  name: string;
  /** Embedding size. */
  dim: number;
  /** Image size the vision tower takes. */
  imageSize: { width: number; height: number };
  /** `towers`: text_model.onnx + vision_model.onnx; `combined`: one model.onnx. */
  layout: 'towers' | 'combined';
  /** The folder it was imported from. */
  sourceDir: string;
  /** Bytes of the stored model files. */
  bytes: number;
  /** ISO-8601. */
  importedAt: string;
}

/** Parameters of a `clip-import` job: a CLIP ONNX export folder on the studio's machine and the name to keep it under. */
export interface ClipImportParams {
  path: string;
  name: string;
}

/** Parameters of an `effects-relevance` job: measure the CLIP direction of every style channel of a teacher. */
export interface RelevanceParams {
  teacherId: number;
  clipId: number;
  /** Images the directions are averaged over (StyleCLIP: 100). */
  images: number;
  /** Latents the per-channel mean and σ are taken over (StyleCLIP: 100,000). */
  statsSamples: number;
}

/** A stored relevance table: one CLIP direction per editable style channel of a teacher under a CLIP model. */
export interface RelevanceInfo {
  teacherId: number;
  clipId: number;
  /** Images the directions were averaged over. */
  images: number;
  /** Editable (conv) style channels. */
  channels: number;
  dim: number;
  /** ISO-8601. */
  createdAt: string;
}

/** Result of an `effects-relevance` job. */
export interface RelevanceResult extends RelevanceInfo {
  provider: ProviderName;
}

/** A target/neutral text pair with the α and β last used, kept per teacher. */
export interface PromptInfo {
  id: number;
  teacherId: number;
  target: string;
  neutral: string;
  alpha: number;
  beta: number;
  isFavorite: boolean;
  /** ISO-8601. */
  createdAt: string;
  usedAt: string;
}

/** What `effects:save-prompt` stores; the same teacher, target and neutral update the existing prompt. */
export interface SavePromptRequest {
  teacherId: number;
  target: string;
  neutral: string;
  alpha: number;
  beta: number;
  isFavorite?: boolean;
}

/** The text and threshold that define an edit. */
export interface EditSpec {
  teacherId: number;
  clipId: number;
  target: string;
  neutral: string;
  beta: number;
}

/** Parameters of an `effects-preview` job: `seeds` rendered unedited and at each strength in `alphas`. */
export interface EffectPreviewParams extends EditSpec {
  seeds: number[];
  psi: number;
  alphas: number[];
  /**
   * Δt of these texts under this CLIP model from an earlier preview's result: when given, CLIP is not run (only α or
   * β changed). Renormalised; its length must be the CLIP model's embedding size.
   */
  direction?: number[];
}

/** One seed of a preview: the original and one edited image per α (PNG blobs kept until the studio's next start). */
export interface EffectPreviewImage {
  seed: number;
  originalSha256: string;
  /** In the order of the request's `alphas`. */
  editedSha256: string[];
}

/** Result of an `effects-preview` job. */
export interface EffectPreviewResult {
  teacherId: number;
  psi: number;
  alphas: number[];
  beta: number;
  resolution: number;
  /** Style channels the edit moves (|relevance| ≥ β) out of `channels`. */
  touched: number;
  channels: number;
  images: EffectPreviewImage[];
  /** The text direction Δt the edit used (unit length): pass it back as `direction` while the texts stay the same. */
  direction: number[];
  provider: ProviderName;
}

/** Most machines one pairs run may be split over. */
export const MAX_PAIR_SHARDS = 10_000;

/**
 * One slice of a pairs run made on one of `count` machines: the pairs whose index k (0 ≤ k < the run's count)
 * has k mod `count` = `index`. Pair k always has seed `seed + k`, so the shards together are the unsharded run.
 */
export interface PairShard {
  index: number;
  count: number;
}

/**
 * Parameters of an `effects-pairs` job: pairs k = 0 … `count` − 1 (pair k from seed `seed + k`) into a new pairs
 * dataset; with `shard`, only that shard's pairs.
 */
export interface EffectPairsParams extends EditSpec {
  alpha: number;
  psi: number;
  seed: number;
  count: number;
  datasetName: string;
  shard?: PairShard;
}

/** Result of an `effects-pairs` job. */
export interface EffectPairsResult {
  datasetId: number;
  datasetName: string;
  /** Pairs in the dataset from this job. */
  count: number;
  touched: number;
  provider: ProviderName;
}

/** What each generated pair keeps about how it was made: the same latent and noise for both images. */
export interface EffectPairProvenance {
  source: 'effect';
  teacherId: number;
  teacherName: string;
  clipId: number;
  clipName: string;
  seed: number;
  psi: number;
  noise: 'const';
  target: string;
  neutral: string;
  alpha: number;
  beta: number;
  /** Style channels the edit moves. */
  touched: number;
}
