// The native live backend over the browser host's /live socket: token required, a real frame tracked and the student applied, bad input refused.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { decodePixels } from '../../../src/main/faces/pixels.ts';
import { startBrowserHost, type BrowserHost } from '../../../src/main/host/browser-host.ts';
import { Studio } from '../../../src/main/services/studio.ts';
import { decodeLiveMessage, encodeLiveMessage, LIVE_WS_PATH, type LiveClientHeader, type LiveServerHeader } from '../../../src/shared/live/native-protocol.ts';
import type { LiveStudentModel } from '../../../src/shared/live/types.ts';
import { makeTrainedRun, type TrainedRun } from './trained-run.ts';

const ASTRONAUT = fileURLToPath(new URL('../../fixtures/faces/astronaut.png', import.meta.url));
const EYES = [
  { x: 203.1, y: 101.1 },
  { x: 246.7, y: 103.4 },
];

let dataDir: string;
let studio: Studio;
let host: BrowserHost;
let trained: TrainedRun;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'studio-live-native-'));
  trained = await makeTrainedRun(dataDir, { size: 64, width: 0.25, activation: 'relu6', residualScale: 1 }, 4);
  studio = await Studio.open({ dataDir, host: 'browser', version: '0.0.0-test', log: () => {} });
  host = await startBrowserHost({ studio, rendererDir: dataDir, blobs: studio.blobs, log: () => {}, live: { open: (send) => studio.openNativeLive(send) } });
}, 60_000);

afterAll(async () => {
  await host?.close();
  await studio?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** A live socket whose replies can be awaited in order. */
async function connect(token: string | null): Promise<{ next(): Promise<{ header: LiveServerHeader; payload: Uint8Array }>; send(h: LiveClientHeader, p?: Uint8Array): void; raw: WebSocket }> {
  const url = `ws://127.0.0.1:${host.port}${LIVE_WS_PATH}${token === null ? '' : `?token=${token}`}`;
  const ws = new WebSocket(url, { origin: `http://127.0.0.1:${host.port}` });
  const queue: { header: LiveServerHeader; payload: Uint8Array }[] = [];
  const waiters: ((m: { header: LiveServerHeader; payload: Uint8Array }) => void)[] = [];
  ws.on('message', (data: Buffer) => {
    const { header, payload } = decodeLiveMessage(new Uint8Array(data));
    const message = { header: header as LiveServerHeader, payload };
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    next: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiters.push(resolve))),
    send: (h, p) => ws.send(encodeLiveMessage(h, p)),
    raw: ws,
  };
}

describe('the native live backend', () => {
  it('refuses a live socket without the token', async () => {
    await expect(connect(null)).rejects.toThrow(/401/);
  });

  it('tracks the astronaut and returns the student crop, in order, on onnxruntime-node', async () => {
    const model = (await studio.handle('live:student', [{ kind: 'run', runId: trained.runId }])) as { ok: true; value: LiveStudentModel };
    const live = await connect(host.token);
    try {
      const ready = await live.next();
      expect(ready.header).toMatchObject({ type: 'ready', provider: 'cpu' });
      live.send({ type: 'student', modelSha256: model.value.modelSha256 });
      expect((await live.next()).header).toEqual({ type: 'student', modelSha256: model.value.modelSha256, size: 64 });

      const rgb = await decodePixels(ASTRONAUT);
      const rgba = new Uint8Array(512 * 512 * 4);
      for (let i = 0; i < 512 * 512; i++) rgba.set([...rgb.data.subarray(i * 3, i * 3 + 3), 255], i * 4);
      live.send({ type: 'frame', id: 7, width: 512, height: 512, time: 0 }, rgba);
      const result = await live.next();
      if (result.header.type !== 'result') throw new Error(`expected a result, got ${JSON.stringify(result.header)}`);
      expect(result.header.id).toBe(7);
      const box = result.header.face!.box;
      for (const eye of EYES) {
        expect(eye.x).toBeGreaterThan(box.x);
        expect(eye.x).toBeLessThan(box.x + box.width);
        expect(eye.y).toBeGreaterThan(box.y);
        expect(eye.y).toBeLessThan(box.y + box.height);
      }
      expect(result.header.cropSize).toBe(64);
      expect(result.payload.length).toBe(64 * 64 * 4);
      expect(result.header.toCrop).toHaveLength(6);

      live.send({ type: 'measure', runs: 3 });
      const measured = await live.next();
      expect(measured.header.type).toBe('measured');
      expect((measured.header as { medianMs: number }).medianMs).toBeGreaterThan(0);

      // A frame whose pixels do not match its size is refused with the sizes named, and the socket stays usable.
      live.send({ type: 'frame', id: 8, width: 512, height: 512, time: 0.1 }, rgba.subarray(0, 100));
      expect((await live.next()).header).toEqual({ type: 'error', message: 'a 512×512 RGBA frame has 1048576 bytes, this one 100' });
      live.send({ type: 'student', modelSha256: 'f'.repeat(64) });
      expect((await live.next()).header).toMatchObject({ type: 'error', message: expect.stringContaining('no live model ffffffffffff') });
      live.raw.send('{"type":"frame"}');
      await new Promise<void>((resolve) => live.raw.once('close', (code: number) => (expect(code).toBe(1003), resolve())));
    } finally {
      live.raw.close();
    }
  }, 60_000);

  it('survives views that close while their worker is starting or busy with a frame, and serves the next one', async () => {
    // Terminating a worker inside onnxruntime aborts the whole process; a closed view must let its worker finish instead.
    const model = (await studio.handle('live:student', [{ kind: 'run', runId: trained.runId }])) as { ok: true; value: LiveStudentModel };
    const rgba = new Uint8Array(256 * 256 * 4).fill(128);
    for (const delayMs of [0, 40, 120, 300]) {
      const live = await connect(host.token);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      live.raw.close();
    }
    const busy = await connect(host.token);
    await busy.next();
    busy.send({ type: 'student', modelSha256: model.value.modelSha256 });
    busy.send({ type: 'frame', id: 1, width: 256, height: 256, time: 0 }, rgba);
    busy.raw.close();

    const live = await connect(host.token);
    try {
      expect((await live.next()).header).toMatchObject({ type: 'ready', provider: 'cpu' });
      live.send({ type: 'frame', id: 2, width: 256, height: 256, time: 0 }, rgba);
      expect((await live.next()).header).toMatchObject({ type: 'result', id: 2 });
    } finally {
      live.raw.close();
    }
  }, 60_000);
});
