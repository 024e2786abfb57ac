// Runtime validation of every request's parameters: one zod schema per channel of the contract.
import { z } from 'zod';
import type { ProviderName, RequestChannel, RequestParams } from '../../shared/contract.ts';

/** Longest id accepted; ids are UUIDs, so anything longer is malformed. */
const MAX_ID_LENGTH = 100;

const id = z.string().min(1).max(MAX_ID_LENGTH);

const PROVIDER_NAMES = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'] as const satisfies readonly ProviderName[];
const providerName = z.enum(PROVIDER_NAMES);

const jobStartRequest = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('device-check'),
    params: z.strictObject({ providers: z.array(providerName).min(1).max(PROVIDER_NAMES.length).optional() }),
  }),
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
