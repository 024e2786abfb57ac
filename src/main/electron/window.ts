// The main window and the rules every web contents obeys: sandboxed, no navigation away, no new windows, few permissions.
import { BrowserWindow, shell, type Session, type WebContents } from 'electron';
import { isAllowedOrigin, originOf } from './app-origin.ts';

/** Options for {@link createMainWindow}. */
export interface MainWindowOptions {
  /** Absolute path of the bundled preload (out/preload/index.cjs). */
  preloadPath: string;
  /** The renderer's entry: `studio://app/index.html`, or the dev server's URL in development. */
  url: string;
}

/** Opens the studio window: context isolation, sandbox, no Node in the renderer, web security on. */
export function createMainWindow({ preloadPath, url }: MainWindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 880,
    minHeight: 560,
    show: false,
    title: 'Effects Studio',
    backgroundColor: '#14161a',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(url);
  return window;
}

// The webcam is the only device the studio asks for (Live preview); fullscreen and clipboard writes are harmless.
const GRANTED_PERMISSIONS: ReadonlySet<string> = new Set(['media', 'fullscreen', 'clipboard-sanitized-write']);

/** Grants only the permissions the studio needs, and only to its own origin. */
export function restrictPermissions(session: Session, allowedOrigins: readonly string[]): void {
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    callback(GRANTED_PERMISSIONS.has(permission) && isAllowedOrigin(details.requestingUrl, allowedOrigins));
  });
  session.setPermissionCheckHandler(
    (_contents, permission, requestingOrigin, details) =>
      GRANTED_PERMISSIONS.has(permission) && isAllowedOrigin(details.requestingUrl ?? requestingOrigin, allowedOrigins),
  );
}

/**
 * Locks a web contents to the app: navigation and redirects to any other origin are cancelled, `window.open`
 * is denied (an https link opens in the OS browser instead) and `<webview>` is refused.
 */
export function hardenWebContents(contents: WebContents, allowedOrigins: readonly string[], log: (line: string) => void): void {
  const refuseForeign = (event: { preventDefault(): void }, url: string, what: string): void => {
    if (isAllowedOrigin(url, allowedOrigins)) return;
    event.preventDefault();
    log(`window: blocked ${what} to ${originOf(url) ?? 'an unparsable URL'}`);
  };
  contents.on('will-navigate', (event) => refuseForeign(event, event.url, 'navigation'));
  contents.on('will-redirect', (event) => refuseForeign(event, event.url, 'redirect'));
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    log('window: blocked a <webview>');
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    else log(`window: blocked window.open of ${originOf(url) ?? 'an unparsable URL'}`);
    return { action: 'deny' };
  });
}
