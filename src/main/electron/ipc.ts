// Binds the StudioApi to Electron IPC: every request's sender frame is checked before `studio.handle`; events go to app windows.
import { ipcMain, webContents, type IpcMainEvent, type IpcMainInvokeEvent } from 'electron';
import type { Result } from '../../shared/contract.ts';
import type { LiveEndpoint, StudioEndpoint } from '../host/browser-host.ts';
import { isAllowedOrigin } from './app-origin.ts';
import { EVENT_IPC, INVOKE_IPC, LIVE_PORT_IPC } from './ipc-channels.ts';

/** Options for {@link bindStudioIpc}. */
export interface StudioIpcOptions {
  studio: StudioEndpoint;
  /** Origins whose frames may call the studio (`studio://app`, plus the dev server in development). */
  allowedOrigins: readonly string[];
  log: (line: string) => void;
  /** The native live backend, reached over a MessagePort the preload hands over. */
  live?: LiveEndpoint;
}

/**
 * Answers `INVOKE_IPC` from frames of the app's own origin only (any other frame, e.g. one that navigated away
 * or an embedded page, is refused and logged) and forwards every studio event to the app's web contents.
 * Returns the function that unbinds both.
 */
export function bindStudioIpc({ studio, allowedOrigins, log, live }: StudioIpcOptions): () => void {
  ipcMain.handle(INVOKE_IPC, async (event: IpcMainInvokeEvent, channel: unknown, params: unknown): Promise<Result<unknown>> => {
    const senderUrl = event.senderFrame?.url ?? '';
    if (!isAllowedOrigin(senderUrl, allowedOrigins)) {
      log(`ipc: refused ${String(channel).slice(0, 80)} from ${senderUrl || 'a destroyed frame'}`);
      return { ok: false, error: { code: 'unauthorized', message: 'requests are accepted from the studio’s own pages only' } };
    }
    return studio.handle(channel, params);
  });
  const unsubscribe = studio.onEvent((event, payload) => {
    for (const contents of webContents.getAllWebContents()) {
      if (!contents.isDestroyed() && isAllowedOrigin(contents.getURL(), allowedOrigins)) {
        contents.send(EVENT_IPC, event, payload);
      }
    }
  });
  const onLivePort = (event: IpcMainEvent): void => {
    const senderUrl = event.senderFrame?.url ?? '';
    const port = event.ports[0];
    if (live === undefined || port === undefined || !isAllowedOrigin(senderUrl, allowedOrigins)) {
      log(`ipc: refused a live port from ${senderUrl || 'a destroyed frame'}`);
      port?.close();
      return;
    }
    const session = live.open((data) => port.postMessage(data));
    port.on('message', (message) => {
      const data: unknown = message.data;
      if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) session.receive(data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
    port.on('close', () => void session.close());
    port.start();
  };
  ipcMain.on(LIVE_PORT_IPC, onLivePort);
  return () => {
    ipcMain.off(LIVE_PORT_IPC, onLivePort);
    ipcMain.removeHandler(INVOKE_IPC);
    unsubscribe();
  };
}
