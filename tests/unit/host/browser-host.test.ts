// The browser host refuses anyone without the token, never serves outside the renderer folder and survives bad messages.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { EventChannel, Events, JobInfo, Result } from '../../../src/shared/contract.ts';
import { BlobMissingError } from '../../../src/main/core/blob-store.ts';
import type { BlobReader } from '../../../src/main/host/blob-assets.ts';
import { startBrowserHost, type BrowserHost, type StudioEndpoint } from '../../../src/main/host/browser-host.ts';
import { MAX_WS_MESSAGE_BYTES, WS_PATH, type HostMessage } from '../../../src/main/host/wire.ts';

/** A small in-test studio: records calls, answers `app:info`, and emits events on demand. */
class RecordingStudio implements StudioEndpoint {
  readonly calls: { channel: unknown; params: unknown }[] = [];
  private readonly listeners = new Set<<E extends EventChannel>(event: E, payload: Events[E]) => void>();

  async handle(channel: unknown, params: unknown): Promise<Result<unknown>> {
    this.calls.push({ channel, params });
    if (channel === 'app:info') return { ok: true, value: { version: '0.0.0-test', host: 'browser', dataDir: '/tmp/x', platform: 'linux' } };
    if (channel === 'boom') throw new Error('handler exploded');
    return { ok: false, error: { code: 'unknown-channel', message: `unknown channel ${String(channel)}` } };
  }

  onEvent(listener: <E extends EventChannel>(event: E, payload: Events[E]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit<E extends EventChannel>(event: E, payload: Events[E]): void {
    for (const listener of this.listeners) listener(event, payload);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw GET: unlike fetch it sends the path exactly as written (no dot-segment normalisation). */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A WebSocket client that queues what it receives so tests can await the next message or the close. */
class Client {
  readonly ws: WebSocket;
  private readonly inbox: HostMessage[] = [];
  private waiters: ((message: HostMessage) => void)[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number }>;
  readonly refused: Promise<number>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.refused = new Promise((resolve) => this.ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    this.closed = new Promise((resolve) => this.ws.once('close', (code) => resolve({ code })));
    this.opened.catch(() => undefined);
    this.ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as HostMessage;
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.inbox.push(message);
    });
  }

  next(): Promise<HostMessage> {
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  sendJson(value: unknown): void {
    this.ws.send(JSON.stringify(value));
  }
}

let rendererDir: string;
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const CHECKPOINT = Buffer.from('{"__metadata__":{}}');
const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
/** Blobs by hash, as the blob store answers them. */
const blobs: BlobReader = {
  read: async (key) => {
    const found = [PNG, CHECKPOINT].find((bytes) => sha(bytes) === key);
    if (!found) throw new BlobMissingError(key);
    return found;
  },
};
let studio: RecordingStudio;
let host: BrowserHost;
let logLines: string[];
const clients: Client[] = [];

function connect(query: string, headers: Record<string, string> = {}): Client {
  const client = new Client(`ws://127.0.0.1:${host.port}${WS_PATH}${query}`, headers);
  clients.push(client);
  return client;
}

async function connectAuthorized(): Promise<Client> {
  const client = connect(`?token=${host.token}`);
  await client.opened;
  return client;
}

beforeAll(async () => {
  rendererDir = await mkdtemp(join(tmpdir(), 'browser-host-'));
  await mkdir(join(rendererDir, 'assets'));
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>studio</title>');
  await writeFile(join(rendererDir, 'assets', 'app.js'), 'export {}');
  await writeFile(join(rendererDir, '..', `${rendererDir.split('/').pop()}-secret.txt`), 'SECRET');
});

afterAll(async () => {
  await rm(rendererDir, { recursive: true, force: true });
  await rm(`${rendererDir}-secret.txt`, { force: true });
});

beforeEach(async () => {
  studio = new RecordingStudio();
  logLines = [];
  host = await startBrowserHost({ studio, rendererDir, blobs, log: (line) => logLines.push(line) });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate();
  await host.close();
});

describe('startBrowserHost', () => {
  it('listens on 127.0.0.1 with a long random token in its URL', () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=${host.token}`);
    expect(Buffer.from(host.token, 'base64url').length).toBeGreaterThanOrEqual(16);
  });

  it('gives each start its own token', async () => {
    const other = await startBrowserHost({ studio, rendererDir, blobs, log: () => undefined });
    expect(other.token).not.toBe(host.token);
    await other.close();
  });
});

describe('HTTP', () => {
  it('refuses a page load without the token, or with a wrong one, and logs it without the token', async () => {
    const missing = await get(host.port, '/');
    const wrong = await get(host.port, '/?token=not-the-token');
    expect(missing.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(missing.body).not.toContain('<title>');
    expect(logLines.some((line) => line.includes('401') && line.includes('missing token'))).toBe(true);
    expect(logLines.some((line) => line.includes('wrong token'))).toBe(true);
    expect(logLines.join('\n')).not.toContain(host.token);
  });

  it('serves the page for the token and sets an HttpOnly SameSite=Strict cookie that then loads assets', async () => {
    const page = await get(host.port, `/?token=${host.token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>studio</title>');
    const setCookie = String(page.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = setCookie.split(';')[0] ?? '';
    const asset = await get(host.port, '/assets/app.js', { cookie });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/^text\/javascript/);
    expect((await get(host.port, '/assets/app.js')).status).toBe(401);
    expect((await get(host.port, '/assets/app.js', { cookie: `${cookie}x` })).status).toBe(401);
  });

  it('sends cross-origin isolation and a strict CSP with every response', async () => {
    const page = await get(host.port, `/?token=${host.token}`);
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers['cross-origin-embedder-policy']).toBe('require-corp');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain(`ws://127.0.0.1:${host.port}`);
  });

  it.each(['/../', '/%2e%2e/', '/..%2f', '/assets/..%2f..%2f', '/assets/../../'])(
    'never serves a file outside the renderer folder via %s',
    async (prefix) => {
      const name = `${rendererDir.split('/').pop()}-secret.txt`;
      const res = await get(host.port, `${prefix}${name}?token=${host.token}`);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.body).not.toContain('SECRET');
    },
  );

  it('serves stored images at /blobs/<sha256> behind the token, and nothing that is not an image', async () => {
    const page = await get(host.port, `/?token=${host.token}`);
    const cookie = String(page.headers['set-cookie']).split(';')[0] ?? '';
    const image = await get(host.port, `/blobs/${sha(PNG)}`, { cookie });
    expect(image.status).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
    expect((await get(host.port, `/blobs/${sha(PNG)}`)).status).toBe(401);
    expect((await get(host.port, `/blobs/${sha(CHECKPOINT)}`, { cookie })).status).toBe(404);
    expect((await get(host.port, `/blobs/${'0'.repeat(64)}`, { cookie })).status).toBe(404);
    expect((await get(host.port, '/blobs/%2e%2e%2findex.html', { cookie })).status).toBe(400);
    expect((await get(host.port, '/blobs/ABC', { cookie })).status).toBe(400);
  });

  it('refuses a Host header that is not loopback (DNS rebinding)', async () => {
    const res = await get(host.port, `/?token=${host.token}`, { host: 'evil.example:80' });
    expect(res.status).toBe(403);
  });

  it('answers 404 for unknown files and 405 for writes', async () => {
    expect((await get(host.port, `/nope.js?token=${host.token}`)).status).toBe(404);
    const post = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: host.port, path: `/?token=${host.token}`, method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('x');
    });
    expect(post).toBe(405);
  });
});

describe('WebSocket upgrade', () => {
  it('refuses a connection without the token or with a wrong one (401)', async () => {
    expect(await connect('').refused).toBe(401);
    expect(await connect('?token=wrong').refused).toBe(401);
    expect(logLines.filter((line) => line.includes('refused WebSocket')).length).toBe(2);
  });

  it('accepts the token from the query or from the cookie', async () => {
    await (await connectAuthorized()).opened;
    const viaCookie = connect('', { cookie: `studio_token_${host.port}=${host.token}` });
    await viaCookie.opened;
  });

  it('refuses a page from another origin even with the token', async () => {
    expect(await connect(`?token=${host.token}`, { origin: 'https://evil.example' }).refused).toBe(403);
    const sameOrigin = connect(`?token=${host.token}`, { origin: `http://127.0.0.1:${host.port}` });
    await sameOrigin.opened;
  });

  it('refuses other paths', async () => {
    expect(await connect(`?token=${host.token}`).opened.then(() => 'open')).toBe('open');
    const other = new Client(`ws://127.0.0.1:${host.port}/other?token=${host.token}`);
    clients.push(other);
    expect(await other.refused).toBe(404);
  });
});

describe('WebSocket messages', () => {
  it('answers an invoke through studio.handle with the same id', async () => {
    const client = await connectAuthorized();
    client.sendJson({ type: 'invoke', id: 7, token: host.token, channel: 'app:info', params: [] });
    const message = await client.next();
    expect(message).toEqual({
      type: 'result',
      id: 7,
      result: { ok: true, value: { version: '0.0.0-test', host: 'browser', dataDir: '/tmp/x', platform: 'linux' } },
    });
    expect(studio.calls).toEqual([{ channel: 'app:info', params: [] }]);
  });

  it('passes unknown channels and odd params to the studio to validate, and returns its refusal', async () => {
    const client = await connectAuthorized();
    client.sendJson({ type: 'invoke', id: 1, token: host.token, channel: 'fs:delete-everything', params: [{ a: 1 }] });
    const message = await client.next();
    expect(message.type === 'result' && !message.result.ok && message.result.error.code).toBe('unknown-channel');
  });

  it('closes the connection when a message carries a wrong or missing token', async () => {
    for (const token of ['wrong', undefined]) {
      const client = await connectAuthorized();
      client.sendJson({ type: 'invoke', id: 3, token, channel: 'app:info', params: [] });
      const message = await client.next();
      expect(message.type === 'result' && !message.result.ok && message.result.error.code).toBe('unauthorized');
      expect((await client.closed).code).toBe(1008);
    }
    expect(studio.calls).toEqual([]);
    expect(logLines.filter((line) => line.includes('token')).length).toBe(2);
  });

  it('answers malformed messages with an error and keeps serving the connection', async () => {
    const client = await connectAuthorized();
    client.ws.send('{not json');
    expect(await client.next()).toMatchObject({ type: 'error', id: null, error: { code: 'invalid-request' } });
    client.sendJson({ type: 'invoke', id: 5, token: host.token, channel: 'app:info' });
    expect(await client.next()).toMatchObject({ type: 'error', id: 5, error: { code: 'invalid-request' } });
    client.sendJson({ type: 'subscribe', id: 6 });
    expect(await client.next()).toMatchObject({ type: 'error', id: 6, error: { code: 'invalid-request' } });
    client.sendJson([1, 2, 3]);
    expect(await client.next()).toMatchObject({ type: 'error', id: null });
    client.sendJson(null);
    expect(await client.next()).toMatchObject({ type: 'error', id: null });
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await client.next()).toMatchObject({ type: 'error', error: { message: expect.stringContaining('binary') } });
    client.sendJson({ type: 'invoke', id: 8, token: host.token, channel: 'app:info', params: [] });
    expect(await client.next()).toMatchObject({ type: 'result', id: 8, result: { ok: true } });
  });

  it('answers an internal error when the studio throws, and stays up', async () => {
    const client = await connectAuthorized();
    client.sendJson({ type: 'invoke', id: 1, token: host.token, channel: 'boom', params: [] });
    expect(await client.next()).toMatchObject({ type: 'result', id: 1, result: { ok: false, error: { code: 'internal' } } });
    client.sendJson({ type: 'invoke', id: 2, token: host.token, channel: 'app:info', params: [] });
    expect(await client.next()).toMatchObject({ type: 'result', id: 2, result: { ok: true } });
  });

  it('closes a connection that sends an oversized message (1009) and accepts new ones', async () => {
    const client = await connectAuthorized();
    client.ws.send('x'.repeat(MAX_WS_MESSAGE_BYTES + 1));
    expect((await client.closed).code).toBe(1009);
    const next = await connectAuthorized();
    next.sendJson({ type: 'invoke', id: 1, token: host.token, channel: 'app:info', params: [] });
    expect(await next.next()).toMatchObject({ type: 'result', id: 1, result: { ok: true } });
  });

  it('pushes studio events to every connected client', async () => {
    const [a, b] = [await connectAuthorized(), await connectAuthorized()];
    const job: JobInfo = {
      id: 'j1',
      kind: 'device-check',
      params: {},
      status: 'running',
      progress: { step: 1, total: 3, message: 'probing cpu' },
      error: null,
      result: null,
      createdAt: '2025-01-01T00:00:00.000Z',
      startedAt: '2025-01-01T00:00:00.000Z',
      finishedAt: null,
    };
    studio.emit('jobs:did-change', job);
    expect(await a.next()).toEqual({ type: 'event', event: 'jobs:did-change', payload: job });
    expect(await b.next()).toEqual({ type: 'event', event: 'jobs:did-change', payload: job });
  });

  it('closes clients with 1001 and unsubscribes from the studio on close', async () => {
    const client = await connectAuthorized();
    expect(studio.listenerCount).toBe(1);
    await host.close();
    expect((await client.closed).code).toBe(1001);
    expect(studio.listenerCount).toBe(0);
  });
});
