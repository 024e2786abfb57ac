// End to end in Chromium: open a package on the Export page (verified in a job worker), a refused one, and export one.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/main/core/db/migrations/index.ts';
import { writePackage } from '../../src/main/export/writer.ts';
import { buildTinyStudent, makePhoto, makeSource } from '../unit/export/helpers.ts';
import { makeTrainedRun, PROMPT } from '../unit/export/run-fixture.ts';
import { SCREENSHOTS, useStudioSession } from './support/studio-session.ts';
import { TestApp } from './support/test-app.ts';

const IS_006_REGISTERED = MIGRATIONS.some((m) => m.name === 'exports');

let work: string;

const e2e = useStudioSession('export', {
  prepare: async (dataDir) => {
    work = await mkdtemp(join(tmpdir(), 'studio-e2e-export-files-'));
    await writePackage(await makeSource(buildTinyStudent()), { out: join(work, 'tiny.fxpkg'), fp16: true, studioVersion: '0.1.0' });
    await writeFile(join(work, 'broken.fxpkg'), 'not a zip');
    await writeFile(join(work, 'student.onnx'), buildTinyStudent());
    await writeFile(join(work, 'face.png'), await makePhoto(48, 48));
    // A trained run in the studio's data folder before it starts: 6 steps, checkpoints at steps 3 and 6.
    (await makeTrainedRun(dataDir)).db.close();
  },
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the Export page', () => {
  it('opens a package: every check passes and the manifest is shown', async () => {
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    const report = await app.openPackage(join(work, 'tiny.fxpkg'));
    expect(await report.getAttribute('data-ok')).toBe('true');
    const checks = report.getByTestId('package-check');
    expect(await checks.count()).toBe(10);
    expect(await report.locator('[data-testid="package-check"][data-ok="false"]').count()).toBe(0);
    expect(await report.getByTestId('package-manifest').innerText()).toContain('Tiny test effect');
    await app.screenshot(join(SCREENSHOTS, 'export-open.png'));

    const refused = await app.openPackage(join(work, 'broken.fxpkg'));
    expect(await refused.getAttribute('data-ok')).toBe('false');
    expect(await refused.getByTestId('package-check').first().innerText()).toMatch(/FAIL\s+archive\s+not a readable zip archive/);
    expect(app.problems).toEqual([]);
    await app.close();
  });

  it.runIf(IS_006_REGISTERED)('exports a model with progress and lists it under past exports', async () => {
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    const view = await app.goTo('export');
    await view.getByTestId('export-source-model').check();
    await view.getByTestId('export-model').fill(join(work, 'student.onnx'));
    await view.getByTestId('export-name').fill('Smile');
    await view.getByTestId('export-previews').fill(join(work, 'face.png'));
    await view.getByTestId('export-out').fill(join(work, 'smile.fxpkg'));
    const done = app.nextJobEvent((job) => job.kind === 'export-package' && job.status === 'succeeded');
    await view.getByTestId('export-start').click();
    await done;
    expect(await view.getByTestId('export-result').innerText()).toContain(join(work, 'smile.fxpkg'));
    await view.getByTestId('export-row').first().waitFor();
    expect(await view.getByTestId('export-row').first().innerText()).toContain('Smile');
    await app.screenshot(join(SCREENSHOTS, 'export-done.png'));
    await app.close();
  });

  it.runIf(IS_006_REGISTERED)('exports a training run: pick its checkpoint, see size and speed, export, open the package', async () => {
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    const view = await app.goTo('export');
    expect(await view.getByTestId('export-source-run').isChecked()).toBe(true);
    await view.locator('[data-testid="export-checkpoint"]:not([disabled])').waitFor();
    expect(await view.getByTestId('export-run').innerText()).toMatch(/Run 1 · 64×64 · step 6/);
    await view.getByTestId('export-checkpoint').selectOption('3');

    const measured = app.nextJobEvent((job) => job.kind === 'export-estimate' && job.status === 'succeeded');
    await view.getByTestId('export-measure').click();
    await measured;
    const estimate = await view.getByTestId('export-estimate-result').innerText();
    await view.getByTestId('export-form').screenshot({ path: join(SCREENSHOTS, 'export-run-form.png') });
    expect(estimate).toMatch(/model\.onnx [\d.]+ KB · model\.fp16\.onnx [\d.]+ KB · [\d,]+ parameters · [\d.]+ GMAC · [\d.]+ ms per frame on cpu \(measured here, step 3\)/);

    await view.getByTestId('export-name').fill('White beard');
    await view.getByTestId('export-out').fill(join(work, 'beard.fxpkg'));
    const done = app.nextJobEvent((job) => job.kind === 'export-package' && job.status === 'succeeded');
    await view.getByTestId('export-start').click();
    await done;
    expect(await view.getByTestId('export-result').innerText()).toContain(join(work, 'beard.fxpkg'));
    const row = view.getByTestId('export-row').filter({ hasText: 'White beard' });
    await row.waitFor();
    expect(await row.innerText()).toContain('Run 1');

    const report = await app.openPackage(join(work, 'beard.fxpkg'));
    expect(await report.getAttribute('data-ok')).toBe('true');
    const manifest = await report.getByTestId('package-manifest').innerText();
    expect(manifest).toContain(`“${PROMPT.target}” from “${PROMPT.neutral}”, α ${PROMPT.alpha}, β ${PROMPT.beta}`);
    expect(manifest).toContain('from a training run');
    expect(await report.getByTestId('package-dataset').innerText()).toMatch(/^white beard pairs · 12 pairs \(\d+ train, \d+ validation\)/);
    expect(await report.getByTestId('package-metrics').innerText()).toMatch(/psnr [\d.]+ dB/);
    await app.screenshot(join(SCREENSHOTS, 'export-run.png'));

    // Export → Open → Use in Live: the Live page runs the opened package's model.
    await view.getByTestId('export-use-in-live').click();
    const live = app.page.getByTestId('page-live');
    // The Live page starts onnxruntime-web and fetches the model in parts first: slow on a busy two-core machine.
    await live.getByTestId('live-student').waitFor({ timeout: 60_000 });
    expect(await live.getByTestId('live-student').innerText()).toBe('Running White beard (64×64)');
    expect(app.problems).toEqual([]);
    await app.close();
  });
});
