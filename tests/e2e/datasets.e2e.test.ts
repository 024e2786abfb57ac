// End to end in Chromium: create a dataset, import a folder of real photos, curate with the keyboard, filter, and check SQLite agrees.
// Functions passed to page.evaluate run in the page, so this file is checked with the DOM types too.
/// <reference lib="dom" />
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCREENSHOTS, useStudioSession } from './support/studio-session.ts';
import { TestApp } from './support/test-app.ts';

const ASTRONAUT = fileURLToPath(new URL('../fixtures/faces/astronaut.png', import.meta.url));

let photos: string;

/** Five face-free pictures made by sharp (gradients, shapes, noise) plus the astronaut photo and one broken file. */
async function makePhotos(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await copyFile(ASTRONAUT, join(dir, 'astronaut.png'));
  const colours = ['#c0392b', '#27ae60', '#2980b9', '#8e44ad', '#f39c12'];
  for (const [i, colour] of colours.entries()) {
    const circle = Buffer.from(
      `<svg width="320" height="240"><rect width="320" height="240" fill="${colour}"/><circle cx="${60 + i * 40}" cy="120" r="50" fill="white"/></svg>`,
    );
    await sharp(circle).jpeg().toFile(join(dir, `shape-${i}.jpg`));
  }
  await writeFile(join(dir, 'broken.jpg'), 'this is not a JPEG');
}

/** Item counts by status as SQLite holds them. */
function countsInDatabase(): Record<string, number> {
  const db = new BetterSqlite3(join(e2e.dataDir, 'studio.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT status, count(*) AS n FROM items GROUP BY status').all() as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  } finally {
    db.close();
  }
}

const e2e = useStudioSession('datasets');

beforeAll(async () => {
  photos = await mkdtemp(join(tmpdir(), 'studio-e2e-photos-'));
  await makePhotos(photos);
});

afterAll(async () => {
  await rm(photos, { recursive: true, force: true });
});

describe('datasets in a browser', () => {
  it('imports a folder, curates it with the keyboard (accept, reject, rate, undo), filters, and SQLite agrees', async () => {
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    const view = await app.goTo('datasets');
    await view.getByTestId('datasets-empty').waitFor();
    await app.createDataset('portraits');

    expect(await app.importIntoDataset([photos])).toBe('succeeded');
    expect(await view.getByTestId('import-status').innerText()).toMatch(/6 imported · 0 duplicate · 1 failed · 1 with a face/);
    await app.waitForGridTotal(6);
    await app.waitForDatasetCount('all', 6);
    expect(await app.gridItems().count()).toBe(6);
    expect(await app.datasetCount('pending')).toBe(6);

    // Keyboard: A accepts the first item and steps on, R rejects the second, 4 rates the third.
    await app.gridItems().first().click();
    const grid = view.getByTestId('curation-grid');
    await grid.press('a');
    await app.waitForDatasetCount('accepted', 1);
    await grid.press('r');
    await app.waitForDatasetCount('rejected', 1);
    await grid.press('4');
    await view.locator('[data-testid="grid-item"][data-index="2"][data-rating="4"]').waitFor();
    await app.waitForDatasetsSaved();
    expect(countsInDatabase()).toEqual({ accepted: 1, rejected: 1, pending: 4 });

    // Z undoes the rating, then the rejection; the counts follow.
    await grid.press('z');
    await view.locator('[data-testid="grid-item"][data-index="2"][data-rating="0"]').waitFor();
    await grid.press('z');
    await app.waitForDatasetCount('rejected', 0);
    await app.waitForDatasetCount('pending', 5);
    await app.waitForDatasetsSaved();
    expect(countsInDatabase()).toEqual({ accepted: 1, pending: 5 });

    // Shift+arrow selects a range; R rejects all of it at once.
    await grid.press('ArrowRight');
    await grid.press('Shift+ArrowRight');
    await grid.press('r');
    await app.waitForDatasetCount('rejected', 2);
    await app.waitForDatasetsSaved();
    expect(countsInDatabase()).toEqual({ accepted: 1, rejected: 2, pending: 3 });
    await app.screenshot(join(SCREENSHOTS, 'datasets-grid.png'));

    // T tags the selection; the tag filter then shows just those two.
    await grid.press('t');
    await view.getByTestId('tag-input').fill('smile, age:adult');
    await view.getByTestId('tag-input').press('Enter');
    await app.waitForDatasetsSaved();
    await view.getByTestId('filter-tag').selectOption('smile');
    await app.waitForGridTotal(2);
    await view.getByTestId('filter-tag').selectOption('');
    await app.waitForGridTotal(6);

    // Filters narrow the grid: the face filter leaves the astronaut, whose face the preview shows.
    await view.getByTestId('filter-face').selectOption('true');
    await app.waitForGridTotal(1);
    const only = app.gridItems();
    expect(await only.count()).toBe(1);
    expect(await only.getAttribute('data-has-face')).toBe('true');
    expect(await view.getByTestId('preview-face-text').innerText()).toMatch(/^found \(\d+%\)$/);
    await view.getByTestId('preview-face').waitFor();
    await view.getByTestId('filter-face').selectOption('');
    await view.getByTestId('count-rejected').click();
    await app.waitForGridTotal(2);
    expect(await app.gridItems().evaluateAll((cells) => cells.map((c) => c.getAttribute('data-status')))).toEqual(['rejected', 'rejected']);

    // The stats view counts the same.
    await view.getByTestId('tab-stats').click();
    expect(await view.getByTestId('stats-total').innerText()).toBe('6');
    expect(await view.getByTestId('stats-accepted').innerText()).toBe('1');
    expect(await view.getByTestId('stats-faces-found').innerText()).toBe('1');
    await app.screenshot(join(SCREENSHOTS, 'datasets-stats.png'));
    expect(app.problems).toEqual([]);
    await app.close();
  });

  it('imports before/after pairs and compares them with the slider and Space', async () => {
    const pairs = join(photos, 'pairs');
    for (const side of ['before', 'after']) await mkdir(join(pairs, side), { recursive: true });
    for (const [i, name] of ['one', 'two'].entries()) {
      const base = sharp({ create: { width: 200, height: 160, channels: 3, background: { r: 40 + i * 80, g: 90, b: 160 } } });
      await base.clone().png().toFile(join(pairs, 'before', `${name}.png`));
      await base.clone().negate().jpeg().toFile(join(pairs, 'after', `${name}.jpg`));
    }
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    const view = await app.goTo('datasets');
    await app.createDataset('edits', 'pairs');
    expect(await app.importIntoDataset([pairs])).toBe('succeeded');
    await app.waitForGridTotal(2);
    await app.gridItems().first().click();
    const after = view.getByTestId('preview-after');
    expect(await after.evaluate((img) => getComputedStyle(img).clipPath)).toBe('inset(0px 0px 0px 50%)');
    await view.getByTestId('before-after-slider').fill('80');
    expect(await after.evaluate((img) => getComputedStyle(img).clipPath)).toBe('inset(0px 0px 0px 20%)');
    await view.getByTestId('curation-grid').press(' ');
    expect(await after.evaluate((img) => getComputedStyle(img).clipPath)).toBe('inset(0px 0px 0px 0%)');
    await app.screenshot(join(SCREENSHOTS, 'datasets-pairs.png'));
    await app.close();
  });
});
