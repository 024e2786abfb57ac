// A fresh temp folder per test, for the database, blob and studio tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temp folder removed by the returned cleanup. */
export function makeTempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'effects-studio-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
