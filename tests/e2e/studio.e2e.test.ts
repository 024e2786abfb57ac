// End to end in Chromium against `effects-studio serve`: open the studio, run the device check, follow it in Jobs, read the result.
// Functions passed to page.evaluate run in the page, so this file is checked with the DOM types too.
/// <reference lib="dom" />
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAGE_IDS } from '../../src/renderer/src/lib/pages.ts';
import { SCREENSHOTS, useStudioSession } from './support/studio-session.ts';
import { TestApp } from './support/test-app.ts';

const e2e = useStudioSession('studio');

describe('the studio in a browser', () => {
  it('opens on the pipeline, with every section reachable', async () => {
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    await app.page.getByTestId('page-teacher').waitFor();
    // COOP + COEP from the host make the page cross-origin isolated (needed later for WASM threads).
    expect(await app.page.evaluate(() => window.crossOriginIsolated)).toBe(true);
    await app.screenshot(join(SCREENSHOTS, 'teacher.png'));
    for (const section of PAGE_IDS) await app.goTo(section);
    const jobs = await app.goTo('jobs');
    await jobs.getByTestId('jobs-empty').waitFor();
    const settings = await app.goTo('settings');
    expect(await settings.getByTestId('about-data-dir').innerText()).toBe(e2e.dataDir);
    expect(await settings.getByTestId('about-host').innerText()).toContain('Browser');
    await settings.getByTestId('no-device-report').waitFor();
    await app.screenshot(join(SCREENSHOTS, 'settings-before-check.png'));
    expect(app.problems).toEqual([]);
    await app.close();
  });

  it('runs the device check from Settings, shows its progress in Jobs and the providers it found', async () => {
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    await app.runDeviceCheck();
    await app.goTo('jobs');
    const row = app.jobRows().first();
    await row.waitFor();
    expect(await row.getAttribute('data-kind')).toBe('device-check');
    const jobId = (await row.getAttribute('data-job-id')) ?? '';

    const done = await app.waitForJobStatus(jobId, 'succeeded');
    expect(await done.getByTestId('job-status').innerText()).toBe('Succeeded');
    expect(await done.getByTestId('job-summary').innerText()).toMatch(/Preferred provider: CPU/);
    await app.screenshot(join(SCREENSHOTS, 'jobs-after-check.png'));

    // The job went through running with partial progress before it succeeded, and the page showed it.
    const events = app.jobEvents.filter((job) => job.id === jobId);
    expect(events.some((job) => job.status === 'running')).toBe(true);
    expect(events.some((job) => job.progress.total > 0 && job.progress.step < job.progress.total)).toBe(true);
    expect(events.at(-1)?.status).toBe('succeeded');
    const rendered = (await app.renderedJobStates()).filter((state) => state.jobId === jobId);
    expect(rendered.some((state) => state.status === 'running' || (state.step !== null && state.step < (state.total ?? 0)))).toBe(true);

    await app.goTo('settings');
    expect(await app.preferredProvider()).toBe('cpu');
    const providers = await app.providers();
    const cpu = providers.find((provider) => provider.name === 'cpu');
    const webgpu = providers.find((provider) => provider.name === 'webgpu');
    expect(cpu).toMatchObject({ available: true, reason: '' });
    expect(cpu?.ms).toMatch(/ms$/);
    // No GPU adapter on the build machines: WebGPU is listed as unavailable, with the reason.
    expect(webgpu?.available).toBe(false);
    expect(webgpu?.reason.length).toBeGreaterThan(0);
    expect(webgpu?.ms).toBe('—');
    await app.screenshot(join(SCREENSHOTS, 'settings-after-check.png'));
    expect(app.problems).toEqual([]);
    await app.close();
  });

  it('shows the stored report and the job history to a page opened later', async () => {
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    await app.goTo('settings');
    expect(await app.preferredProvider()).toBe('cpu');
    expect((await app.providers()).find((provider) => provider.name === 'cpu')?.available).toBe(true);
    await app.goTo('jobs');
    expect(await app.jobRows().count()).toBeGreaterThanOrEqual(1);
    expect(app.problems).toEqual([]);
    await app.close();
  });
});
