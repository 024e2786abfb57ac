// Finds and spawns the job worker entry: the .ts source under tsx (tests, CLI from source) or electron-vite's bundled out/main/job-worker.js.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** URL of the product job worker next to this module: source or bundle. */
export function defaultJobWorkerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL('../worker/job-worker.ts', here);
  // In the bundle this code sits in out/main/index.js, or in a shared chunk one folder below it.
  const candidates = [new URL('./job-worker.js', here), new URL('../job-worker.js', here)];
  const found = candidates.find((url) => existsSync(fileURLToPath(url)));
  if (!found) throw new Error(`The job worker bundle is missing; looked for ${candidates.map((u) => fileURLToPath(u)).join(' and ')}`);
  return found;
}

/** Starts a worker thread on a job worker entry; a `.ts` entry is loaded through tsx. */
export function spawnJobWorker(url: URL, name: string): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { name });
  // `execArgv: ['--import', 'tsx']` does not reach a worker's own entry on Node 20, so register tsx inside the worker first.
  const boot = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true, name });
}

let cachedTsxApiUrl: string | undefined;

// tsx's ESM register API (its CJS build cannot register ESM hooks), found through tsx's own exports map.
function tsxApiUrl(): string {
  if (cachedTsxApiUrl) return cachedTsxApiUrl;
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const entry = pkg.exports['./esm/api']?.import.default;
  if (!entry) throw new Error(`tsx at ${dirname(pkgPath)} has no ./esm/api export`);
  cachedTsxApiUrl = pathToFileURL(join(dirname(pkgPath), entry)).href;
  return cachedTsxApiUrl;
}
