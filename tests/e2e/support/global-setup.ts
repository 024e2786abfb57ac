// Refuses to start the end-to-end tests against a missing build, with the command that makes one.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Vitest global setup: the e2e tests drive the built renderer and main, so both must exist. */
export default function setup(): void {
  const required = ['out/renderer/index.html', 'out/main/index.js', 'out/preload/index.cjs'];
  const missing = required.filter((path) => !existsSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url))));
  if (missing.length > 0) {
    throw new Error(`The end-to-end tests need a build; ${missing.join(', ')} missing. Run "npm run build" first.`);
  }
}
