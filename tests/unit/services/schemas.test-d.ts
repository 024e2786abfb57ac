// Type test: each channel's schema accepts exactly the contract's parameter tuple (the `satisfies` in schemas.ts checks one direction).
import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { RequestChannel, RequestParams } from '../../../src/shared/contract.ts';
import { REQUEST_SCHEMAS } from '../../../src/main/services/schemas.ts';

type SchemaInput<C extends RequestChannel> = z.input<(typeof REQUEST_SCHEMAS)[C]>;
type SchemaOutput<C extends RequestChannel> = z.output<(typeof REQUEST_SCHEMAS)[C]>;

describe('REQUEST_SCHEMAS', () => {
  it('has one schema per request channel', () => {
    expectTypeOf<keyof typeof REQUEST_SCHEMAS>().toEqualTypeOf<RequestChannel>();
  });

  it('accepts and produces exactly the contract parameters of every channel', () => {
    expectTypeOf<SchemaInput<'app:info'>>().toEqualTypeOf<RequestParams<'app:info'>>();
    expectTypeOf<SchemaInput<'jobs:list'>>().toEqualTypeOf<RequestParams<'jobs:list'>>();
    expectTypeOf<SchemaInput<'jobs:get'>>().toEqualTypeOf<RequestParams<'jobs:get'>>();
    expectTypeOf<SchemaInput<'jobs:start'>>().toEqualTypeOf<RequestParams<'jobs:start'>>();
    expectTypeOf<SchemaInput<'jobs:cancel'>>().toEqualTypeOf<RequestParams<'jobs:cancel'>>();
    expectTypeOf<SchemaInput<'jobs:resume'>>().toEqualTypeOf<RequestParams<'jobs:resume'>>();
    expectTypeOf<SchemaInput<'devices:last'>>().toEqualTypeOf<RequestParams<'devices:last'>>();
    expectTypeOf<SchemaOutput<'jobs:start'>>().toEqualTypeOf<RequestParams<'jobs:start'>>();
  });
});
