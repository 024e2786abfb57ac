// Launches Debian's Chromium headless through playwright-core, with a fresh profile per launch.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where the e2e tests expect Chromium (Debian's package); never a Playwright download. */
export const CHROMIUM_PATH = process.env['STUDIO_E2E_CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * Launches Chromium headless; each `browser.newContext()` is a fresh, empty profile (no cookies). `extraArgs` adds
 * switches for one test file (e.g. a fake camera playing a video file).
 */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium, or set STUDIO_E2E_CHROMIUM)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...extraArgs,
    ],
  });
}
