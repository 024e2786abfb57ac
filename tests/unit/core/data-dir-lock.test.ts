// Data folder lock: one studio per folder; a lock left by a dead process is taken over.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, LOCK_FILE_NAME, acquireDataDirLock } from '../../../src/main/core/data-dir-lock.ts';
import { makeTempDir } from './temp-dir.ts';

let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  temp = makeTempDir();
});
afterEach(() => temp.cleanup());

describe('acquireDataDirLock', () => {
  it('refuses a second holder until the first releases', () => {
    const lock = acquireDataDirLock(temp.dir);
    expect(() => acquireDataDirLock(temp.dir)).toThrow(DataDirLockedError);
    expect(() => acquireDataDirLock(temp.dir)).toThrow(new RegExp(`in use by another Effects Studio \\(process ${process.pid}\\)`));
    lock.release();
    expect(existsSync(join(temp.dir, LOCK_FILE_NAME))).toBe(false);
    acquireDataDirLock(temp.dir).release();
  });

  it('refuses a folder held by another live process', () => {
    writeFileSync(join(temp.dir, LOCK_FILE_NAME), JSON.stringify({ pid: process.ppid }));
    expect(() => acquireDataDirLock(temp.dir)).toThrow(DataDirLockedError);
  });

  it('takes over a lock left by a process that has exited, or a damaged lock file', () => {
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(temp.dir, LOCK_FILE_NAME), JSON.stringify({ pid: deadPid }));
    acquireDataDirLock(temp.dir).release();
    writeFileSync(join(temp.dir, LOCK_FILE_NAME), '{"pid":');
    acquireDataDirLock(temp.dir).release();
  });
});
