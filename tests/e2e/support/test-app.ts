// The one page object of the end-to-end tests: drives the studio's UI the way a user does and reads what it shows.
// Functions passed to page.evaluate run in the page, so this file is checked with the DOM types too.
/// <reference lib="dom" />
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core';
import type { JobInfo, JobStatus, ProviderName } from '../../../src/shared/contract.ts';
import type { PageId } from '../../../src/renderer/src/lib/pages.ts';
import type { HostMessage } from '../../../src/main/host/wire.ts';

/** One row of the providers table as the user reads it. */
export interface ProviderRow {
  name: ProviderName;
  available: boolean;
  reason: string;
  ms: string;
}

/** A job state the page rendered: the `data-status` of a job row or the `data-step` of a progress bar. */
export interface RenderedJobState {
  jobId: string;
  status: string | null;
  step: number | null;
  total: number | null;
}

// Runs in the page before the app: records every job state the DOM ever shows, so a test can tell what the user saw
// even when a fast job passes through a state between two of the test's checks.
function recordRenderedJobStates(): void {
  const seen: RenderedJobState[] = [];
  (window as unknown as { __renderedJobStates: RenderedJobState[] }).__renderedJobStates = seen;
  const record = (element: Element): void => {
    const row = element.closest('[data-job-id]');
    const jobId = row?.getAttribute('data-job-id');
    if (!jobId) return;
    const progress = element.matches('[data-testid="job-progress"]') ? element : null;
    seen.push({
      jobId,
      status: progress ? null : element.getAttribute('data-status'),
      step: progress ? Number(progress.getAttribute('data-step')) : null,
      total: progress ? Number(progress.getAttribute('data-total')) : null,
    });
  };
  const scan = (node: Node): void => {
    if (!(node instanceof Element)) return;
    for (const element of [node, ...Array.from(node.querySelectorAll('[data-testid="job-row"], [data-testid="job-progress"]'))]) {
      if (element.matches('[data-testid="job-row"], [data-testid="job-progress"]')) record(element);
    }
  };
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      if (mutation.type === 'attributes') scan(mutation.target);
      else mutation.addedNodes.forEach(scan);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status', 'data-step'] });
}

/** The studio open in one fresh browser context. */
export class TestApp {
  /** Console errors, page errors and CSP violations; a healthy studio has none. */
  readonly problems: string[] = [];
  /** Every `jobs:did-change` the page received over its WebSocket, in order. */
  readonly jobEvents: JobInfo[] = [];
  readonly #jobEventWaiters = new Set<(job: JobInfo) => void>();

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {
    page.on('console', (message) => {
      if (message.type() === 'error' || message.text().includes('Content Security Policy')) this.problems.push(message.text());
    });
    page.on('pageerror', (error) => this.problems.push(error.message));
    page.on('websocket', (socket) => {
      // Only the contract socket carries JSON; the live view's native-backend socket carries binary frames.
      if (new URL(socket.url()).pathname !== '/ws') return;
      socket.on('framereceived', ({ payload }) => {
        const message = JSON.parse(String(payload)) as HostMessage;
        if (message.type !== 'event' || message.event !== 'jobs:did-change') return;
        this.jobEvents.push(message.payload);
        for (const waiter of this.#jobEventWaiters) waiter(message.payload);
      });
    });
  }

  /**
   * Opens the studio at `url` (with its token) in a new, empty browser context and waits until it is connected;
   * `options` adds context settings (e.g. granted `permissions`).
   */
  static async open(browser: Browser, url: string, options: BrowserContextOptions = {}): Promise<TestApp> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
    await context.addInitScript(recordRenderedJobStates);
    const app = new TestApp(context, await context.newPage());
    await app.page.goto(url);
    await app.#ready('browser');
    return app;
  }

  /** Drives a page that is already open (an Electron window) and waits until the studio in it is connected. */
  static async attach(context: BrowserContext, page: Page): Promise<TestApp> {
    const app = new TestApp(context, page);
    await app.#ready('desktop');
    return app;
  }

  async #ready(host: 'browser' | 'desktop'): Promise<void> {
    await this.page.getByTestId('sidebar-foot').filter({ hasText: host }).waitFor();
    await this.page.getByTestId('connection-banner').waitFor({ state: 'detached' });
  }

  /** Clicks a section in the sidebar and waits for it to show. */
  async goTo(section: PageId): Promise<Locator> {
    await this.page.getByTestId(`nav-${section}`).click();
    const view = this.page.getByTestId(`page-${section}`);
    await view.waitFor();
    return view;
  }

  /** Resolves with the first `jobs:did-change` from now on that matches. */
  nextJobEvent(matches: (job: JobInfo) => boolean): Promise<JobInfo> {
    return new Promise((resolve) => {
      const waiter = (job: JobInfo): void => {
        if (!matches(job)) return;
        this.#jobEventWaiters.delete(waiter);
        resolve(job);
      };
      this.#jobEventWaiters.add(waiter);
    });
  }

  /** Settings → Compute → "Run device check". */
  async runDeviceCheck(): Promise<void> {
    await this.goTo('settings');
    await this.page.getByTestId('run-device-check').click();
  }

  /** The Jobs list's rows, newest first. */
  jobRows(): Locator {
    return this.page.getByTestId('job-row');
  }

  /** The Jobs list's row of one job. */
  jobRow(id: string): Locator {
    return this.page.locator(`[data-testid="job-row"][data-job-id="${id}"]`);
  }

  /** Waits until a job's row shows the given status. */
  async waitForJobStatus(id: string, status: JobStatus): Promise<Locator> {
    const row = this.page.locator(`[data-testid="job-row"][data-job-id="${id}"][data-status="${status}"]`);
    await row.waitFor();
    return row;
  }

  /** Every job state the page has rendered so far, in order (browser contexts opened with {@link TestApp.open}). */
  renderedJobStates(): Promise<RenderedJobState[]> {
    return this.page.evaluate(() => (window as unknown as { __renderedJobStates: RenderedJobState[] }).__renderedJobStates);
  }

  /** The providers table of Settings → Compute, as the user reads it. */
  async providers(): Promise<ProviderRow[]> {
    const rows = this.page.getByTestId('provider-row');
    await rows.first().waitFor();
    const result: ProviderRow[] = [];
    for (const row of await rows.all()) {
      result.push({
        name: (await row.getAttribute('data-provider')) as ProviderName,
        available: (await row.getAttribute('data-available')) === 'true',
        reason: (await row.getByTestId('provider-reason').innerText()).trim(),
        ms: (await row.getByTestId('provider-ms').innerText()).trim(),
      });
    }
    return result;
  }

  /** The preferred provider Settings → Compute names (its id, e.g. `cpu`). */
  preferredProvider(): Promise<string | null> {
    return this.page.getByTestId('preferred-provider').getAttribute('data-provider');
  }

  /** Datasets → create a dataset of this kind; waits until it is open. */
  async createDataset(name: string, kind: 'photos' | 'pairs' = 'photos'): Promise<void> {
    const view = await this.goTo('datasets');
    await view.getByTestId('new-dataset-name').fill(name);
    await view.getByTestId('new-dataset-kind').selectOption(kind);
    await view.getByTestId('create-dataset').click();
    await view.getByTestId('dataset-title').filter({ hasText: name }).waitFor();
  }

  /** Datasets → imports these paths into the open dataset and waits until the import job has ended; returns its status. */
  async importIntoDataset(paths: string[]): Promise<string> {
    const view = this.page.getByTestId('page-datasets');
    await view.getByTestId('import-paths').fill(paths.join('\n'));
    await view.getByTestId('start-import').click();
    const status = view.locator('[data-testid="import-status"]:not([data-status="queued"]):not([data-status="running"])');
    await status.waitFor();
    return (await status.getAttribute('data-status')) ?? '';
  }

  /** The count a status filter button of the curation grid shows (`all`, `pending`, `accepted`, `rejected`). */
  async datasetCount(status: 'all' | 'pending' | 'accepted' | 'rejected'): Promise<number> {
    return Number(await this.page.getByTestId(`count-${status}`).getAttribute('data-count'));
  }

  /** Waits until a status filter button shows this count. */
  async waitForDatasetCount(status: 'all' | 'pending' | 'accepted' | 'rejected', count: number): Promise<void> {
    await this.page.locator(`[data-testid="count-${status}"][data-count="${count}"]`).waitFor();
  }

  /** Waits until every edit the grid showed at once has been confirmed by the studio (stored and reloaded). */
  async waitForDatasetsSaved(): Promise<void> {
    await this.page.locator('[data-testid="page-datasets"][data-saving="0"]').waitFor();
  }

  /** The curation grid's rendered cells. */
  gridItems(): Locator {
    return this.page.getByTestId('grid-item');
  }

  /** Waits until the grid holds this many items in all (rendered or not). */
  async waitForGridTotal(total: number): Promise<void> {
    await this.page.locator(`[data-testid="curation-grid"][data-total="${total}"]`).waitFor();
  }

  /** Teacher → "Make a tiny demo teacher"; waits until it is selected and its sample grid shows. */
  async makeTinyTeacher(): Promise<Locator> {
    const view = await this.goTo('teacher');
    await view.getByTestId('teacher-make-tiny').click();
    await view.getByTestId('teacher-selected').waitFor();
    const grid = view.getByTestId('teacher-grid');
    await grid.waitFor();
    return grid;
  }

  /** Teacher → imports the .onnx generator at `path` with its declared I/O; waits until the teacher is selected and its grid shown. */
  async importOnnxTeacher(path: string, name: string, io: { input: 'z' | 'w'; inputName: string; dim: number; outputName: string; range: '-1,1' | '0,1' }): Promise<Locator> {
    const view = await this.goTo('teacher');
    await view.getByTestId('teacher-import-path').fill(path);
    await view.getByTestId('teacher-import-name').fill(name);
    await view.getByTestId('teacher-onnx-input-kind').selectOption(io.input);
    await view.getByTestId('teacher-onnx-input-name').fill(io.inputName);
    await view.getByTestId('teacher-onnx-dim').fill(String(io.dim));
    await view.getByTestId('teacher-onnx-output-name').fill(io.outputName);
    await view.getByTestId('teacher-onnx-range').selectOption(io.range);
    await view.getByTestId('teacher-import-start').click();
    await view.locator(`[data-testid="teacher-item"][data-name="${name}"].active`).waitFor();
    const grid = view.getByTestId('teacher-grid');
    await grid.waitFor();
    return grid;
  }

  /** Teacher → "Save as dataset" with this count and name; waits until the sampling job has ended and returns its status. */
  async saveTeacherSamples(count: number, name: string): Promise<{ jobId: string; status: string; text: string }> {
    const view = this.page.getByTestId('page-teacher');
    await view.getByTestId('teacher-save-count').fill(String(count));
    await view.getByTestId('teacher-save-name').fill(name);
    await view.getByTestId('teacher-save-start').click();
    const job = view.locator('[data-testid="teacher-save-job"]:not([data-status="queued"]):not([data-status="running"])');
    await job.waitFor();
    return {
      jobId: (await job.getAttribute('data-job-id')) ?? '',
      status: (await job.getAttribute('data-status')) ?? '',
      text: await job.innerText(),
    };
  }

  /** Effects → imports the CLIP folder at `path` under `name`; waits until the import job has ended and returns its status line. */
  async importClip(path: string, name: string): Promise<{ status: string; text: string }> {
    const view = await this.goTo('effects');
    await view.getByTestId('clip-import-path').fill(path);
    await view.getByTestId('clip-import-name').fill(name);
    await view.getByTestId('clip-import-start').click();
    const job = view.locator('[data-testid="clip-import-job"]:not([data-status="queued"]):not([data-status="running"])');
    await job.waitFor();
    return { status: (await job.getAttribute('data-status')) ?? '', text: await job.innerText() };
  }

  /** Effects → "Measure relevance" with these sizes; waits until the page says the table is ready. */
  async measureRelevance(images: number, statsSamples: number): Promise<Locator> {
    const view = this.page.getByTestId('page-effects');
    await view.getByTestId('relevance-images').fill(String(images));
    await view.getByTestId('relevance-stats').fill(String(statsSamples));
    await view.getByTestId('relevance-start').click();
    const ready = view.getByTestId('relevance-ready');
    await ready.waitFor();
    return ready;
  }

  /** Effects → types the prompt and renders its preview; waits until the grid shows the edit at this α. */
  async previewEffect(target: string, neutral: string): Promise<Locator> {
    const view = this.page.getByTestId('page-effects');
    await view.getByTestId('effect-target').fill(target);
    await view.getByTestId('effect-neutral').fill(neutral);
    await view.getByTestId('effect-render').click();
    const grid = view.getByTestId('effect-grid');
    await grid.waitFor();
    return grid;
  }

  /** Opens (verifies) the package at `path` from the Export page and waits for its report. */
  async openPackage(path: string): Promise<Locator> {
    const view = await this.goTo('export');
    await view.getByTestId('export-open-path').fill(path);
    await view.getByTestId('export-open-button').click();
    const report = view.getByTestId('package-report');
    await this.page.waitForFunction(
      (wanted) => document.querySelector('[data-testid="package-report"] [data-testid="package-verdict"]')?.textContent?.includes(wanted) === true,
      path,
    );
    return report;
  }

  /**
   * Train → picks the dataset, sets the named fields (`train-<field>` inputs: size, width, steps, batch, …) and starts
   * training; waits until the page follows the new run and returns that run's card.
   */
  async startTraining(dataset: string, fields: Readonly<Record<string, string>>): Promise<Locator> {
    const view = await this.goTo('train');
    const select = view.getByTestId('train-dataset');
    await select.locator('option', { hasText: `${dataset} ·` }).waitFor({ state: 'attached' });
    const index = await select.evaluate((el, name) => Array.from((el as HTMLSelectElement).options).findIndex((o) => o.text.startsWith(`${name} ·`)), dataset);
    await select.selectOption({ index });
    for (const [field, value] of Object.entries(fields)) {
      const input = view.getByTestId(`train-${field}`);
      if ((await input.evaluate((el) => el.tagName)) === 'SELECT') await input.selectOption({ label: value });
      else await input.fill(value);
    }
    await view.getByTestId('train-estimate-macs').waitFor();
    const shown = view.getByTestId('train-run');
    const before = (await shown.count()) > 0 ? await shown.getAttribute('data-run-id') : null;
    await view.getByTestId('train-start').click();
    const run = view.locator(`[data-testid="train-run"]${before === null ? '' : `:not([data-run-id="${before}"])`}`);
    await run.waitFor();
    return run;
  }

  /** Saves a screenshot of the window. */
  async screenshot(path: string): Promise<void> {
    await this.page.screenshot({ path });
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
