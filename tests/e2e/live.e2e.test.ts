// End to end in Chromium: the Live page on a fake camera playing a real face, with a trained student; camera refused; no camera.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTrainedCheckpoint, makeTrainedRun, type TrainedRun } from '../unit/live/trained-run.ts';
import { launchChromium } from './support/browser.ts';
import { serveStudio, type ServedStudio } from './support/serve.ts';
import { SCREENSHOTS } from './support/studio-session.ts';
import { TestApp } from './support/test-app.ts';

const ASTRONAUT = fileURLToPath(new URL('../fixtures/faces/astronaut.png', import.meta.url));
// Pupil centres hand-labelled on the 512×512 photo (see tests/unit/faces/detector.test.ts).
const EYES = [
  { x: 203.1, y: 101.1 },
  { x: 246.7, y: 103.4 },
];

let dataDir: string;
let work: string;
let studio: ServedStudio;
let run: TrainedRun;

/** The frame the fake camera plays: the photo scaled to 480² and centred in 640×480, the size the page asks for by default. */
const FRAME = { width: 640, height: 480, scale: 480 / 512, left: 80 };

/** The photo as a one-frame 640×480 YUV4MPEG2 stream (I420, BT.601 full range), which Chromium's fake camera loops. */
async function astronautY4m(path: string): Promise<void> {
  const { data, info } = await sharp(ASTRONAUT)
    .removeAlpha()
    .resize(480, 480)
    .extend({ left: FRAME.left, right: FRAME.left, background: { r: 90, g: 90, b: 90 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  const y = Buffer.alloc(width * height);
  const u = Buffer.alloc((width / 2) * (height / 2));
  const v = Buffer.alloc(u.length);
  const clamp = (x: number): number => Math.max(0, Math.min(255, Math.round(x)));
  for (let i = 0; i < width * height; i++) {
    y[i] = clamp(0.299 * data[i * 3]! + 0.587 * data[i * 3 + 1]! + 0.114 * data[i * 3 + 2]!);
  }
  for (let cy = 0; cy < height / 2; cy++) {
    for (let cx = 0; cx < width / 2; cx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
        const p = ((cy * 2 + dy) * width + cx * 2 + dx) * 3;
        r += data[p]! / 4;
        g += data[p + 1]! / 4;
        b += data[p + 2]! / 4;
      }
      u[cy * (width / 2) + cx] = clamp(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
      v[cy * (width / 2) + cx] = clamp(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
    }
  }
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F30:1 Ip A1:1 C420jpeg\nFRAME\n`);
  await writeFile(path, Buffer.concat([header, y, u, v]));
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'studio-e2e-live-'));
  work = await mkdtemp(join(tmpdir(), 'studio-e2e-live-files-'));
  await mkdir(SCREENSHOTS, { recursive: true });
  run = await makeTrainedRun(dataDir, { size: 64, width: 0.5, activation: 'relu6', residualScale: 1 });
  studio = await serveStudio(dataDir);
});

afterAll(async () => {
  await studio?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

/** Mean absolute difference and largest difference between the left (input) and right (output) halves of the side-by-side view, over a square. */
function compareHalves(app: TestApp, x: number, y: number, side: number): Promise<{ mean: number; max: number }> {
  return app.page.evaluate(
    ([x0, y0, s]) => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="live-canvas"]')!;
      const ctx = canvas.getContext('2d')!;
      const half = canvas.width / 2;
      const a = ctx.getImageData(x0!, y0!, s!, s!).data;
      const b = ctx.getImageData(half + x0!, y0!, s!, s!).data;
      let sum = 0;
      let max = 0;
      let n = 0;
      for (let i = 0; i < a.length; i += 4) {
        for (let k = 0; k < 3; k++) {
          const d = Math.abs(a[i + k]! - b[i + k]!);
          sum += d;
          max = Math.max(max, d);
          n++;
        }
      }
      return { mean: sum / n, max };
    },
    [x, y, side],
  );
}

describe('Live on a fake camera playing a real face', () => {
  let browser: Browser;
  beforeAll(async () => {
    const video = join(work, 'astronaut.y4m');
    await astronautY4m(video);
    browser = await launchChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`]);
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Waits for `n` more frames drawn after now. */
  async function moreFrames(app: TestApp, n: number): Promise<void> {
    const now = Number(await app.page.getByTestId('live-hud').getAttribute('data-frames'));
    await app.page.waitForFunction(([from, k]) => Number(document.querySelector('[data-testid="live-hud"]')?.getAttribute('data-frames')) >= from! + k!, [now, n]);
  }

  /** In side-by-side view: the student changed the face and left the frame's corners exactly as they were. */
  async function expectEffectOnFaceOnly(app: TestApp): Promise<void> {
    expect(await app.page.evaluate(() => document.querySelector<HTMLCanvasElement>('[data-testid="live-canvas"]')!.width)).toBe(2 * FRAME.width);
    const k = FRAME.scale;
    // Between the eyes and down the nose: the student (trained towards inverted colours) changed it.
    const inside = await compareHalves(app, Math.round(FRAME.left + 205 * k), Math.round(100 * k), Math.round(40 * k));
    expect(inside.mean).toBeGreaterThan(20);
    // The bottom corners are far outside the face crop: untouched.
    for (const x of [0, FRAME.width - 40]) expect((await compareHalves(app, x, FRAME.height - 40, 40)).max).toBe(0);
  }

  it('tracks the face, applies the trained student inside it only, on the faster backend by default and on either, following new checkpoints', async () => {
    const app = await TestApp.open(browser, studio.url);
    await app.createDataset('Webcam captures', 'photos');
    const view = await app.goTo('live');
    const student = view.getByTestId('live-student');
    await student.waitFor();
    expect(await student.innerText()).toContain(`Run ${run.runId} · step ${run.checkpointStep}`);
    // Both backends time the same student; the faster runs by default.
    const measured = view.locator('[data-testid="live-measured"][data-web][data-native]');
    await measured.waitFor();
    const webMs = Number(await measured.getAttribute('data-web'));
    const nativeMs = Number(await measured.getAttribute('data-native'));
    expect(webMs).toBeGreaterThan(0);
    expect(nativeMs).toBeGreaterThan(0);
    const faster = nativeMs <= webMs ? 'native' : 'web';

    await view.getByTestId('live-mirror').uncheck();
    await view.getByTestId('live-start').click();
    await view.locator(`[data-testid="live-view"][data-camera="on"][data-backend="${faster}"]`).waitFor();
    await app.page.waitForFunction(() => Number(document.querySelector('[data-testid="live-hud"]')?.getAttribute('data-frames')) >= 5);

    const box = view.getByTestId('live-face-box');
    await box.waitFor();
    const read = (a: string): Promise<number> => box.getAttribute(a).then(Number);
    const [bx, by, bw, bh, fw, fh] = await Promise.all(['data-x', 'data-y', 'data-width', 'data-height', 'data-frame-width', 'data-frame-height'].map(read));
    expect([fw, fh]).toEqual([FRAME.width, FRAME.height]);
    const k = FRAME.scale;
    for (const eye of EYES) {
      expect(FRAME.left + eye.x * k).toBeGreaterThan(bx!);
      expect(FRAME.left + eye.x * k).toBeLessThan(bx! + bw!);
      expect(eye.y * k).toBeGreaterThan(by!);
      expect(eye.y * k).toBeLessThan(by! + bh!);
    }
    expect(bw).toBeLessThan(200 * k);

    await view.getByTestId('live-mode-side-by-side').click();
    await view.locator('[data-testid="live-view"][data-mode="side-by-side"]').waitFor();
    for (const backend of ['web', 'native'] as const) {
      await view.getByTestId('live-backend').selectOption(backend);
      await view.locator(`[data-testid="live-view"][data-backend="${backend}"]`).waitFor();
      await moreFrames(app, 3);
      await expectEffectOnFaceOnly(app);
      const hud = view.getByTestId('live-hud');
      expect(Number(await hud.getAttribute('data-fps'))).toBeGreaterThan(0);
      expect(await view.getByTestId('hud-student').innerText()).toMatch(/^\d+\.\d ms$/);
      if (backend === 'web') {
        expect(await view.getByTestId('hud-backend').innerText()).toBe('onnxruntime-web');
        expect(await view.getByTestId('hud-provider').innerText()).toMatch(/^wasm · SIMD · \d+ threads?$/);
      } else {
        expect(await view.getByTestId('hud-backend').innerText()).toBe('onnxruntime-node');
        expect(await view.getByTestId('hud-provider').innerText()).toMatch(/^cpu · \d+ threads?$/);
      }
      await app.screenshot(join(SCREENSHOTS, `live-side-by-side-${backend}.png`));
    }

    // A training worker saves a newer checkpoint: the view follows it without being asked.
    const newer = await addTrainedCheckpoint(dataDir, run, 9);
    await view.locator(`[data-testid="live-student"][data-sha="${newer.checkpointSha}"]`).waitFor();
    expect(await view.getByTestId('live-student').innerText()).toContain(`Run ${run.runId} · step ${newer.checkpointStep}`);
    await moreFrames(app, 3);
    await expectEffectOnFaceOnly(app);

    // Record: a before | after still as a file, and the camera frame into a photos dataset.
    const download = app.page.waitForEvent('download');
    await view.getByTestId('live-save-still').click();
    const still = await download;
    expect(still.suggestedFilename()).toMatch(/^live-.+\.png$/);
    const stillMeta = await sharp(await still.path()).metadata();
    expect([stillMeta.width, stillMeta.height]).toEqual([2 * FRAME.width, FRAME.height]);
    const imported = app.nextJobEvent((job) => job.kind === 'dataset-import' && (job.status === 'succeeded' || job.status === 'failed'));
    await view.getByTestId('live-add-frame').click();
    expect((await imported).status).toBe('succeeded');
    expect(await view.getByTestId('live-record-note').innerText()).toContain('Webcam captures');

    await view.getByTestId('live-mode-crop').click();
    await app.page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('[data-testid="live-canvas"]')?.width === 128);
    await view.getByTestId('live-stop').click();
    expect(app.problems).toEqual([]);
    await app.close();
  });
});

describe('Live without a usable camera', () => {
  it('says so when camera access is denied', async () => {
    const video = join(work, 'astronaut.y4m');
    await astronautY4m(video);
    // A real camera exists (the fake device) but the permission prompt is refused.
    const browser = await launchChromium(['--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`, '--deny-permission-prompts']);
    try {
      const app = await TestApp.open(browser, studio.url);
      const view = await app.goTo('live');
      await view.getByTestId('live-start').click();
      const problem = view.page().getByTestId('live-camera-problem');
      await problem.waitFor();
      expect(await problem.getAttribute('data-kind')).toBe('denied');
      expect(await problem.innerText()).toContain('Camera access was denied');
      expect(await view.locator('[data-testid="live-view"]').getAttribute('data-camera')).toBe('off');
      await app.close();
    } finally {
      await browser.close();
    }
  });

  it('says so when there is no camera', async () => {
    // Without the fake device Chromium sees this machine's cameras: there are none.
    const browser = await launchChromium(['--use-fake-ui-for-media-stream']);
    try {
      const app = await TestApp.open(browser, studio.url);
      const view = await app.goTo('live');
      await view.getByTestId('live-start').click();
      const problem = view.page().getByTestId('live-camera-problem');
      await problem.waitFor();
      expect(await problem.getAttribute('data-kind')).toBe('no-camera');
      expect(await problem.innerText()).toContain('No camera was found');
      await app.close();
    } finally {
      await browser.close();
    }
  });
});
