// What every headless command shares: opening the studio for one command, JSON output, progress lines, option parsers.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import type { Studio } from '../services/studio.ts';

/** The package's version (the studio records it in what it writes). */
export const STUDIO_VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The `--data-dir` option every command that touches stored data takes. */
export const DATA_DIR_OPTION = ['--data-dir <dir>', 'data folder (default: $EFFECTS_STUDIO_HOME or the platform default)'] as const;

/** Prints a value as indented JSON on stdout (every command's result). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints one progress line on stderr, so stdout stays the JSON result. */
export function printProgress(step: number, total: number, message: string): void {
  process.stderr.write(`[${step}/${total}] ${message}\n`);
}

/** Opens the studio on the data folder for one command and closes it after, whatever happens. */
export async function withStudio<T>(dataDir: string | undefined, fn: (studio: Studio) => Promise<T>): Promise<T> {
  const { resolveDataDir } = await import('../core/data-dir.ts');
  const { Studio } = await import('../services/studio.ts');
  const studio = await Studio.open({ dataDir: resolveDataDir({ dataDir }), host: 'browser', version: STUDIO_VERSION });
  try {
    return await fn(studio);
  } finally {
    await studio.close();
  }
}

/** An option parser for whole numbers from `min` to `max`. */
export function intIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

/** An option parser for numbers in [min, max]; `what` names the value in the error. */
export function numberIn(min: number, max: number, what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${what} must be a number in [${min}, ${max}], got "${value}"`);
    return n;
  };
}
