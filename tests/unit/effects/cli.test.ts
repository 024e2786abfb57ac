// `effects-studio clip import | list`, `relevance`, `edit preview` and `pairs`, run as the real command (bin/effects-studio.js).
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { byteLevelVocabulary, writeTinyClip } from '../../../src/main/engine/clip/index.ts';
import { makeTempDir } from '../core/temp-dir.ts';
import { runCli, type CliResult } from '../support/cli.ts';

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

function cli(args: readonly string[]): Promise<CliResult> {
  return runCli(args, { cwd: tmp.dir, home: join(tmp.dir, 'home') });
}

describe('effects-studio clip, relevance, edit preview and pairs', () => {
  it('imports a CLIP folder, measures relevance, writes a preview grid and a pairs dataset; refuses edits before relevance and bad values', async () => {
    await writeTinyClip(join(tmp.dir, 'clip'), byteLevelVocabulary());
    expect((await cli(['teacher', 'make-tiny', '--out', 'tiny.safetensors'])).code).toBe(0);
    expect((await cli(['teacher', 'import', 'tiny.safetensors', '--name', 'Tiny'])).code).toBe(0);

    const imported = await cli(['clip', 'import', 'clip', '--name', 'Tiny CLIP']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ name: 'Tiny CLIP', dim: 32, layout: 'towers', sourceDir: join(tmp.dir, 'clip') });
    const listed = await cli(['clip', 'list']);
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((c) => c.name)).toEqual(['Tiny CLIP']);

    const preview = ['edit', 'preview', '--teacher', 'Tiny', '--target', 'a face with a white beard', '--beta', '0', '--seeds', '1,2,3', '--alpha', '-4,4', '--out', 'grid.png'];
    const early = await cli(preview);
    expect(early.code).not.toBe(0);
    expect(early.stderr).toContain('teacher "Tiny" has no channel relevance under any CLIP model yet; run `relevance` first');

    const badAlpha = await cli([...preview, '--alpha', '12']);
    expect(badAlpha.code).not.toBe(0);
    expect(badAlpha.stderr).toContain('α must be a number in [-10, 10], got "12"');

    const relevance = await cli(['relevance', '--teacher', 'Tiny', '--images', '2', '--stats', '64']);
    expect(relevance.code, relevance.stderr).toBe(0);
    expect(JSON.parse(relevance.stdout)).toMatchObject({ images: 2, channels: 208, dim: 32, provider: 'cpu' });
    expect(relevance.stderr).toContain('Channel directions: 208 of 208 channels');

    const previewed = await cli(preview);
    expect(previewed.code, previewed.stderr).toBe(0);
    const shown = JSON.parse(previewed.stdout) as { prompt: { id: number; alpha: number }; touched: number; alphas: number[] };
    expect(shown).toMatchObject({ touched: 208, alphas: [-4, 4], prompt: { target: 'a face with a white beard', alpha: -4, beta: 0 } });
    // Three rows (seeds) of original | α −4 | α 4, 32-pixel cells with 4-pixel gaps.
    expect(await sharp(join(tmp.dir, 'grid.png')).metadata()).toMatchObject({ width: 4 + 3 * 36, height: 4 + 3 * 36 });

    const pairs = ['pairs', '--prompt', String(shown.prompt.id), '--count', '3', '--dataset', 'Beards'];
    const made = await cli(pairs);
    expect(made.code, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ datasetName: 'Beards', count: 3, touched: 208 });
    const again = await cli(pairs);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('Beards');
  });
});
