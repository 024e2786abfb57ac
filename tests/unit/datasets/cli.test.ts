// The dataset commands as a user runs them: import a folder, read its stats as JSON, export the accepted items.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatasetStats, ImportReport } from '../../../src/shared/datasets/types.ts';
import { makeTempDir } from '../core/temp-dir.ts';
import { noiseImage } from './helpers.ts';

const CLI = fileURLToPath(new URL('../../../bin/effects-studio.js', import.meta.url));
const ASTRONAUT = fileURLToPath(new URL('../../fixtures/faces/astronaut.png', import.meta.url));
const run = promisify(execFile);

let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  temp = makeTempDir();
});
afterEach(() => temp.cleanup());

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args, '--data-dir', join(temp.dir, 'data')], { maxBuffer: 1 << 24 });
  return stdout;
}

describe('effects-studio dataset', () => {
  it('imports a folder into a new dataset, reports stats as JSON, and exports what was accepted', async () => {
    const src = join(temp.dir, 'in');
    mkdirSync(src);
    copyFileSync(ASTRONAUT, join(src, 'astronaut.png'));
    writeFileSync(join(src, 'noise.jpg'), await noiseImage(80, 60, 'jpeg'));
    writeFileSync(join(src, 'empty.jpg'), Buffer.alloc(0));

    const report = JSON.parse(await cli('dataset', 'import', src, '--name', 'cli photos', '--json')) as ImportReport;
    expect(report.counts).toEqual({ total: 3, imported: 2, duplicate: 0, error: 1, skipped: 0, withFace: 1 });
    expect(report.problems).toEqual([expect.objectContaining({ path: join(src, 'empty.jpg'), reason: 'empty file (0 bytes)' })]);

    const again = JSON.parse(await cli('dataset', 'import', src, '--name', 'cli photos', '--no-faces', '--json')) as ImportReport;
    expect(again.counts).toMatchObject({ imported: 0, duplicate: 2, error: 1 });

    const stats = JSON.parse(await cli('dataset', 'stats', 'cli photos', '--json')) as DatasetStats;
    expect(stats).toMatchObject({ name: 'cli photos', kind: 'photos', total: 2, faces: { found: 1, notFound: 1 } });
    expect(await cli('dataset', 'list')).toMatch(/photos\s+2 items\s+cli photos/);

    const out = join(temp.dir, 'out');
    expect(await cli('dataset', 'export', 'cli photos', '--out', out, '--all')).toMatch(/exported 2 item/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { items: { image: string; imageSha: string }[] };
    expect(manifest.items.map((i) => i.image).sort()).toEqual(readdirSync(out).filter((f) => f !== 'manifest.json').sort());
    expect(readFileSync(join(out, manifest.items.find((i) => i.image.endsWith('.png'))!.image)).equals(readFileSync(ASTRONAUT))).toBe(true);

    await expect(cli('dataset', 'stats', 'nope', '--json')).rejects.toThrow(/no dataset named "nope"/);
  });
});
