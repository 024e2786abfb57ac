// Launches the built desktop app in Electron (where its binary is installed): sandboxed window, preload API, device check.
// Functions passed to page.evaluate run in the page, so this file is checked with the DOM types too.
/// <reference lib="dom" />
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, type ElectronApplication } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { TestApp } from '../e2e/support/test-app.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ELECTRON_DIR = join(ROOT, 'node_modules', 'electron');

/** The Electron binary, or why this machine cannot launch the app. */
function findElectron(): { path: string } | { skip: string } {
  const pathFile = join(ELECTRON_DIR, 'path.txt');
  if (!existsSync(pathFile)) {
    return { skip: 'the Electron binary is not installed (node_modules/electron/path.txt missing; run `npx install-electron`)' };
  }
  const binary = join(ELECTRON_DIR, 'dist', readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(binary)) return { skip: `the Electron binary is missing at ${binary}` };
  const version = (JSON.parse(readFileSync(join(ELECTRON_DIR, 'package.json'), 'utf8')) as { version: string }).version;
  if (!existsSync(join(ROOT, '.electron-native', version, 'better_sqlite3.node'))) {
    return { skip: `better-sqlite3 is not built for Electron ${version} (run \`node scripts/prepare-electron.mjs\`)` };
  }
  return { path: binary };
}

const found = findElectron();
const skipReason = 'skip' in found ? found.skip : null;
if (skipReason) process.stderr.write(`tests/electron: SKIPPED, ${skipReason}\n`);

describe('the desktop app', () => {
  let app: ElectronApplication | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    await app?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it.skipIf(skipReason !== null)(
    `launches sandboxed from studio://app, exposes only window.studio, runs a device check and quits cleanly${
      skipReason ? ` (skipped: ${skipReason})` : ''
    }`,
    async () => {
      if (!('path' in found)) return;
      dataDir = await mkdtemp(join(tmpdir(), 'studio-electron-'));
      app = await electron.launch({
        executablePath: found.path,
        args: [ROOT],
        cwd: ROOT,
        env: { ...process.env, EFFECTS_STUDIO_HOME: dataDir },
      });
      const page = await app.firstWindow();
      expect(page.url()).toBe('studio://app/index.html');

      const studio = await TestApp.attach(app.context(), page);
      // The renderer sees the contract and nothing of Node or Electron.
      const globals = await page.evaluate(() => ({
        studioKeys: Object.keys((window as unknown as { studio: object }).studio).sort(),
        hasRequire: 'require' in window,
        hasProcess: 'process' in window,
        isIsolated: window.crossOriginIsolated,
      }));
      expect(globals).toEqual({ studioKeys: ['invoke', 'on'], hasRequire: false, hasProcess: false, isIsolated: true });
      const info = await page.evaluate(async () => {
        const api = (window as unknown as { studio: { invoke(channel: string): Promise<unknown> } }).studio;
        return api.invoke('app:info');
      });
      expect(info).toMatchObject({ ok: true, value: { host: 'electron', dataDir } });

      // window.open is denied; a navigation away from the app is cancelled.
      expect(await page.evaluate(() => window.open('http://example.com/') === null)).toBe(true);
      await page.evaluate(() => {
        window.location.href = 'http://example.com/';
      });
      await studio.goTo('settings');
      expect(page.url()).toMatch(/^studio:\/\/app\//);

      await studio.runDeviceCheck();
      await studio.goTo('jobs');
      const row = studio.jobRows().first();
      const jobId = (await row.getAttribute('data-job-id')) ?? '';
      await studio.waitForJobStatus(jobId, 'succeeded');
      await studio.goTo('settings');
      expect(await studio.preferredProvider()).not.toBeNull();
      expect((await studio.providers()).find((provider) => provider.name === 'cpu')?.available).toBe(true);
      expect(studio.problems).toEqual([]);

      await app.close();
      app = undefined;
      // Quitting closed the studio: it released the data folder's lock.
      expect(existsSync(join(dataDir, 'studio.lock'))).toBe(false);
    },
  );
});
