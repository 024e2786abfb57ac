// Where `npm start`'s prepare step (scripts/prepare-electron.mjs) put the Electron-ABI build of better-sqlite3.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Folder, under the app root, of the Electron-ABI native builds; the same name as in scripts/prepare-electron.mjs. */
export const ELECTRON_NATIVE_DIR = '.electron-native';

/** The prepared Electron-ABI `better_sqlite3.node`, or why there is none. */
export type NativeBindingLookup = { ok: true; path: string } | { ok: false; message: string };

/**
 * Finds `<appRoot>/.electron-native/<electron version>/better_sqlite3.node`. better-sqlite3 is not N-API, so the
 * Node-ABI build in node_modules (used by tests and the CLI) cannot load in Electron: without this file the
 * database would fail later with a cryptic NODE_MODULE_VERSION error.
 */
export function findSqliteBinding(appRoot: string, electronVersion: string): NativeBindingLookup {
  const path = join(appRoot, ELECTRON_NATIVE_DIR, electronVersion, 'better_sqlite3.node');
  if (existsSync(path)) return { ok: true, path };
  return {
    ok: false,
    message:
      `better-sqlite3 has not been built for Electron ${electronVersion} (looked for ${path}). ` +
      'Run "npm start" (it runs scripts/prepare-electron.mjs first) or "node scripts/prepare-electron.mjs", and read what it prints.',
  };
}
