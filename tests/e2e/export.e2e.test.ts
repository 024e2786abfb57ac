// End to end in Chromium: open a package on the Export page (verified in a job worker), a refused one, and export one.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/main/core/db/migrations/index.ts';
import { writePackage } from '../../src/main/export/writer.ts';
import { buildTinyStudent, makePhoto, makeSource } from '../unit/export/helpers.ts';
import { launchChromium } from './support/browser.ts';
import { serveStudio, type ServedStudio } from './support/serve.ts';
import { TestApp } from './support/test-app.ts';

const SCREENSHOTS = join(process.cwd(), 'test-results', 'e2e');
const IS_006_REGISTERED = MIGRATIONS.some((m) => m.name === 'exports');

let dataDir: string;
let work: string;
let studio: ServedStudio;
let browser: Browser;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'studio-e2e-export-'));
  work = await mkdtemp(join(tmpdir(), 'studio-e2e-export-files-'));
  await mkdir(SCREENSHOTS, { recursive: true });
  await writePackage(await makeSource(buildTinyStudent()), { out: join(work, 'tiny.fxpkg'), fp16: true, studioVersion: '0.1.0' });
  await writeFile(join(work, 'broken.fxpkg'), 'not a zip');
  await writeFile(join(work, 'student.onnx'), buildTinyStudent());
  await writeFile(join(work, 'face.png'), await makePhoto(48, 48));
  [studio, browser] = await Promise.all([serveStudio(dataDir), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await studio?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe('the Export page', () => {
  it('opens a package: every check passes and the manifest is shown', async () => {
    const app = await TestApp.open(browser, studio.url);
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
    const app = await TestApp.open(browser, studio.url);
    const view = await app.goTo('export');
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
});
