// The renderer's WebSocket client speaks the host's wire format, waits for the connection, reconnects, and stops when refused.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import type { EventChannel, Events, JobInfo, Result } from '../../../src/shared/contract.ts';
import { startBrowserHost, type StudioEndpoint } from '../../../src/main/host/browser-host.ts';
import { WS_PATH } from '../../../src/main/host/wire.ts';
import {
  WebSocketStudioClient,
  type ConnectionStatus,
  type SocketHandle,
  type SocketHandlers,
} from '../../../src/renderer/src/lib/ws-client.ts';

const JOB: JobInfo = {
  id: 'j1',
  kind: 'device-check',
  params: {},
  status: 'running',
  progress: { step: 1, total: 3, message: 'probing webgpu' },
  error: null,
  result: null,
  createdAt: '2025-01-01T00:00:00.000Z',
  startedAt: '2025-01-01T00:00:01.000Z',
  finishedAt: null,
};

/** An in-test studio: answers `jobs:get` for J1 and pushes events on demand. */
class SmallStudio implements StudioEndpoint {
  readonly #listeners = new Set<<E extends EventChannel>(event: E, payload: Events[E]) => void>();

  async handle(channel: unknown, params: unknown): Promise<Result<unknown>> {
    if (channel === 'jobs:get' && Array.isArray(params) && params[0] === JOB.id) return { ok: true, value: JOB };
    return { ok: false, error: { code: 'not-found', message: `nothing for ${String(channel)}` } };
  }

  onEvent(listener: <E extends EventChannel>(event: E, payload: Events[E]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(job: JobInfo): void {
    for (const listener of this.#listeners) listener('jobs:did-change', job);
  }
}

/** Node's `ws` behind the same small socket surface the browser's WebSocket gets in the renderer. */
function openNodeSocket(url: string, handlers: SocketHandlers): SocketHandle {
  const socket = new WebSocket(url);
  socket.on('open', () => handlers.onOpen());
  socket.on('message', (data) => handlers.onMessage(String(data)));
  socket.on('close', (code, reason) => handlers.onClose(code, String(reason)));
  socket.on('error', () => undefined);
  return { send: (data) => socket.send(data), close: (code, reason) => socket.close(code, reason) };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.useRealTimers();
});

describe('against the real browser host', () => {
  it('invokes requests, receives events, and reports the connection status', async () => {
    const rendererDir = await mkdtemp(join(tmpdir(), 'ws-client-'));
    await writeFile(join(rendererDir, 'index.html'), '<!doctype html>');
    const studio = new SmallStudio();
    const host = await startBrowserHost({ studio, rendererDir, blobs: { read: () => Promise.reject(new Error('no blobs here')) }, log: () => undefined });
    const statuses: ConnectionStatus[] = [];
    const client = new WebSocketStudioClient({
      url: `ws://127.0.0.1:${host.port}${WS_PATH}?token=${host.token}`,
      token: host.token,
      openSocket: openNodeSocket,
      onStatus: (status) => statuses.push(status),
    });
    cleanups.push(() => rm(rendererDir, { recursive: true, force: true }), () => host.close(), () => client.dispose());

    // Called before the socket opened: the call waits and goes out once connected.
    expect(await client.invoke('jobs:get', JOB.id)).toEqual({ ok: true, value: JOB });
    expect(await client.invoke('jobs:get', 'nope')).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(statuses).toEqual(['open']);

    const received = new Promise<JobInfo>((resolve) => client.on('jobs:did-change', resolve));
    studio.emit(JOB);
    expect(await received).toEqual(JOB);
  });
});

/** A scripted socket: the test decides when it opens, what arrives and when it closes. */
class ScriptedSockets {
  readonly opened: { url: string; handlers: SocketHandlers; sent: string[] }[] = [];

  readonly open = (url: string, handlers: SocketHandlers): SocketHandle => {
    const entry = { url, handlers, sent: [] as string[] };
    this.opened.push(entry);
    return { send: (data) => entry.sent.push(data), close: () => undefined };
  };

  get last(): { url: string; handlers: SocketHandlers; sent: string[] } {
    const entry = this.opened.at(-1);
    if (!entry) throw new Error('no socket opened');
    return entry;
  }
}

describe('connection handling', () => {
  it('answers calls in flight with an error when the connection drops, and reconnects with backoff', async () => {
    vi.useFakeTimers();
    const sockets = new ScriptedSockets();
    const statuses: [ConnectionStatus, string | null][] = [];
    const client = new WebSocketStudioClient({
      url: 'ws://x/ws',
      token: 't',
      openSocket: sockets.open,
      onStatus: (status, detail) => statuses.push([status, detail]),
    });
    sockets.last.handlers.onOpen();
    const inFlight = client.invoke('app:info');
    expect(JSON.parse(sockets.last.sent[0] ?? '')).toEqual({ type: 'invoke', id: 1, token: 't', channel: 'app:info', params: [] });

    sockets.last.handlers.onClose(1006, '');
    expect(await inFlight).toMatchObject({ ok: false, error: { code: 'internal', message: expect.stringContaining('lost the connection') } });
    expect(statuses.at(-1)).toEqual(['reconnecting', 'cannot reach the studio']);

    // Made while reconnecting: answered at once, so the user sees why nothing happened.
    expect(await client.invoke('jobs:list')).toMatchObject({ ok: false, error: { message: expect.stringContaining('not connected') } });
    expect(sockets.opened).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(250);
    expect(sockets.opened).toHaveLength(2);
    sockets.last.handlers.onOpen();
    expect(statuses.at(-1)).toEqual(['open', null]);
    const call = client.invoke('jobs:list');
    const sent = JSON.parse(sockets.last.sent[0] ?? '') as { id: number; channel: string };
    expect(sent.channel).toBe('jobs:list');
    sockets.last.handlers.onMessage(JSON.stringify({ type: 'result', id: sent.id, result: { ok: true, value: [] } }));
    expect(await call).toEqual({ ok: true, value: [] });

    // Backoff doubles while the host stays away.
    sockets.last.handlers.onClose(1001, 'going away');
    expect(statuses.at(-1)).toEqual(['reconnecting', 'the studio shut down']);
    await vi.advanceTimersByTimeAsync(250);
    sockets.last.handlers.onClose(1006, '');
    await vi.advanceTimersByTimeAsync(499);
    expect(sockets.opened).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets.opened).toHaveLength(4);
    client.dispose();
  });

  it('stops for good when the host refuses the token (1008)', async () => {
    vi.useFakeTimers();
    const sockets = new ScriptedSockets();
    const statuses: ConnectionStatus[] = [];
    const client = new WebSocketStudioClient({ url: 'ws://x/ws', token: 't', openSocket: sockets.open, onStatus: (s) => statuses.push(s) });
    sockets.last.handlers.onOpen();
    const call = client.invoke('app:info');
    sockets.last.handlers.onClose(1008, 'unauthorized');
    expect(await call).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(statuses.at(-1)).toBe('refused');
    expect(await client.invoke('app:info')).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sockets.opened).toHaveLength(1);
  });

  it('turns an error message for a call into that call’s failure and ignores unknown ids', async () => {
    const sockets = new ScriptedSockets();
    const client = new WebSocketStudioClient({ url: 'ws://x/ws', token: 't', openSocket: sockets.open });
    sockets.last.handlers.onOpen();
    const call = client.invoke('jobs:get', 'x');
    sockets.last.handlers.onMessage(JSON.stringify({ type: 'result', id: 999, result: { ok: true, value: 1 } }));
    sockets.last.handlers.onMessage(
      JSON.stringify({ type: 'error', id: 1, error: { code: 'invalid-request', message: 'params: expected array' } }),
    );
    expect(await call).toEqual({ ok: false, error: { code: 'invalid-request', message: 'params: expected array' } });
    client.dispose();
  });

  it('delivers events only to current listeners of that event', () => {
    const sockets = new ScriptedSockets();
    const client = new WebSocketStudioClient({ url: 'ws://x/ws', token: 't', openSocket: sockets.open });
    sockets.last.handlers.onOpen();
    const seen: string[] = [];
    const off = client.on('jobs:did-change', (job) => seen.push(job.progress.message));
    sockets.last.handlers.onMessage(JSON.stringify({ type: 'event', event: 'jobs:did-change', payload: JOB }));
    off();
    sockets.last.handlers.onMessage(JSON.stringify({ type: 'event', event: 'jobs:did-change', payload: JOB }));
    expect(seen).toEqual(['probing webgpu']);
    client.dispose();
  });
});
