// End to end in Chromium: the static consumer page (resources/consumer) opens a package, runs its model with
// onnxruntime-web on a fake webcam, and shows exactly what onnxruntime-node computes for the same camera frame.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPackageEntries } from '../../src/main/export/reader.ts';
import { writePackage, type WrittenPackage } from '../../src/main/export/writer.ts';
import { buildTinyStudent, makeSource } from '../unit/export/helpers.ts';
import { launchChromium } from './support/browser.ts';

const ROOT = process.cwd();
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

let work: string;
let written: WrittenPackage;
let server: Server;
let origin: string;
let browser: Browser;

/** What the README tells a user to do: serve the repository root over HTTP on localhost, here with node:http. */
function serveRepository(): Promise<Server> {
  const http = createServer((req, res) => {
    const path = normalize(join(ROOT, decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)));
    if (req.method !== 'GET' || !path.startsWith(ROOT + sep)) {
      res.writeHead(404).end();
      return;
    }
    void stat(path).then(
      (info) => {
        if (!info.isFile()) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'content-length': info.size });
        createReadStream(path).pipe(res);
      },
      () => void res.writeHead(404).end(),
    );
  });
  return new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve(http)));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'studio-e2e-consumer-'));
  written = await writePackage(await makeSource(buildTinyStudent()), { out: join(work, 'tiny.fxpkg'), fp16: true, studioVersion: '0.1.0' });
  server = await serveRepository();
  origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await rm(work, { recursive: true, force: true });
});

describe('the consumer page', () => {
  it('runs a package on the webcam with onnxruntime-web, matching onnxruntime-node on the same frame', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${origin}/resources/consumer/index.html`);
    await page.locator('#package').setInputFiles(written.path);
    await page.locator('#start:not([disabled])').waitFor();
    expect(await page.locator('#status').innerText()).toBe('Tiny test effect: model.onnx, input image 32×32 RGB');

    await page.locator('#start').click();
    await page.locator('#timing', { hasText: 'ms per frame' }).waitFor();
    await page.locator('#stop').click();
    await page.locator('body[data-state="stopped"]').waitFor();

    const { before, after } = await page.evaluate(() => {
      const pixels = (id: string): number[] => {
        const canvas = document.getElementById(id) as HTMLCanvasElement;
        return Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data);
      };
      return { before: pixels('before'), after: pixels('after') };
    });
    const { io } = written.manifest;
    const [, , h, w] = io.input.shape;
    expect(before).toHaveLength(w * h * 4);
    // The fake camera's frame is not blank, and the effect changed it.
    expect(new Set(before).size).toBeGreaterThan(10);
    expect(after).not.toEqual(before);

    const [lo, hi] = io.valueRange;
    const input = new Float32Array(3 * w * h);
    for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) input[c * w * h + p] = lo + (before[p * 4 + c]! / 255) * (hi - lo);
    const session = await ort.InferenceSession.create((await readPackageEntries(written.path)).get('model.onnx')!);
    const out = (await session.run({ [io.input.name]: new ort.Tensor('float32', input, io.input.shape) }))[io.output.name]!.data as Float32Array;
    await session.release();
    let worst = 0;
    for (let p = 0; p < w * h; p++) {
      for (let c = 0; c < 3; c++) {
        const level = Math.round(Math.min(1, Math.max(0, (out[c * w * h + p]! - lo) / (hi - lo))) * 255);
        worst = Math.max(worst, Math.abs(level - after[p * 4 + c]!));
      }
      expect(after[p * 4 + 3]).toBe(255);
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(problems).toEqual([]);
    await page.close();
  });
});
