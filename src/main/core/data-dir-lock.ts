// One studio per data folder: a lock file with the owner's pid, so a second studio (app + `serve`) cannot mark the first one's jobs interrupted.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Name of the lock file inside the data folder. */
export const LOCK_FILE_NAME = 'studio.lock';

/** Another running studio holds the data folder. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `The data folder ${dataDir} is in use by another Effects Studio (process ${pid}). Close it, or use another ` +
        `--data-dir. If no studio is running, delete ${join(dataDir, LOCK_FILE_NAME)}.`,
    );
  }
}

/** A held lock; `release` is idempotent. */
export interface DataDirLock {
  release(): void;
}

// Folders locked by this process: its own pid in a lock file is then a live holder, not a stale leftover.
const heldHere = new Set<string>();

/** Takes the data folder's lock, replacing a lock left by a process that no longer runs. */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE_NAME);
  const content = JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() });
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, content, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const holder = readHolder(path);
    if (holder !== null && (heldHere.has(path) || (holder !== process.pid && isAlive(holder)))) {
      throw new DataDirLockedError(dataDir, holder);
    }
    unlinkSync(path);
  }
  heldHere.add(path);
  let isHeld = true;
  return {
    release() {
      if (!isHeld) return;
      isHeld = false;
      heldHere.delete(path);
      try {
        unlinkSync(path);
      } catch {
        // Already gone (the folder was deleted): nothing left to release.
      }
    },
  };
}

function readHolder(path: string): number | null {
  try {
    const pid = (JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    // Unreadable or half-written by a crash: treat as stale.
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
