// Where the studio keeps its database and blobs: --data-dir, then $EFFECTS_STUDIO_HOME, then Electron's userData, then the platform default.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Folder name under the platform's per-user application-data folder; matches Electron's userData for this app. */
export const APP_DIR_NAME = 'effects-studio';

/** Inputs to {@link resolveDataDir}; `env`, `platform` and `home` default to this process's. */
export interface DataDirOptions {
  /** An explicit `--data-dir`; wins over everything. */
  dataDir?: string | undefined;
  /** Electron's `app.getPath('userData')`, passed in by the shell. */
  electronUserData?: string | undefined;
  /** Environment to read `EFFECTS_STUDIO_HOME`, `XDG_CONFIG_HOME` and `APPDATA` from. */
  env?: Record<string, string | undefined>;
  /** Platform whose default folder applies. */
  platform?: NodeJS.Platform;
  /** The user's home folder. */
  home?: string;
}

/** Resolves the data folder to an absolute path; does not create it. */
export function resolveDataDir(opts: DataDirOptions = {}): string {
  const env = opts.env ?? process.env;
  if (opts.dataDir) return resolve(opts.dataDir);
  const fromEnv = env['EFFECTS_STUDIO_HOME'];
  if (fromEnv) return resolve(fromEnv);
  if (opts.electronUserData) return resolve(opts.electronUserData);
  return platformDefault(opts.platform ?? process.platform, opts.home ?? homedir(), env);
}

// The same folders Electron's userData uses, so the CLI and the app find the same data.
function platformDefault(platform: NodeJS.Platform, home: string, env: Record<string, string | undefined>): string {
  if (platform === 'win32') return join(env['APPDATA'] || join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_DIR_NAME);
  return join(env['XDG_CONFIG_HOME'] || join(home, '.config'), APP_DIR_NAME);
}

/** Name of the SQLite file inside the data folder. */
export const DATABASE_FILE_NAME = 'studio.db';

/** The database file and the blob folder of a data folder; the studio and its job workers open the same ones. */
export function dataDirPaths(dataDir: string): { database: string; blobs: string } {
  return { database: join(dataDir, DATABASE_FILE_NAME), blobs: join(dataDir, 'blobs') };
}
