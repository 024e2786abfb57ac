// Runtime validation of every request's parameters: one zod schema per channel of the contract.
import { z } from 'zod';
import type { ProviderName, RequestChannel, RequestParams } from '../../shared/contract.ts';
import {
  MAX_TEACHER_NAME,
  MAX_TEACHER_PREVIEW,
  MAX_TEACHER_SAMPLES,
  type TeacherImportParams,
  type TeacherPreviewParams,
  type TeacherSampleParams,
} from '../../shared/teachers/types.ts';
import { MAX_ITEMS_PAGE, MAX_ITEMS_PER_UPDATE, type DatasetImportParams } from '../../shared/datasets/types.ts';
import type { ExportPackageParams } from '../../shared/export/types.ts';

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

const teacherImportParams = z.strictObject({
  path: z.string().min(1).max(4096),
  name: teacherName,
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
const exportPackageParams = z.strictObject({
  source: z.strictObject({ kind: z.literal('model'), modelPath: filePath, previewPaths: z.array(filePath).min(1).max(16) }),
  name: z.string().trim().min(1).max(200),
  description: z.string().max(5000),
  out: filePath,
  fp16: z.boolean(),
  colorOrder: z.enum(['RGB', 'BGR']),
  valueRange: z.tuple([z.number(), z.number()]),
}) satisfies z.ZodType<ExportPackageParams>;

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
