// The exports requests through the studio and its product job worker: open (verify) a package, export one, list it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportInfo, ExportPackageParams, PackageSummary } from '../../../src/shared/export/types.ts';
import type { JobInfo } from '../../../src/shared/contract.ts';
import { MIGRATIONS } from '../../../src/main/core/db/migrations/index.ts';
import { Studio } from '../../../src/main/services/studio.ts';
import { writePackage } from '../../../src/main/export/writer.ts';
import { buildTinyStudent, makePhoto, makeSource, tempDir } from './helpers.ts';

const tmp = tempDir();
const IS_006_REGISTERED = MIGRATIONS.some((m) => m.name === 'exports');
let studio: Studio;
let pkg: string;

beforeAll(async () => {
  studio = await Studio.open({ dataDir: join(tmp.dir, 'data'), host: 'browser', version: '0.0.0-test' });
  pkg = join(tmp.dir, 'tiny.fxpkg');
  await writePackage(await makeSource(buildTinyStudent()), { out: pkg, fp16: true, studioVersion: '0.1.0' });
  writeFileSync(join(tmp.dir, 'student.onnx'), buildTinyStudent());
  writeFileSync(join(tmp.dir, 'face.png'), await makePhoto(40, 40));
});
afterAll(async () => {
  await studio.close();
  tmp.cleanup();
});

const params = (extra: Partial<ExportPackageParams> = {}): ExportPackageParams => ({
  source: { kind: 'model', modelPath: join(tmp.dir, 'student.onnx'), previewPaths: [join(tmp.dir, 'face.png')] },
  name: 'Smile',
  description: 'made by the service test',
  out: join(tmp.dir, 'smile.fxpkg'),
  fp16: true,
  colorOrder: 'RGB',
  valueRange: [-1, 1],
  ...extra,
});

describe('exports requests', () => {
  it('opens a package: verified in a worker, answered with its checks and manifest summary', async () => {
    const opened = await studio.handle('exports:open', [pkg]);
    expect(opened.ok).toBe(true);
    const summary = (opened as { value: PackageSummary }).value;
    expect(summary.ok).toBe(true);
    expect(summary.checks.every((c) => c.ok)).toBe(true);
    expect(summary.manifest).toMatchObject({
      name: 'Tiny test effect',
      input: { name: 'image', shape: [1, 3, 32, 32] },
      previews: 2,
      prompt: { target: 'a smiling face', alpha: 4.1 },
      source: 'model',
    });
    expect(summary.manifest!.variants.map((v) => v.precision)).toEqual(['fp32', 'fp16']);
  });

  it('answers a refused package as a report, and bad paths as clear errors', async () => {
    const bad = join(tmp.dir, 'bad.fxpkg');
    writeFileSync(bad, 'not a zip');
    const refused = await studio.handle('exports:open', [bad]);
    expect(refused).toMatchObject({ ok: true, value: { ok: false, manifest: null, checks: [{ name: 'archive', ok: false }] } });
    expect(await studio.handle('exports:open', ['relative.fxpkg'])).toEqual({
      ok: false,
      error: { code: 'invalid-request', message: 'exports:open: the package path must be absolute, got "relative.fxpkg"' },
    });
    expect(await studio.handle('exports:open', [join(tmp.dir, 'none.fxpkg')])).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await studio.handle('exports:create', [params({ out: join(tmp.dir, 'nope', 'x.fxpkg') })])).toMatchObject({
      ok: false,
      error: { code: 'not-found', message: expect.stringMatching(/folder .*nope does not exist/) },
    });
    expect(await studio.handle('exports:create', [params({ out: join(tmp.dir, 'x.zip') })])).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await studio.handle('exports:create', [params({ valueRange: [1, 1] })])).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await studio.handle('exports:create', [{ ...params(), fp16: 'yes' }])).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });

  it.runIf(IS_006_REGISTERED)('exports with progress in a job and lists the export', async () => {
    const finished = new Promise<JobInfo>((resolve) =>
      studio.onEvent((_, job) => {
        if (job.kind === 'export-package' && job.status !== 'queued' && job.status !== 'running') resolve(job);
      }),
    );
    expect((await studio.handle('exports:create', [params()])).ok).toBe(true);
    const job = await finished;
    expect(job.error).toBeNull();
    const info = job.result as ExportInfo;
    expect(info).toMatchObject({ name: 'Smile', variants: ['fp32', 'fp16'], provider: 'cpu' });
    expect(info.medianMs).toBeGreaterThan(0);
    expect(await studio.handle('exports:list', [])).toEqual({ ok: true, value: [info] });
  });
});
