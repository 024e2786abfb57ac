// End to end in Chromium against `effects-studio serve`: cancelling a waiting job, and a job cut short by a crash, then resumed.
// Functions passed to page.evaluate run in the page, so this file is checked with the DOM types too.
/// <reference lib="dom" />
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveStudio } from './support/serve.ts';
import { SCREENSHOTS, useStudioSession } from './support/studio-session.ts';
import { TestApp } from './support/test-app.ts';

const e2e = useStudioSession('jobs');

describe('jobs across cancel and crash', () => {
  it('cancels a waiting job from the Jobs panel while the one before it finishes', async () => {
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    // Two checks at once (the Settings button allows one): one worker runs the first, the second waits in the queue.
    const ids = await app.page.evaluate(async (token) => {
      const socket = new WebSocket(`ws://${location.host}/ws`);
      await new Promise((resolve) => (socket.onopen = resolve));
      const answers = new Map<number, (value: string) => void>();
      socket.onmessage = (event) => {
        const message = JSON.parse(String(event.data)) as { type: string; id: number; result: { value: { id: string } } };
        if (message.type === 'result') answers.get(message.id)?.(message.result.value.id);
      };
      const start = (id: number): Promise<string> =>
        new Promise((resolve) => {
          answers.set(id, resolve);
          socket.send(JSON.stringify({ type: 'invoke', id, token, channel: 'jobs:start', params: [{ kind: 'device-check', params: {} }] }));
        });
      return [await start(1), await start(2)];
    }, e2e.studio.token);
    const [first = '', second = ''] = ids;
    await app.goTo('jobs');
    await app.jobRow(second).getByTestId('job-cancel').click();
    const cancelled = await app.waitForJobStatus(second, 'cancelled');
    expect(await cancelled.getByTestId('job-status').innerText()).toBe('Cancelled');
    expect(await cancelled.getByTestId('job-cancel').count()).toBe(0);
    await app.waitForJobStatus(first, 'succeeded');
    expect(app.problems).toEqual([]);
    await app.close();
  });

  it('marks a job cut short by a crash as interrupted, and resumes it from the Jobs panel', async () => {
    const before = await TestApp.open(e2e.browser, e2e.studio.url);
    const known = new Set(before.jobEvents.map((job) => job.id));
    const started = before.nextJobEvent((job) => job.kind === 'device-check' && !known.has(job.id));
    await before.runDeviceCheck();
    const job = await started;
    // The worker needs far longer to load ONNX Runtime than this kill takes, so the job is cut short mid-flight.
    await e2e.studio.kill();
    const banner = before.page.getByTestId('connection-banner');
    await banner.and(before.page.locator('[data-status="reconnecting"]')).waitFor();
    expect(await banner.innerText()).toMatch(/Connection lost/);
    // A click while the studio is away fails visibly instead of hanging.
    await before.goTo('jobs');
    await before.jobRow(job.id).getByTestId('job-cancel').click();
    const error = before.jobRow(job.id).getByTestId('request-error');
    await error.waitFor();
    expect(await error.innerText()).toMatch(/Could not change this job:\s+not connected to the studio/);
    await before.screenshot(join(SCREENSHOTS, 'connection-lost.png'));
    await before.close();

    e2e.studio = await serveStudio(e2e.dataDir);
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    await app.goTo('jobs');
    const row = await app.waitForJobStatus(job.id, 'interrupted');
    expect(await row.getByTestId('job-status').innerText()).toBe('Interrupted');
    expect((await row.getByTestId('job-error').innerText()).length).toBeGreaterThan(0);
    await app.screenshot(join(SCREENSHOTS, 'jobs-interrupted.png'));
    await row.getByTestId('job-resume').click();
    const resumed = await app.waitForJobStatus(job.id, 'succeeded');
    expect(await resumed.getByTestId('job-summary').innerText()).toMatch(/Preferred provider: CPU/);
    expect(app.problems).toEqual([]);
    await app.close();
  });
});
