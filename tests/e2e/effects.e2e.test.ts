// End to end in Chromium against `effects-studio serve`: import a CLIP folder, measure relevance, preview a prompt's edit, save it, make pairs.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EffectPairsResult } from '../../src/shared/effects/types.ts';
import { byteLevelVocabulary, writeTinyClip } from '../../src/main/engine/clip/index.ts';
import { SCREENSHOTS, useStudioSession } from './support/studio-session.ts';
import { TestApp } from './support/test-app.ts';


let clipDir: string;

const e2e = useStudioSession('effects', {
  prepare: async (dataDir) => {
    clipDir = join(dataDir, '..', `${dataDir.split('/').pop()}-clip`);
    // A CLIP-shaped export the project's own code writes (random weights): the layout and names of a real one.
    await writeTinyClip(clipDir, byteLevelVocabulary());
  },
});

afterAll(async () => {
  await rm(clipDir, { recursive: true, force: true });
});

/** True once every image in the locator has loaded with a real size. */
async function imagesLoaded(app: TestApp, selector: string): Promise<void> {
  await app.page.waitForFunction(
    (sel) => {
      const images = Array.from(document.querySelectorAll<HTMLImageElement>(sel));
      return images.length > 0 && images.every((i) => i.complete && i.naturalWidth > 0);
    },
    selector,
  );
}

describe('the Effects page', () => {
  it('turns a text prompt into an edit: CLIP import, relevance, preview with α/β, saved prompt, pairs dataset', async () => {
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    await app.makeTinyTeacher();

    const view = await app.goTo('effects');
    expect(await view.getByTestId('clips-empty').isVisible()).toBe(true);
    const imported = await app.importClip(clipDir, 'Tiny CLIP');
    expect(imported.status).toBe('succeeded');
    await view.getByTestId('clip-select').waitFor();
    expect(await view.getByTestId('clip-select').innerText()).toContain('Tiny CLIP · 32-d · 32×32');

    // No edit before the relevance table is measured.
    await view.getByTestId('relevance-missing').waitFor();
    expect(await view.getByTestId('effect-target').count()).toBe(0);
    const ready = await app.measureRelevance(2, 64);
    expect(await ready.innerText()).toContain('Relevance of 208 style channels measured on 2 images');

    const grid = await app.previewEffect('a face with a white beard', 'a face');
    expect(await grid.getByTestId('effect-pair').count()).toBe(4);
    await imagesLoaded(app, '[data-testid="effect-grid"] img');
    const touched = Number(await view.getByTestId('effect-touched').getAttribute('data-touched'));
    expect(touched).toBeGreaterThan(0);
    expect(touched).toBeLessThanOrEqual(208);
    await app.screenshot(join(SCREENSHOTS, 'effects-preview.png'));

    // Moving β re-renders the grid by itself once the slider rests: a stricter β moves fewer channels.
    const firstEdit = await view.getByTestId('effect-edited').first().getAttribute('src');
    await view.getByTestId('effect-beta').fill('0.3');
    expect(await view.getByTestId('effect-beta-value').innerText()).toBe('0.30');
    await view.locator('[data-testid="effect-touched"]', { hasText: 'β 0.3,' }).waitFor();
    const stricter = Number(await view.getByTestId('effect-touched').getAttribute('data-touched'));
    expect(stricter).toBeLessThan(touched);
    expect(await view.getByTestId('effect-edited').first().getAttribute('src')).not.toBe(firstEdit);

    // The strength sweep shows every seed at α −10 … 10; a column's α becomes the edit's.
    await view.getByTestId('effect-sweep').click();
    const sweep = view.getByTestId('effect-sweep-table');
    await sweep.waitFor();
    expect(await sweep.getByTestId('sweep-row').count()).toBe(4);
    expect(await sweep.getByTestId('sweep-alpha').evaluateAll((cells) => cells.map((c) => c.getAttribute('data-alpha')))).toEqual(['-10', '-5', '-2.5', '0', '2.5', '5', '10']);
    await imagesLoaded(app, '[data-testid="effect-sweep-table"] img');
    await sweep.scrollIntoViewIfNeeded();
    await app.screenshot(join(SCREENSHOTS, 'effects-sweep.png'));
    await sweep.locator('[data-testid="sweep-alpha"][data-alpha="5"]').click();
    expect(await view.getByTestId('effect-alpha-value').innerText()).toBe('5.0');
    await view.locator('[data-testid="effect-touched"]', { hasText: '(α 5,' }).waitFor();

    // Saved prompts keep α and β; a favourite is marked.
    await view.getByTestId('effect-save-prompt').click();
    const saved = view.locator('[data-testid="prompt-item"][data-target="a face with a white beard"]');
    await saved.waitFor();
    expect(await saved.innerText()).toContain('α 5.0 · β 0.30');
    await saved.getByTestId('prompt-favorite').click();
    await view.locator('[data-testid="prompt-item"][data-favorite="true"]').waitFor();

    const finished = app.nextJobEvent((job) => job.kind === 'effects-pairs' && job.status === 'succeeded');
    await view.getByTestId('pairs-count').fill('6');
    await view.getByTestId('pairs-name').fill('White beards');
    await view.getByTestId('pairs-start').click();
    const status = view.getByTestId('pairs-status');
    await status.waitFor();
    expect(await status.innerText()).toContain('Saved 6 pairs as dataset “White beards”');
    expect(((await finished).result as EffectPairsResult).count).toBe(6);

    // The pairs open in Datasets for curation.
    await view.getByTestId('pairs-open-dataset').click();
    await app.page.getByTestId('dataset-title').filter({ hasText: 'White beards' }).waitFor();
    await app.waitForGridTotal(6);
    expect(app.problems).toEqual([]);
    await app.close();
  });

  it('says clearly why a CLIP folder cannot be imported', async () => {
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    const view = await app.goTo('effects');
    await view.getByTestId('clip-import-path').fill(join(e2e.dataDir, 'no-such-folder'));
    await view.getByTestId('clip-import-name').fill('Missing');
    await view.getByTestId('clip-import-start').click();
    const error = view.getByTestId('request-error');
    await error.waitFor();
    expect(await error.getAttribute('data-code')).toBe('invalid-request');
    expect(await view.getByTestId('request-error-message').innerText()).toContain(`the CLIP folder ${join(e2e.dataDir, 'no-such-folder')} does not exist`);
    await app.close();
  });
});
