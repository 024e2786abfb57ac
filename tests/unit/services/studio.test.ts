// Studio service: every malformed request is answered as an error and changes nothing; jobs and device reports flow through.
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceReport, ErrorCode, Events, JobInfo, Result } from '../../../src/shared/contract.ts';
import { DataDirLockedError } from '../../../src/main/core/data-dir-lock.ts';
import { DATABASE_FILE_NAME, Studio } from '../../../src/main/services/studio.ts';
import { makeTempDir } from '../core/temp-dir.ts';
import { TEST_WORKER_URL } from '../jobs/helpers.ts';

let temp: ReturnType<typeof makeTempDir>;
let studio: Studio;
const logs: string[] = [];
const events: Events['jobs:did-change'][] = [];

async function openStudio(): Promise<Studio> {
  const s = await Studio.open({
    dataDir: temp.dir,
    host: 'browser',
    version: '9.9.9-test',
    jobWorkerUrl: TEST_WORKER_URL,
    log: (line) => logs.push(line),
  });
  s.onEvent((event, payload) => {
    if (event === 'jobs:did-change') events.push(payload);
  });
  return s;
}

/** Rows in a stable order (some tables are WITHOUT ROWID, so there is no rowid to sort by). */
function sortedRows(rows: unknown[]): unknown[] {
  return rows.map((row) => JSON.stringify(row)).sort();
}

/** Every row of every table, read through a second connection. */
function dumpDatabase(): Record<string, unknown[]> {
  const db = new BetterSqlite3(join(temp.dir, DATABASE_FILE_NAME), { readonly: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).all() as { name: string }[];
    return Object.fromEntries(tables.map(({ name }) => [name, sortedRows(db.prepare(`SELECT * FROM "${name}"`).all())]));
  } finally {
    db.close();
  }
}

function waitForFinal(id: string): Promise<JobInfo> {
  return new Promise((resolve) => {
    const off = studio.onEvent((_, job) => {
      if (job.id === id && (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled')) {
        off();
        resolve(job);
      }
    });
  });
}

function expectError(result: Result<unknown>, code: ErrorCode, message?: RegExp): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.error.code).toBe(code);
  expect(typeof result.error.message).toBe('string');
  if (message) expect(result.error.message).toMatch(message);
}

beforeEach(async () => {
  temp = makeTempDir();
  logs.length = 0;
  events.length = 0;
  studio = await openStudio();
});

afterEach(async () => {
  await studio.close();
  temp.cleanup();
});

const huge = 'x'.repeat(5_000_000);

const MALFORMED: [label: string, channel: unknown, params: unknown, code: ErrorCode, message?: RegExp][] = [
  ['unknown channel', 'jobs:delete-everything', [], 'unknown-channel', /"jobs:delete-everything"/],
  ['channel that is a number', 42, [], 'unknown-channel'],
  ['channel that is null', null, [], 'unknown-channel'],
  ['channel that is an object', { toString: () => 'app:info' }, [], 'unknown-channel'],
  ['prototype key as channel', '__proto__', [], 'unknown-channel'],
  ['inherited key as channel', 'constructor', [], 'unknown-channel'],
  ['huge channel name', huge, [], 'unknown-channel'],
  ['params that are an object', 'app:info', {}, 'invalid-request', /app:info: params must be an array of arguments, got a value of type object/],
  ['params that are a string', 'jobs:get', 'abc', 'invalid-request'],
  ['params missing', 'jobs:list', undefined, 'invalid-request'],
  ['extra argument', 'app:info', ['extra'], 'invalid-request', /takes 0 arguments, got 1/],
  ['extra argument after an id', 'jobs:get', ['a', 'b'], 'invalid-request'],
  ['missing id', 'jobs:get', [], 'invalid-request', /jobs:get: takes 1 argument, got 0/],
  ['id of the wrong type', 'jobs:cancel', [42], 'invalid-request', /params\[0\]/],
  ['empty id', 'jobs:resume', [''], 'invalid-request', /params\[0\]/],
  ['huge id', 'jobs:get', [huge], 'invalid-request', /params\[0\]/],
  ['start without params', 'jobs:start', [{ kind: 'device-check' }], 'invalid-request', /params\[0\]\.params/],
  ['start of an unknown kind', 'jobs:start', [{ kind: 'mine-bitcoin', params: {} }], 'invalid-request', /params\[0\]\.kind/],
  ['start with an unknown provider', 'jobs:start', [{ kind: 'device-check', params: { providers: ['tpu'] } }], 'invalid-request', /params\[0\]\.params\.providers\[0\]/],
  ['start with providers not a list', 'jobs:start', [{ kind: 'device-check', params: { providers: 'cpu' } }], 'invalid-request', /providers/],
  ['start with an extra field', 'jobs:start', [{ kind: 'device-check', params: {}, priority: 9 }], 'invalid-request', /priority/],
  ['start with an extra param', 'jobs:start', [{ kind: 'device-check', params: { shell: 'rm -rf /' } }], 'invalid-request', /shell/],
  ['start with null', 'jobs:start', [null], 'invalid-request', /params\[0\]/],
  ['start with a huge kind', 'jobs:start', [{ kind: huge, params: {} }], 'invalid-request'],
  ['start with an extra argument', 'jobs:start', [{ kind: 'device-check', params: {} }, 'now'], 'invalid-request'],
  ['get of an unknown job', 'jobs:get', ['no-such-job'], 'not-found', /no-such-job/],
  ['cancel of an unknown job', 'jobs:cancel', ['no-such-job'], 'not-found'],
  ['resume of an unknown job', 'jobs:resume', ['no-such-job'], 'not-found'],
];

describe('Studio.handle', () => {
  it('answers app:info', async () => {
    expect(await studio.handle('app:info', [])).toEqual({
      ok: true,
      value: { version: '9.9.9-test', host: 'browser', dataDir: temp.dir, platform: `${process.platform}/${process.arch}` },
    });
  });

  it.each(MALFORMED)('answers %s as an error and changes nothing', async (_, channel, params, code, message) => {
    const before = dumpDatabase();
    expectError(await studio.handle(channel, params), code, message);
    expect(dumpDatabase()).toEqual(before);
    expect(events).toEqual([]);
  });

  it('runs a device check as a job and answers the latest report', async () => {
    expect(await studio.handle('devices:last', [])).toEqual({ ok: true, value: null });
    const started = await studio.handle('jobs:start', [{ kind: 'device-check', params: { providers: ['cpu'] } }]);
    expect(started.ok).toBe(true);
    const job = (started as { value: JobInfo }).value;
    expect(job).toMatchObject({ kind: 'device-check', params: { providers: ['cpu'] } });
    const done = await waitForFinal(job.id);
    expect(done.status).toBe('succeeded');
    expect(events.map((e) => e.status)).toEqual(expect.arrayContaining(['queued', 'running', 'succeeded']));
    expect(Object.keys(done)).not.toContain('checkpoint');

    const last = await studio.handle('devices:last', []);
    expect(last.ok && (last.value as DeviceReport).preferred).toBe('cpu');
    expect(await studio.handle('jobs:get', [job.id])).toEqual({ ok: true, value: done });
    expect(await studio.handle('jobs:list', [])).toEqual({ ok: true, value: [done] });
    expectError(await studio.handle('jobs:resume', [job.id]), 'conflict', /succeeded/);
    expectError(await studio.handle('jobs:cancel', [job.id]), 'conflict');
  });

  it('answers an unexpected failure as internal, logs it, and keeps serving', async () => {
    const db = new BetterSqlite3(join(temp.dir, DATABASE_FILE_NAME));
    db.exec('DROP TABLE jobs');
    db.close();
    expectError(await studio.handle('jobs:list', []), 'internal', /jobs:list failed: .*no such table/);
    expect(logs.join('\n')).toMatch(/jobs:list failed/);
    expect((await studio.handle('app:info', [])).ok).toBe(true);
  });

  it('keeps delivering events when one listener throws', async () => {
    studio.onEvent(() => {
      throw new Error('a broken window');
    });
    const started = await studio.handle('jobs:start', [{ kind: 'device-check', params: {} }]);
    const done = await waitForFinal((started as { value: JobInfo }).value.id);
    expect(done.status).toBe('succeeded');
    expect(logs.join('\n')).toMatch(/a broken window/);
  });
});

describe('Studio lifecycle', () => {
  it('holds its data folder: a second studio is refused until the first closes', async () => {
    await expect(openStudio()).rejects.toBeInstanceOf(DataDirLockedError);
    await studio.close();
    expectError(await studio.handle('app:info', []), 'internal', /closed/);
    studio = await openStudio();
    expect((await studio.handle('app:info', [])).ok).toBe(true);
  });

  it('keeps jobs across a restart', async () => {
    const started = await studio.handle('jobs:start', [{ kind: 'device-check', params: {} }]);
    const done = await waitForFinal((started as { value: JobInfo }).value.id);
    await studio.close();
    studio = await openStudio();
    expect(await studio.handle('jobs:list', [])).toEqual({ ok: true, value: [done] });
    expect((await studio.handle('devices:last', [])).ok).toBe(true);
  });
});
