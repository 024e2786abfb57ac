// Type test: the runtime channel lists name exactly the contract's requests and events.
import { describe, expectTypeOf, it } from 'vitest';
import { EVENT_CHANNELS, REQUEST_CHANNELS, type Events, type JobKind, type JobParams, type JobResults, type Requests } from '../../../src/shared/contract.ts';

describe('contract', () => {
  it('lists every request channel and nothing else', () => {
    expectTypeOf<(typeof REQUEST_CHANNELS)[number]>().toEqualTypeOf<keyof Requests>();
  });

  it('lists every event channel and nothing else', () => {
    expectTypeOf<(typeof EVENT_CHANNELS)[number]>().toEqualTypeOf<keyof Events>();
  });

  it('gives every job kind its params and its result', () => {
    expectTypeOf<keyof JobParams>().toEqualTypeOf<JobKind>();
    expectTypeOf<keyof JobResults>().toEqualTypeOf<JobKind>();
  });
});
