// Runtime validation of every request's parameters: one zod schema per channel of the contract.
import { z } from 'zod';
import type { ProviderName, RequestChannel, RequestParams } from '../../shared/contract.ts';
import {
  MAX_ONNX_TEACHER_DIM,
  MAX_ONNX_TEACHER_RESOLUTION,
  MAX_TEACHER_NAME,
  MAX_TEACHER_PREVIEW,
  MAX_TEACHER_SAMPLES,
  type OnnxTeacherDeclaration,
  type TeacherImportParams,
  type TeacherPreviewParams,
  type TeacherSampleParams,
} from '../../shared/teachers/types.ts';
import { MAX_ITEMS_PAGE, MAX_ITEMS_PER_UPDATE, type DatasetImportParams } from '../../shared/datasets/types.ts';
import type { ExportEstimateSource, ExportPackageParams, ExportRunSource } from '../../shared/export/types.ts';
import {
  ALPHA_RANGE,
  BETA_RANGE,
  MAX_EFFECT_PAIRS,
  MAX_PAIR_SHARDS,
  MAX_PREVIEW_ALPHAS,
  MAX_PREVIEW_SEEDS,
  MAX_PROMPT_TEXT,
  MAX_RELEVANCE_IMAGES,
  MAX_RELEVANCE_STATS,
  type ClipImportParams,
  type EffectPairsParams,
  type EffectPreviewParams,
  type RelevanceParams,
  type SavePromptRequest,
} from '../../shared/effects/types.ts';
import { LOSS_LIMITS, STUDENT_LIMITS, TRAIN_LIMITS } from '../../shared/student/config.ts';
import type { AdversarialLossParams, EstimateLosses, PerceptualLossParams, StudentConfig, StudentTrainParams } from '../../shared/student/types.ts';

/** Longest id accepted; ids are UUIDs, so anything longer is malformed. */
const MAX_ID_LENGTH = 100;

const id = z.string().min(1).max(MAX_ID_LENGTH);

const PROVIDER_NAMES = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'] as const satisfies readonly ProviderName[];
const providerName = z.enum(PROVIDER_NAMES);

/** Datasets and items are SQLite rowids. */
const rowId = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const datasetName = z.string().trim().min(1).max(200);
const datasetKind = z.enum(['photos', 'pairs', 'synthetic']);
const itemStatus = z.enum(['pending', 'accepted', 'rejected']);
const rating = z.number().int().min(0).max(5);
const tagName = z.string().trim().min(1).max(100);
const tagList = z.array(tagName).max(50);
const notes = z.string().max(10_000);
const importPath = z.string().min(1).max(4096);

const datasetImportParams = z.strictObject({
  datasetId: rowId,
  paths: z.array(importPath).min(1).max(1000),
  pairs: z.boolean(),
  detectFaces: z.boolean().optional(),
  maxPixels: z.number().int().min(1).max(2_000_000_000).optional(),
}) satisfies z.ZodType<DatasetImportParams>;

const itemQuery = z.strictObject({
  datasetId: rowId,
  status: itemStatus.optional(),
  minRating: rating.optional(),
  tag: tagName.optional(),
  hasFace: z.boolean().optional(),
  split: z.enum(['train', 'validation']).optional(),
  sort: z.enum(['id', '-id', 'rating', '-rating']).optional(),
  offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  limit: z.number().int().min(1).max(MAX_ITEMS_PAGE).optional(),
});

const itemUpdate = z
  .strictObject({
    status: itemStatus.optional(),
    rating: rating.optional(),
    notes: notes.optional(),
    addTags: tagList.optional(),
    removeTags: tagList.optional(),
  })
  .refine((u) => Object.values(u).some((v) => v !== undefined), { message: 'the update changes nothing' });

const itemState = z.strictObject({ id: rowId, status: itemStatus, rating, notes, tags: tagList });

const teacherName = z.string().trim().min(1).max(MAX_TEACHER_NAME);
/** Seeds are safe integers ≥ 0 (see SeededRandom); ψ outside [-2, 2] only makes broken images. */
const seed = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER - MAX_TEACHER_SAMPLES);
const psi = z.number().min(-2).max(2);

/** A black-box ONNX generator's declared I/O (the model itself is checked against it by the import job). */
const onnxTeacherDeclaration = z.strictObject({
  input: z.enum(['z', 'w']),
  inputName: z.string().min(1).max(256),
  dim: z.number().int().min(1).max(MAX_ONNX_TEACHER_DIM),
  outputName: z.string().min(1).max(256),
  range: z.enum(['-1,1', '0,1']),
  resolution: z.number().int().min(1).max(MAX_ONNX_TEACHER_RESOLUTION).optional(),
}) satisfies z.ZodType<OnnxTeacherDeclaration>;

const teacherImportParams = z.strictObject({
  path: z.string().min(1).max(4096),
  name: teacherName,
  onnx: onnxTeacherDeclaration.optional(),
}) satisfies z.ZodType<TeacherImportParams>;

const teacherPreviewParams = z.strictObject({
  teacherId: rowId,
  seeds: z.array(seed).min(1).max(MAX_TEACHER_PREVIEW),
  psi,
}) satisfies z.ZodType<TeacherPreviewParams>;

const teacherSampleParams = z.strictObject({
  teacherId: rowId,
  count: z.number().int().min(1).max(MAX_TEACHER_SAMPLES),
  psi,
  seed,
  datasetName,
}) satisfies z.ZodType<TeacherSampleParams>;

const filePath = z.string().min(1).max(4096);
const exportRunSource = z.strictObject({
  kind: z.literal('run'),
  runId: z.number().int().positive(),
  checkpointStep: z.number().int().nonnegative().nullable(),
}) satisfies z.ZodType<ExportRunSource>;
const exportEstimateSource = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('model'), modelPath: filePath }),
  exportRunSource,
]) satisfies z.ZodType<ExportEstimateSource>;
const exportPackageParams = z.strictObject({
  source: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('model'), modelPath: filePath, previewPaths: z.array(filePath).min(1).max(16) }),
    exportRunSource,
  ]),
  name: z.string().trim().min(1).max(200),
  description: z.string().max(5000),
  out: filePath,
  fp16: z.boolean(),
  colorOrder: z.enum(['RGB', 'BGR']),
  valueRange: z.tuple([z.number(), z.number()]),
}) satisfies z.ZodType<ExportPackageParams>;

const between = (limits: { min: number; max: number }): z.ZodNumber => z.number().min(limits.min).max(limits.max);
const intBetween = (limits: { min: number; max: number }): z.ZodNumber => z.number().int().min(limits.min).max(limits.max);
const studentConfig = z.strictObject({
  size: intBetween(STUDENT_LIMITS.size).multipleOf(STUDENT_LIMITS.size.multipleOf),
  width: between(STUDENT_LIMITS.width),
  activation: z.enum(['relu6', 'hardswish']),
  residualScale: between(STUDENT_LIMITS.residualScale),
}) satisfies z.ZodType<StudentConfig>;
const L = TRAIN_LIMITS;
const normValue = between(LOSS_LIMITS.normalisation);
const perceptualLossParams = z
  .strictObject({
    modelSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 (64 lowercase hex digits)').optional(),
    path: filePath.optional(),
    outputs: z.array(z.string().min(1).max(256)).min(LOSS_LIMITS.perceptualOutputs.min).max(LOSS_LIMITS.perceptualOutputs.max),
    weight: z.number().gt(LOSS_LIMITS.perceptualWeight.min).max(LOSS_LIMITS.perceptualWeight.max),
    distance: z.enum(['l1', 'l2']),
    range: z.tuple([normValue, normValue]).refine(([lo, hi]) => lo < hi, 'low must be below high'),
    mean: z.tuple([normValue, normValue, normValue]),
    std: z.tuple([normValue.positive(), normValue.positive(), normValue.positive()]),
  })
  .refine((p) => (p.modelSha256 === undefined) !== (p.path === undefined), 'give exactly one of modelSha256 and path') satisfies z.ZodType<PerceptualLossParams>;
const adversarialLossParams = z.strictObject({
  weight: z.number().gt(LOSS_LIMITS.adversarialWeight.min).max(LOSS_LIMITS.adversarialWeight.max),
  discriminatorWidth: intBetween(LOSS_LIMITS.discriminatorWidth),
}) satisfies z.ZodType<AdversarialLossParams>;
const studentTrainParams = z.strictObject({
  datasetId: rowId,
  student: studentConfig,
  steps: intBetween(L.steps),
  batch: intBetween(L.batch),
  lr: between(L.lr),
  optimizer: z.enum(['adam', 'adamw']),
  weightDecay: between(L.weightDecay),
  warmupSteps: intBetween(L.warmupSteps),
  clipGradNorm: between(L.clipGradNorm),
  multiScaleWeight: between(L.multiScaleWeight),
  validateEvery: intBetween(L.validateEvery),
  checkpointEvery: intBetween(L.checkpointEvery),
  earlyStopPatience: intBetween(L.earlyStopPatience),
  validationItems: intBetween(L.validationItems),
  augment: z.strictObject({ flip: z.boolean(), jitter: between(L.jitter), occluders: between(L.occluders) }),
  seed: intBetween(L.seed),
  perceptual: perceptualLossParams.optional(),
  adversarial: adversarialLossParams.optional(),
}) satisfies z.ZodType<StudentTrainParams>;

const clipImportParams = z.strictObject({ path: filePath, name: teacherName }) satisfies z.ZodType<ClipImportParams>;
const relevanceParams = z.strictObject({
  teacherId: rowId,
  clipId: rowId,
  images: z.number().int().min(1).max(MAX_RELEVANCE_IMAGES),
  statsSamples: z.number().int().min(2).max(MAX_RELEVANCE_STATS),
}) satisfies z.ZodType<RelevanceParams>;
const promptText = z.string().trim().min(1).max(MAX_PROMPT_TEXT);
const alpha = z.number().min(ALPHA_RANGE[0]).max(ALPHA_RANGE[1]);
const beta = z.number().min(BETA_RANGE[0]).max(BETA_RANGE[1]);
const editSpec = { teacherId: rowId, clipId: rowId, target: promptText, neutral: promptText, beta };
const effectPreviewParams = z.strictObject({
  ...editSpec,
  seeds: z.array(seed).min(1).max(MAX_PREVIEW_SEEDS),
  psi,
  alphas: z.array(alpha).min(1).max(MAX_PREVIEW_ALPHAS),
  direction: z.array(z.number().min(-1).max(1)).min(1).max(4096).optional(),
}) satisfies z.ZodType<EffectPreviewParams>;
const effectPairsParams = z.strictObject({
  ...editSpec,
  alpha,
  psi,
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER - MAX_EFFECT_PAIRS),
  count: z.number().int().min(1).max(MAX_EFFECT_PAIRS),
  datasetName,
  shard: z
    .strictObject({ index: z.number().int().min(0), count: z.number().int().min(1).max(MAX_PAIR_SHARDS) })
    .refine((s) => s.index < s.count, { message: 'shard index must be below the shard count', path: ['index'] })
    .optional(),
}) satisfies z.ZodType<EffectPairsParams>;
const savePromptRequest = z.strictObject({
  teacherId: rowId,
  target: promptText,
  neutral: promptText,
  alpha,
  beta,
  isFavorite: z.boolean().optional(),
}) satisfies z.ZodType<SavePromptRequest>;

const jobStartRequest = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('device-check'),
    params: z.strictObject({ providers: z.array(providerName).min(1).max(PROVIDER_NAMES.length).optional() }),
  }),
  z.strictObject({ kind: z.literal('dataset-import'), params: datasetImportParams }),
  z.strictObject({ kind: z.literal('teacher-import'), params: teacherImportParams }),
  z.strictObject({ kind: z.literal('teacher-preview'), params: teacherPreviewParams }),
  z.strictObject({ kind: z.literal('teacher-sample'), params: teacherSampleParams }),
  z.strictObject({ kind: z.literal('export-package'), params: exportPackageParams }),
  z.strictObject({ kind: z.literal('export-verify'), params: z.strictObject({ path: filePath }) }),
  z.strictObject({ kind: z.literal('export-estimate'), params: z.strictObject({ source: exportEstimateSource }) }),
  z.strictObject({ kind: z.literal('clip-import'), params: clipImportParams }),
  z.strictObject({ kind: z.literal('effects-relevance'), params: relevanceParams }),
  z.strictObject({ kind: z.literal('effects-preview'), params: effectPreviewParams }),
  z.strictObject({ kind: z.literal('effects-pairs'), params: effectPairsParams }),
  z.strictObject({ kind: z.literal('student-train'), params: studentTrainParams }),
]);

/**
 * The parameter tuple of every request channel. The `satisfies` clause makes a missing or extra channel, or a
 * schema whose output is not the contract's type, a compile error; tests/unit/services/schemas.test-d.ts checks
 * the other direction (every value the contract allows is accepted).
 */
export const REQUEST_SCHEMAS = {
  'app:info': z.tuple([]),
  'jobs:list': z.tuple([]),
  'jobs:get': z.tuple([id]),
  'jobs:start': z.tuple([jobStartRequest]),
  'jobs:cancel': z.tuple([id]),
  'jobs:resume': z.tuple([id]),
  'jobs:pause': z.tuple([id]),
  'devices:last': z.tuple([]),
  'datasets:list': z.tuple([]),
  'datasets:create': z.tuple([
    z.strictObject({
      name: datasetName,
      kind: datasetKind,
      splitSeed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
      validationFraction: z.number().min(0).max(1).optional(),
    }),
  ]),
  'datasets:rename': z.tuple([rowId, datasetName]),
  'datasets:delete': z.tuple([rowId]),
  'datasets:items': z.tuple([itemQuery]),
  'datasets:tags': z.tuple([rowId]),
  'datasets:update-items': z.tuple([z.array(rowId).min(1).max(MAX_ITEMS_PER_UPDATE), itemUpdate]),
  'datasets:restore-items': z.tuple([z.array(itemState).min(1).max(MAX_ITEMS_PER_UPDATE)]),
  'datasets:stats': z.tuple([rowId]),
  'datasets:duplicates': z.tuple([rowId, z.number().int().min(0).max(32).nullable()]),
  'datasets:import': z.tuple([datasetImportParams]),
  // 48 MiB of base64 holds a 36 MiB frame, far above any webcam's PNG.
  'datasets:add-capture': z.tuple([rowId, z.string().min(8).max(48 * 1024 * 1024).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64')]),
  'teachers:list': z.tuple([]),
  'teachers:get': z.tuple([rowId]),
  'teachers:rename': z.tuple([rowId, teacherName]),
  'teachers:delete': z.tuple([rowId]),
  'teachers:make-tiny': z.tuple([teacherName]),
  'teachers:import': z.tuple([teacherImportParams]),
  'teachers:sample': z.tuple([teacherSampleParams]),
  'exports:list': z.tuple([]),
  'exports:create': z.tuple([exportPackageParams]),
  'exports:open': z.tuple([filePath]),
  'clips:list': z.tuple([]),
  'clips:import': z.tuple([clipImportParams]),
  'clips:delete': z.tuple([rowId]),
  'effects:relevance': z.tuple([rowId]),
  'effects:compute-relevance': z.tuple([relevanceParams]),
  'effects:prompts': z.tuple([rowId]),
  'effects:save-prompt': z.tuple([savePromptRequest]),
  'effects:delete-prompt': z.tuple([rowId]),
  'effects:preview': z.tuple([effectPreviewParams]),
  'effects:generate-pairs': z.tuple([effectPairsParams]),
  'students:describe': z.tuple([
    studentConfig,
    z.number().int().min(1).max(256),
    z.strictObject({ adversarial: adversarialLossParams.nullable(), perceptual: z.boolean() }) satisfies z.ZodType<EstimateLosses>,
  ]),
  'runs:start': z.tuple([studentTrainParams]),
  'runs:list': z.tuple([]),
  'runs:get': z.tuple([rowId]),
  'runs:checkpoints': z.tuple([rowId]),
  'live:runs': z.tuple([]),
  'live:student': z.tuple([
    z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('run'), runId: rowId }),
      z.strictObject({ kind: z.literal('package'), path: filePath }),
    ]),
  ]),
  'live:model-part': z.tuple([z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 (64 lower-case hex digits)'), z.number().int().min(0).max(1000)]),
} satisfies { [C in RequestChannel]: z.ZodType<RequestParams<C>> };

/** One line naming each offending field, e.g. `params[0].params.providers[1]: Invalid option: …`. */
export function describeIssues(error: z.ZodError): string {
  const shown = error.issues.slice(0, 3).map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  const more = error.issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? `; and ${more} more` : '');
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = 'params';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return out;
}
