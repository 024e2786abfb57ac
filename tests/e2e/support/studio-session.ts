// One e2e file's setup: a fresh data folder, `effects-studio serve` on it and Chromium, started before its tests and stopped after.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium } from './browser.ts';
import { serveStudio, type ServedStudio } from './serve.ts';

/** Where the e2e tests write their screenshots. */
export const SCREENSHOTS = join(process.cwd(), 'test-results', 'e2e');

/** What a test file shares; set before its first test. `studio` may be replaced (a test that restarts the server). */
export interface StudioSession {
  dataDir: string;
  studio: ServedStudio;
  browser: Browser;
}

/**
 * Registers the file's `beforeAll` and `afterAll`: a data folder named after `name` (which `prepare` may fill before
 * the studio opens it), the served studio and Chromium; afterwards the browser and the studio stop and the folder is
 * removed.
 */
export function useStudioSession(name: string, options: { prepare?: (dataDir: string) => Promise<void> } = {}): StudioSession {
  const session = {} as StudioSession;
  beforeAll(async () => {
    session.dataDir = await mkdtemp(join(tmpdir(), `studio-e2e-${name}-`));
    await mkdir(SCREENSHOTS, { recursive: true });
    await options.prepare?.(session.dataDir);
    [session.studio, session.browser] = await Promise.all([serveStudio(session.dataDir), launchChromium()]);
  });
  afterAll(async () => {
    await session.browser?.close();
    await session.studio?.stop();
    if (session.dataDir) await rm(session.dataDir, { recursive: true, force: true });
  });
  return session;
}
