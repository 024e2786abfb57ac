// Electron main entry: opens the studio on its data folder and shows the sandboxed renderer from studio://app/.
import { fileURLToPath } from 'node:url';
import { BrowserWindow, app, dialog, session } from 'electron';
import { resolveDataDir } from './core/data-dir.ts';
import { APP_ENTRY_URL, APP_HOST, APP_SCHEME, originOf } from './electron/app-origin.ts';
import { registerAppScheme, serveRenderer } from './electron/app-protocol.ts';
import { bindStudioIpc } from './electron/ipc.ts';
import { findSqliteBinding } from './electron/native-binding.ts';
import { createMainWindow, hardenWebContents, restrictPermissions } from './electron/window.ts';
import { Studio } from './services/studio.ts';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function fail(title: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  log(`${title}: ${message}`);
  dialog.showErrorBox(title, message);
  app.exit(1);
}

async function start(): Promise<void> {
  // electron-vite sets ELECTRON_RENDERER_URL to its dev server in `npm run dev`; otherwise the built renderer.
  const devUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
  const devOrigin = devUrl === undefined ? null : originOf(devUrl);
  const allowedOrigins = [`${APP_SCHEME}://${APP_HOST}`, ...(devOrigin === null ? [] : [devOrigin])];
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, allowedOrigins, log));

  await app.whenReady();

  // A packaged app's node_modules are rebuilt for Electron by the packager; from source, prepare-electron.mjs made one.
  let sqliteNativeBinding: string | undefined;
  if (!app.isPackaged) {
    const binding = findSqliteBinding(app.getAppPath(), process.versions.electron);
    if (!binding.ok) return fail('Effects Studio needs a native module built for Electron', binding.message);
    sqliteNativeBinding = binding.path;
  }

  let studio: Studio;
  try {
    studio = await Studio.open({
      dataDir: resolveDataDir({ electronUserData: app.getPath('userData') }),
      host: 'electron',
      version: app.getVersion(),
      sqliteNativeBinding,
      log,
    });
  } catch (error) {
    return fail('Effects Studio cannot open its data folder', error);
  }

  serveRenderer(fileURLToPath(new URL('../renderer', import.meta.url)), studio.blobs);
  restrictPermissions(session.defaultSession, allowedOrigins);
  const unbindIpc = bindStudioIpc({ studio, allowedOrigins, log, live: { open: (send) => studio.openNativeLive(send) } });
  const openWindow = (): void => {
    createMainWindow({ preloadPath: fileURLToPath(new URL('../preload/index.cjs', import.meta.url)), url: devUrl ?? APP_ENTRY_URL });
  };
  openWindow();

  app.on('second-instance', () => {
    const [window] = BrowserWindow.getAllWindows();
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
  });
  // macOS keeps apps alive without windows; everywhere else closing the last window quits.
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) openWindow();
  });

  let isClosed = false;
  app.on('will-quit', (event) => {
    if (isClosed) return;
    // Workers must stop and the database close before exit, or running jobs are not marked interrupted cleanly.
    event.preventDefault();
    unbindIpc();
    studio
      .close()
      .catch((error: unknown) => log(`studio: close failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        isClosed = true;
        app.quit();
      });
  });
}

registerAppScheme();
if (!app.requestSingleInstanceLock()) {
  // Another window of the studio already owns the data folder; it is focused by its 'second-instance' handler.
  app.quit();
} else {
  start().catch((error: unknown) => fail('Effects Studio failed to start', error));
}
