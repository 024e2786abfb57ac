// Picks how the renderer reaches main: Electron's preload (`window.studio`) or the browser host's WebSocket.
import type { StudioApi } from '../../../shared/contract.ts';
import { WS_PATH } from '../../../main/host/wire.ts';
import { WebSocketStudioClient, type ConnectionStatus, type SocketHandle, type SocketHandlers } from './ws-client.ts';

/** A connected StudioApi and a way to follow its connection. */
export interface Transport {
  api: StudioApi;
  kind: 'electron' | 'browser';
  /** Calls back with every connection status change (Electron's IPC is always `open`). */
  watch(listener: (status: ConnectionStatus, detail: string | null) => void): void;
}

function openBrowserSocket(url: string, handlers: SocketHandlers): SocketHandle {
  const socket = new WebSocket(url);
  socket.onopen = () => handlers.onOpen();
  socket.onmessage = (event: MessageEvent) => {
    if (typeof event.data === 'string') handlers.onMessage(event.data);
  };
  socket.onclose = (event: CloseEvent) => handlers.onClose(event.code, event.reason);
  return { send: (data) => socket.send(data), close: (code, reason) => socket.close(code, reason) };
}

/** Connects to the studio this page was opened from. */
export function connectTransport(): Transport {
  if (window.studio) {
    const api = window.studio;
    return { api, kind: 'electron', watch: (listener) => listener('open', null) };
  }
  const listeners = new Set<(status: ConnectionStatus, detail: string | null) => void>();
  let last: [ConnectionStatus, string | null] = ['connecting', null];
  const token = new URLSearchParams(window.location.search).get('token') ?? '';
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  const client = new WebSocketStudioClient({
    url: `${scheme}://${window.location.host}${WS_PATH}?token=${encodeURIComponent(token)}`,
    token,
    openSocket: openBrowserSocket,
    onStatus: (status, detail) => {
      last = [status, detail];
      for (const listener of listeners) listener(status, detail);
    },
  });
  return {
    api: client,
    kind: 'browser',
    watch: (listener) => {
      listeners.add(listener);
      listener(...last);
    },
  };
}
