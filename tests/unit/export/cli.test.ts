// `effects-studio export --model … --fp16` then `effects-studio verify`, run as the real command (bin/effects-studio.js).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTinyStudent, makePhoto, tempDir } from './helpers.ts';
import { runCli, type CliResult } from '../support/cli.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function cli(args: readonly string[]): Promise<CliResult> {
  return runCli(args, { cwd: tmp.dir, home: join(tmp.dir, 'home') });
}

describe('effects-studio export / verify', () => {
  it('exports a plain model with an fp16 variant, verifies it, and rejects a tampered copy', async () => {
    writeFileSync(join(tmp.dir, 'student.onnx'), buildTinyStudent());
    writeFileSync(join(tmp.dir, 'face.png'), await makePhoto(64, 64));
    const exported = await cli(['export', '--model', 'student.onnx', '--preview', 'face.png', '--out', 'effect.fxpkg', '--fp16', '--name', 'Smile', '--json']);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const summary = JSON.parse(exported.stdout) as { sha256: string; variants: { precision: string }[] };
    expect(summary.variants.map((v) => v.precision)).toEqual(['fp32', 'fp16']);

    const verified = await cli(['verify', 'effect.fxpkg']);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^ok {3}model\.fp16\.onnx \(fp16\) previews: 1 preview\(s\) reproduced/m);
    expect(verified.stdout).toContain(`verified: ${join(tmp.dir, 'effect.fxpkg')} (sha256 ${summary.sha256})`);

    const bytes = readFileSync(join(tmp.dir, 'effect.fxpkg'));
    writeFileSync(join(tmp.dir, 'truncated.fxpkg'), bytes.subarray(0, bytes.length - 30));
    const rejected = await cli(['verify', 'truncated.fxpkg', '--json']);
    expect(rejected.code).toBe(1);
    const report = JSON.parse(rejected.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(report.ok).toBe(false);
    expect(report.checks).toEqual([expect.objectContaining({ name: 'archive', ok: false })]);
  });

  it('says what is missing instead of exporting', async () => {
    const noPreview = await cli(['export', '--model', 'student.onnx', '--out', 'x.fxpkg']);
    expect(noPreview.code).toBe(1);
    expect(noPreview.stderr).toMatch(/--model needs at least one --preview <image>/);
    const both = await cli(['export', '--out', 'x.fxpkg']);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/give exactly one of --run <id> or --model <file>/);
    const badRange = await cli(['export', '--model', 'student.onnx', '--out', 'x.fxpkg', '--value-range', '1,-1']);
    expect(badRange.code).toBe(1);
    expect(badRange.stderr).toMatch(/value range must be "low,high" with low < high/);
  });
});
