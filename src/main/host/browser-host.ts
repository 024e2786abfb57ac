// The browser host: serves the built renderer on 127.0.0.1 and carries the StudioApi over a token-guarded WebSocket.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { z } from 'zod';
import type { EventChannel, Events, Result, StudioError } from '../../shared/contract.ts';
import { LIVE_WS_PATH, MAX_LIVE_MESSAGE_BYTES } from '../../shared/live/native-protocol.ts';
import { isBlobPath, loadBlobAsset, type BlobReader } from './blob-assets.ts';
import { rendererSecurityHeaders } from './security-headers.ts';
import { loadStaticAsset } from './static-files.ts';
import {
  MAX_WS_MESSAGE_BYTES,
  WS_CLOSE_UNAUTHORIZED,
  WS_PATH,
  type ErrorMessage,
  type EventMessage,
  type HostMessage,
} from './wire.ts';

/** What a host needs from the studio: the same validation path the Electron IPC binding uses. */
export interface StudioEndpoint {
  /** Validates and answers one request from an untrusted caller; never throws. */
  handle(channel: unknown, params: unknown): Promise<Result<unknown>>;
  /** Subscribes to every event the studio pushes; returns the unsubscribe function. */
  onEvent(listener: <E extends EventChannel>(event: E, payload: Events[E]) => void): () => void;
}

/** The native live backend: one session per connected live view, fed binary messages (see native-protocol.ts). */
export interface LiveEndpoint {
  /** Opens a session whose messages to the page go through `send`. */
  open(send: (data: ArrayBuffer) => void): { receive(bytes: Uint8Array): void; close(): Promise<void> };
}

/** Options for {@link startBrowserHost}. */
export interface BrowserHostOptions {
  studio: StudioEndpoint;
  /** TCP port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
  /** Folder of the built renderer (out/renderer). */
  rendererDir: string;
  /** Stored images served at /blobs/<sha256> (thumbnails, previews), behind the same token. */
  blobs: BlobReader;
  /** Where refusals and connection errors are reported, one line each; stderr when absent. */
  log?: (line: string) => void;
  /** Serves the native live backend at {@link LIVE_WS_PATH} behind the same token when given. */
  live?: LiveEndpoint;
}

/** A running browser host. */
export interface BrowserHost {
  /** The address to open, with the session token in its query. */
  url: string;
  port: number;
  /** The random per-start token every request and WebSocket message must carry. */
  token: string;
  /** Closes every WebSocket (code 1001) and stops listening. */
  close(): Promise<void>;
}

const invokeSchema = z.object({
  type: z.literal('invoke'),
  id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  // The token is checked separately so that a missing one is refused as unauthorized, not as malformed.
  token: z.unknown().optional(),
  channel: z.string().max(200),
  params: z.array(z.unknown()),
});

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);
const CLOSE_GRACE_MS = 1000;

function tokensEqual(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * A Host header naming anything but loopback means the page was reached through another name
 * (DNS rebinding); the port is not checked so that an SSH tunnel to another local port still works.
 */
function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return hostname !== undefined && LOOPBACK_HOSTNAMES.has(hostname.toLowerCase());
}

function rawDataToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

function idOf(value: unknown): number | null {
  if (typeof value !== 'object' || value === null || !('id' in value)) return null;
  return Number.isSafeInteger(value.id) ? (value.id as number) : null;
}

function listen(server: ReturnType<typeof createServer>, port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const onError = (error: Error): void => reject(new Error(`browser host cannot listen on 127.0.0.1:${port}: ${error.message}`));
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolvePort((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts the browser host: HTTP on 127.0.0.1 only, serving `rendererDir` with the renderer's security
 * headers, and a WebSocket at {@link WS_PATH} that answers `invoke` messages through `studio.handle` and
 * pushes the studio's events. A random 256-bit token guards everything: the first page load carries it as
 * `?token=` and receives an HttpOnly SameSite=Strict cookie for the assets; the WebSocket upgrade needs the
 * cookie or the query token; every WebSocket message carries it too. Refusals are logged.
 */
export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const { studio, rendererDir } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const token = randomBytes(32).toString('base64url');
  const clients = new Set<WebSocket>();
  let port = 0;
  // Cookies are per host, not per port: name it by port so that two studios on one machine do not clash.
  const cookieName = (): string => `studio_token_${port}`;

  const headers = (): Record<string, string> =>
    rendererSecurityHeaders({ connectSources: [`ws://127.0.0.1:${port}`, `ws://localhost:${port}`] });

  const refuseHttp = (req: IncomingMessage, res: ServerResponse, status: number, reason: string): void => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    log(`browser-host: refused ${req.method ?? '?'} ${path} from ${req.socket.remoteAddress ?? '?'} (${status}): ${reason}`);
    const body =
      status === 401
        ? 'This studio only opens from the address that `effects-studio serve` printed (it carries ?token=...).\n'
        : `${reason}\n`;
    res.writeHead(status, { ...headers(), 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body);
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!isLoopbackHost(req.headers.host)) return refuseHttp(req, res, 403, 'Host header is not loopback');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return refuseHttp(req, res, 405, 'only GET and HEAD are served');
    }
    const queryToken = url.searchParams.get('token');
    const isQueryAuthorized = queryToken !== null && tokensEqual(token, queryToken);
    if (!isQueryAuthorized && !tokensEqual(token, cookieValue(req.headers.cookie, cookieName()))) {
      return refuseHttp(req, res, 401, queryToken === null ? 'missing token' : 'wrong token');
    }
    const asset = isBlobPath(url.pathname)
      ? await loadBlobAsset(options.blobs, url.pathname)
      : await loadStaticAsset(rendererDir, url.pathname);
    if (asset.status !== 200) return refuseHttp(req, res, asset.status, asset.reason);
    const responseHeaders: Record<string, string> = { ...headers(), 'Content-Type': asset.contentType };
    if (isQueryAuthorized) {
      responseHeaders['Set-Cookie'] = `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    res.writeHead(200, responseHeaders);
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  };

  const send = (ws: WebSocket, message: HostMessage): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  };

  const sendError = (ws: WebSocket, id: number | null, error: StudioError): void => {
    const message: ErrorMessage = { type: 'error', id, error };
    send(ws, message);
  };

  const answer = async (channel: string, params: unknown[]): Promise<Result<unknown>> => {
    try {
      return await studio.handle(channel, params);
    } catch (error) {
      // `handle` promises never to throw; if it does anyway, the caller still gets an answer and the host lives on.
      log(`browser-host: ${channel} threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return { ok: false, error: { code: 'internal', message: `the studio failed while answering ${channel}` } };
    }
  };

  const onMessage = async (ws: WebSocket, remote: string, data: RawData, isBinary: boolean): Promise<void> => {
    if (isBinary) {
      return sendError(ws, null, { code: 'invalid-request', message: 'binary messages are not accepted; send JSON text' });
    }
    let json: unknown;
    try {
      json = JSON.parse(rawDataToString(data));
    } catch {
      return sendError(ws, null, { code: 'invalid-request', message: 'message is not valid JSON' });
    }
    const parsed = invokeSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      return sendError(ws, idOf(json), {
        code: 'invalid-request',
        message: `expected {type:"invoke", id, token, channel, params: []}; ${where}${issue?.message ?? 'invalid'}`,
      });
    }
    const { id, channel, params } = parsed.data;
    if (!tokensEqual(token, parsed.data.token)) {
      log(`browser-host: closed WebSocket from ${remote}: message with ${parsed.data.token === undefined ? 'missing' : 'wrong'} token`);
      send(ws, { type: 'result', id, result: { ok: false, error: { code: 'unauthorized', message: 'wrong or missing token' } } });
      ws.close(WS_CLOSE_UNAUTHORIZED, 'unauthorized');
      return;
    }
    send(ws, { type: 'result', id, result: await answer(channel, params) });
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES });
  const liveWss = new WebSocketServer({ noServer: true, maxPayload: MAX_LIVE_MESSAGE_BYTES });

  const refuseUpgrade = (req: IncomingMessage, socket: Duplex, status: number, text: string, reason: string): void => {
    log(`browser-host: refused WebSocket from ${req.socket.remoteAddress ?? '?'} (${status}): ${reason}`);
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', (error) => log(`browser-host: upgrade socket error: ${error.message}`));
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const isLive = url.pathname === LIVE_WS_PATH && options.live !== undefined;
    if (url.pathname !== WS_PATH && !isLive) return refuseUpgrade(req, socket, 404, 'Not Found', `no WebSocket at ${url.pathname}`);
    if (!isLoopbackHost(req.headers.host)) return refuseUpgrade(req, socket, 403, 'Forbidden', 'Host header is not loopback');
    // Browsers always send Origin; a page from any other site must not reach the studio even with a leaked cookie.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) {
      return refuseUpgrade(req, socket, 403, 'Forbidden', `foreign origin ${origin}`);
    }
    const isAuthorized =
      tokensEqual(token, url.searchParams.get('token')) || tokensEqual(token, cookieValue(req.headers.cookie, cookieName()));
    if (!isAuthorized) return refuseUpgrade(req, socket, 401, 'Unauthorized', 'wrong or missing token');
    if (isLive) return liveWss.handleUpgrade(req, socket, head, (ws) => openLive(ws, req.socket.remoteAddress ?? '?'));
    wss.handleUpgrade(req, socket, head, (ws) => {
      const remote = req.socket.remoteAddress ?? '?';
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      // Oversized frames (1009) and protocol errors surface here; ws closes the socket itself.
      ws.on('error', (error) => log(`browser-host: WebSocket from ${remote} closed: ${error.message}`));
      ws.on('message', (data, isBinary) => void onMessage(ws, remote, data, isBinary));
    });
  };

  // The live socket carries only binary frames (JSON requests stay on the contract socket) and is closed with the host.
  const openLive = (ws: WebSocket, remote: string): void => {
    clients.add(ws);
    const session = options.live!.open((data) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    });
    ws.on('close', () => {
      clients.delete(ws);
      void session.close();
    });
    ws.on('error', (error) => log(`browser-host: live WebSocket from ${remote} closed: ${error.message}`));
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return ws.close(1003, 'the live socket takes binary messages only');
      session.receive(Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data);
    });
  };

  const server = createServer((req, res) => {
    onRequest(req, res).catch((error: unknown) => {
      log(`browser-host: request failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end();
    });
  });
  server.on('upgrade', onUpgrade);

  port = await listen(server, options.port ?? 0);

  const unsubscribe = studio.onEvent((event, payload) => {
    const message = { type: 'event', event, payload } as EventMessage;
    for (const ws of clients) send(ws, message);
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      unsubscribe();
      await Promise.all(
        [...clients].map(
          (ws) =>
            new Promise<void>((done) => {
              const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
              ws.once('close', () => {
                clearTimeout(timer);
                done();
              });
              ws.close(1001, 'the studio is shutting down');
            }),
        ),
      );
      await new Promise<void>((done) => wss.close(() => done()));
      await new Promise<void>((done) => liveWss.close(() => done()));
      server.closeAllConnections();
      await new Promise<void>((done, fail) => server.close((error) => (error ? fail(error) : done())));
    })();
    return closing;
  };

  return { url: `http://127.0.0.1:${port}/?token=${token}`, port, token, close };
}
