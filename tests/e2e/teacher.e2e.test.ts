// End to end in Chromium against `effects-studio serve`: the tiny teacher and a black-box ONNX generator, sampled and saved as datasets.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TeacherSampleResult } from '../../src/shared/teachers/types.ts';
import { SCREENSHOTS, useStudioSession } from './support/studio-session.ts';
import { TestApp } from './support/test-app.ts';
import { buildOnnxGenerator } from '../unit/teachers/onnx-fixture.ts';

const e2e = useStudioSession('teacher');

describe('the Teacher page', () => {
  it('makes the tiny teacher, shows its samples and facts, and saves 8 samples as a dataset', async () => {
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    const grid = await app.makeTinyTeacher();
    const view = app.page.getByTestId('page-teacher');
    expect(await view.getByTestId('teacher-item').getAttribute('data-name')).toBe('Tiny demo');
    expect(await view.getByTestId('teacher-resolution').innerText()).toBe('32×32');
    expect(await view.getByTestId('teacher-mapping-depth').innerText()).toBe('2');
    expect(await view.getByTestId('teacher-num-ws').innerText()).toBe('8');
    expect(await view.getByTestId('teacher-provider').innerText()).not.toBe('not run yet');
    const samples = grid.getByTestId('teacher-sample');
    expect(await samples.count()).toBe(8);
    expect(await samples.first().getAttribute('data-seed')).toBe('0');

    // Another seed and ψ re-render the grid.
    await view.getByTestId('teacher-seed').fill('100');
    await view.getByTestId('teacher-render').click();
    await view.locator('[data-testid="teacher-sample"][data-seed="100"]').waitFor();
    await app.screenshot(join(SCREENSHOTS, 'teacher-grid.png'));

    const finished = app.nextJobEvent((job) => job.kind === 'teacher-sample' && job.status === 'succeeded');
    const saved = await app.saveTeacherSamples(8, 'Tiny faces');
    expect(saved.status).toBe('succeeded');
    expect(saved.text).toContain('Saved 8 samples as dataset “Tiny faces”');
    const result = (await finished).result as TeacherSampleResult;
    expect(result).toMatchObject({ datasetName: 'Tiny faces', count: 8 });
    await app.goTo('jobs');
    await app.waitForJobStatus(saved.jobId, 'succeeded');
    await app.close();
  });

  it('imports a plain ONNX generator with its I/O declared, shows it as a black box and saves its samples', async () => {
    const path = join(e2e.dataDir, 'box.onnx');
    await writeFile(path, buildOnnxGenerator({ inputName: 'latent', dim: 8, batch: 2, resolution: 16, outputName: 'rgb', range: '0,1' }));
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    const grid = await app.importOnnxTeacher(path, 'Box', { input: 'w', inputName: 'latent', dim: 8, outputName: 'rgb', range: '0,1' });
    const view = app.page.getByTestId('page-teacher');
    expect(await view.getByTestId('teacher-resolution').innerText()).toBe('16×16');
    expect(await view.getByTestId('teacher-onnx-input').innerText()).toContain('w of 8');
    expect(await view.getByTestId('teacher-style-space').innerText()).toContain('prompt edits do not apply');
    expect(await view.getByTestId('teacher-psi-none').isVisible()).toBe(true);
    expect(await view.getByTestId('teacher-psi').count()).toBe(0);
    expect(await grid.getByTestId('teacher-sample').count()).toBe(8);
    await app.screenshot(join(SCREENSHOTS, 'teacher-onnx.png'));

    const saved = await app.saveTeacherSamples(5, 'Box faces');
    expect(saved.status).toBe('succeeded');
    expect(saved.text).toContain('Saved 5 samples as dataset “Box faces”');
    await app.close();
  });

  it('says clearly why an import cannot start', async () => {
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    const view = await app.goTo('teacher');
    await view.getByTestId('teacher-import-path').fill(join(e2e.dataDir, 'missing.safetensors'));
    await view.getByTestId('teacher-import-name').fill('Missing');
    await view.getByTestId('teacher-import-start').click();
    const error = view.getByTestId('request-error');
    await error.waitFor();
    expect(await error.getAttribute('data-code')).toBe('invalid-request');
    expect(await view.getByTestId('request-error-message').innerText()).toContain(`No file at ${join(e2e.dataDir, 'missing.safetensors')}`);
    await app.close();
  });
});
