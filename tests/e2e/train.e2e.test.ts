// End to end in Chromium: import a small pairs folder, train a 64×64 student on the Train page, watch curves and previews, pause, resume, cancel.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePairsFolder } from '../unit/student/pairs-fixture.ts';
import { SCREENSHOTS, useStudioSession } from './support/studio-session.ts';
import { TestApp } from './support/test-app.ts';


let pairs: string;

const e2e = useStudioSession('train');

beforeAll(async () => {
  pairs = await mkdtemp(join(tmpdir(), 'studio-e2e-pairs-'));
  await writePairsFolder(pairs, 12, 80);
});

afterAll(async () => {
  await rm(pairs, { recursive: true, force: true });
});

describe('Train page', () => {
  it('trains a student from a pairs dataset with live curves and previews, pauses, resumes and cancels', async () => {
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    await app.createDataset('effect pairs', 'pairs');
    expect(await app.importIntoDataset([pairs])).toBe('succeeded');

    // The estimate follows the settings before anything starts.
    const view = await app.goTo('train');
    const estimateMacs = (): Promise<number> => view.getByTestId('train-estimate').getAttribute('data-macs').then(Number);
    await expect.poll(estimateMacs).toBeGreaterThan(0);
    const defaultMacs = await estimateMacs();
    await view.getByTestId('train-preset').selectOption('fast');
    // The fast preset's smaller student: wait for its estimate before reading it.
    await expect.poll(estimateMacs).toBeLessThan(defaultMacs);
    const fastMacs = await estimateMacs();
    expect(fastMacs).toBeGreaterThan(0);
    // Switching the adversarial term on adds the discriminator to the memory estimate; switching it off takes it out.
    const memory = view.getByTestId('train-estimate-memory');
    const studentBytes = Number(await memory.getAttribute('data-bytes'));
    await view.getByTestId('train-advanced-losses').locator('summary').click();
    await view.getByTestId('train-adversarial-on').check();
    await expect.poll(() => memory.getAttribute('data-bytes').then(Number)).toBeGreaterThan(studentBytes);
    expect(await memory.innerText()).toContain('of it the discriminator');
    await view.getByTestId('train-adversarial-on').uncheck();
    await expect.poll(() => memory.getAttribute('data-bytes').then(Number)).toBe(studentBytes);

    const run = await app.startTraining('effect pairs', {
      size: '64×64',
      width: '0.25',
      steps: '3000',
      batch: '4',
      warmup: '10',
      'validate-every': '10',
      'checkpoint-every': '10',
      jitter: '0',
      occluders: '0',
    });
    await expect.poll(estimateMacs).toBeLessThan(fastMacs);

    // Live: the loss curve grows, a validation point and a preview strip appear, provider and throughput are shown.
    await view.locator('[data-testid="train-validation-chart"]:not([data-points="0"])').waitFor();
    await view.locator('[data-testid="train-loss-chart"][data-points]').waitFor();
    expect(Number(await view.getByTestId('train-loss-chart').getAttribute('data-points'))).toBeGreaterThan(0);
    const preview = view.getByTestId('train-preview');
    await preview.waitFor();
    await expect.poll(() => preview.locator('img').evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(3 * 64);
    expect(await view.getByTestId('train-provider').innerText()).toBe('cpu');
    expect(Number(await view.getByTestId('train-throughput').innerText())).toBeGreaterThan(0);
    await app.screenshot(join(SCREENSHOTS, 'train-running.png'));

    // Pause: the run stops resumable at a checkpoint.
    await view.getByTestId('train-pause').click();
    await view.locator('[data-testid="train-run"][data-status="interrupted"]').waitFor();
    const resume = view.getByTestId('train-resume');
    const pausedAt = Number(/step (\d+)/.exec(await resume.innerText())![1]);
    expect(pausedAt).toBeGreaterThanOrEqual(10);

    // Resume: training continues after that step, and the curves keep growing.
    const runId = await run.getAttribute('data-run-id');
    const next = app.nextJobEvent((job) => job.kind === 'student-train' && job.status === 'running' && job.progress.step > pausedAt);
    await resume.click();
    expect((await next).progress.step).toBe(pausedAt + 1);
    await view.locator(`[data-testid="train-preview"]:not([data-step="${await preview.getAttribute('data-step')}"])`).waitFor();

    // Cancel: the run ends with its checkpoints and validation kept; two checkpoints compare side by side.
    await view.getByTestId('train-cancel').click();
    await view.locator(`[data-testid="train-run"][data-run-id="${runId}"][data-status="cancelled"]`).waitFor();
    await view.locator(`[data-testid="train-run-row"][data-run-id="${runId}"][data-status="cancelled"]`).waitFor();
    await view.getByTestId('train-compare-a').selectOption({ index: 1 });
    await view.getByTestId('train-compare-b').selectOption({ index: 2 });
    await expect.poll(() => view.getByTestId('train-compare-a-result').innerText()).toMatch(/PSNR \d+\.\d+ dB/);
    await expect.poll(() => view.getByTestId('train-compare-b-result').innerText()).toMatch(/PSNR \d+\.\d+ dB/);
    await view.getByTestId('train-loss-chart').scrollIntoViewIfNeeded();
    await app.screenshot(join(SCREENSHOTS, 'train-cancelled.png'));
    expect(app.problems).toEqual([]);
    await app.close();
  }, 180_000);
});
