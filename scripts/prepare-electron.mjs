#!/usr/bin/env node
// Run by `npm start`/`npm run dev`: builds better-sqlite3 for Electron's ABI into .electron-native/<electron version>/,
// leaving the Node-ABI build in node_modules (used by tests and the CLI) untouched. Skips when already built.
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// Same folder name as ELECTRON_NATIVE_DIR in src/main/electron/native-binding.ts, which main reads.
const NATIVE_DIR = '.electron-native';
const MODULE = 'better-sqlite3';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(root, 'package.json'));

function say(line) {
  process.stderr.write(`prepare-electron: ${line}\n`);
}

function failWith(lines) {
  for (const line of lines) say(line);
  process.exit(1);
}

function packageJson(name) {
  return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8'));
}

/** Electron's own check, without its index.js (which tries to download the binary when it is missing). */
function electronBinaryProblem(electronDir) {
  const pathFile = join(electronDir, 'path.txt');
  if (!existsSync(pathFile)) return `Electron's binary was never installed (${relative(root, pathFile)} is missing)`;
  const binary = join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(binary)) return `Electron's binary is missing (${relative(root, binary)})`;
  return null;
}

async function main() {
  const electron = packageJson('electron');
  const sqlite = packageJson(MODULE);
  const electronDir = dirname(require.resolve('electron/package.json'));
  const binaryProblem = electronBinaryProblem(electronDir);
  if (binaryProblem) {
    failWith([
      `${binaryProblem}.`,
      'Electron downloads it from GitHub when `npm install` runs its postinstall; that download failed or was skipped.',
      'Fix: run `npx install-electron` (needs network access to github.com), or delete node_modules/electron and run `npm install`.',
      'Without Electron the studio still runs in a browser: `npx effects-studio serve`.',
    ]);
  }

  const targetDir = join(root, NATIVE_DIR, electron.version);
  const target = join(targetDir, 'better_sqlite3.node');
  const stampFile = join(targetDir, 'build.json');
  const stamp = { module: MODULE, moduleVersion: sqlite.version, electron: electron.version, platform: process.platform, arch: process.arch };
  if (existsSync(target) && existsSync(stampFile)) {
    const previous = JSON.parse(await readFile(stampFile, 'utf8'));
    if (JSON.stringify(previous) === JSON.stringify(stamp)) {
      say(`${MODULE} ${sqlite.version} for Electron ${electron.version} is already built (${relative(root, target)})`);
      return;
    }
  }

  // Rebuild a copy in a scratch project: @electron/rebuild works in place, and the original must stay Node-ABI.
  const scratch = join(root, NATIVE_DIR, `build-${electron.version}`);
  await rm(scratch, { recursive: true, force: true });
  const moduleCopy = join(scratch, 'node_modules', MODULE);
  await cp(dirname(require.resolve(`${MODULE}/package.json`)), moduleCopy, {
    recursive: true,
    filter: (source) => !source.includes(`${MODULE}/build`),
  });
  await writeFile(
    join(scratch, 'package.json'),
    JSON.stringify({ name: 'electron-native-build', private: true, dependencies: { [MODULE]: sqlite.version } }, null, 2),
  );

  say(`building ${MODULE} ${sqlite.version} for Electron ${electron.version} (${process.platform}-${process.arch})...`);
  const { rebuild } = await import('@electron/rebuild');
  try {
    await rebuild({ buildPath: scratch, electronVersion: electron.version, onlyModules: [MODULE], force: true, mode: 'sequential' });
  } catch (error) {
    failWith([
      `could not build ${MODULE} for Electron ${electron.version}: ${error instanceof Error ? error.message : String(error)}`,
      `${MODULE} is not N-API, so Electron needs its own build of it. This step first tries a prebuilt binary (download from`,
      'github.com), then compiles from source, which needs Electron\'s headers (download), Python 3 and a C++ toolchain',
      '(build-essential on Debian/Ubuntu, Xcode command line tools on macOS, Visual Studio Build Tools on Windows).',
      `Fix what the message above names, then run \`npm start\` again. The scratch folder is ${relative(root, scratch)}.`,
    ]);
  }

  const built = join(moduleCopy, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(built)) {
    failWith([`the rebuild finished but produced no ${relative(root, built)}; see its output above.`]);
  }
  await mkdir(targetDir, { recursive: true });
  // Copy then rename, so that a half-written binary never sits where main looks for it.
  await cp(built, `${target}.tmp`);
  await rename(`${target}.tmp`, target);
  await writeFile(stampFile, `${JSON.stringify(stamp, null, 2)}\n`);
  await rm(scratch, { recursive: true, force: true });
  say(`built ${relative(root, target)}`);
}

main().catch((error) => {
  failWith([`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`]);
});
