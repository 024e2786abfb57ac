// Binds the StudioApi to Electron IPC: every request's sender frame is checked before `studio.handle`; events go to app windows.
import { ipcMain, webContents, type IpcMainInvokeEvent } from 'electron';
import type { Result } from '../../shared/contract.ts';
import type { StudioEndpoint } from '../host/browser-host.ts';
import { isAllowedOrigin } from './app-origin.ts';
import { EVENT_IPC, INVOKE_IPC } from './ipc-channels.ts';

/** Options for {@link bindStudioIpc}. */
export interface StudioIpcOptions {
  studio: StudioEndpoint;
  /** Origins whose frames may call the studio (`studio://app`, plus the dev server in development). */
  allowedOrigins: readonly string[];
  log: (line: string) => void;
}

/**
 * Answers `INVOKE_IPC` from frames of the app's own origin only (any other frame, e.g. one that navigated away
 * or an embedded page, is refused and logged) and forwards every studio event to the app's web contents.
 * Returns the function that unbinds both.
 */
export function bindStudioIpc({ studio, allowedOrigins, log }: StudioIpcOptions): () => void {
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
  return () => {
    ipcMain.removeHandler(INVOKE_IPC);
    unsubscribe();
  };
}
