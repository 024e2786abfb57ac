// One live view's native backend: checks every binary message from the (untrusted) renderer and relays it to its own ORT worker.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { spawnJobWorker } from '../jobs/job-worker-entry.ts';
import { decodeLiveMessage, encodeLiveMessage, type LiveServerHeader } from '../../shared/live/native-protocol.ts';
import type { StudentIo } from '../../shared/live/pipeline.ts';
import type { PreparedModel } from './student-source.ts';

/** Main → worker. */
export type NativeWorkerRequest =
  | { kind: 'student'; model: (StudentIo & { sha: string; bytes: Uint8Array; size: number; inputName: string; outputName: string }) | null }
  | { kind: 'frame'; id: number; width: number; height: number; time: number; pixels: ArrayBuffer }
  | { kind: 'measure'; runs: number }
  | { kind: 'close' };

/** Worker → main: one encoded message for the renderer. */
export interface NativeWorkerReply {
  data: ArrayBuffer;
}

/** Largest frame side accepted (a 1080p camera fits). */
const MAX_SIDE = 1920;
/** How long a closing worker may take to finish its request and release its sessions before it is terminated. */
const CLOSE_GRACE_MS = 10_000;
/** Frames waiting for the worker at most; the view sends one at a time, so more means a misbehaving client. */
const MAX_IN_FLIGHT = 2;

const headerSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('student'), modelSha256: z.string().regex(/^[0-9a-f]{64}$/).nullable() }),
  z.strictObject({
    type: z.literal('frame'),
    id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    width: z.number().int().min(16).max(MAX_SIDE),
    height: z.number().int().min(16).max(MAX_SIDE),
    time: z.number().finite().min(0),
  }),
  z.strictObject({ type: z.literal('measure'), runs: z.number().int().min(1).max(50) }),
]);

/** URL of the worker entry next to this module: the .ts source under tsx, or electron-vite's out/main/live-worker.js. */
export function nativeWorkerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL('./native-worker.ts', here);
  const candidates = [new URL('./live-worker.js', here), new URL('../live-worker.js', here)];
  const found = candidates.find((url) => existsSync(fileURLToPath(url)));
  if (!found) throw new Error(`The live worker bundle is missing; looked for ${candidates.map((u) => fileURLToPath(u)).join(' and ')}`);
  return found;
}

/** The native backend of one connected live view. */
export class NativeLiveSession {
  readonly #models: { prepared(sha256: string): PreparedModel | null };
  readonly #send: (data: ArrayBuffer) => void;
  readonly #worker: Worker;
  readonly #log: (line: string) => void;
  #inFlight = 0;
  #isClosed = false;

  /** Starts the worker; `send` delivers an encoded message to the renderer. */
  constructor(models: { prepared(sha256: string): PreparedModel | null }, send: (data: ArrayBuffer) => void, log: (line: string) => void) {
    this.#models = models;
    this.#send = send;
    this.#log = log;
    this.#worker = spawnJobWorker(nativeWorkerUrl(), 'live-native');
    this.#worker.on('message', (reply: NativeWorkerReply) => {
      const { header } = decodeLiveMessage(new Uint8Array(reply.data));
      if ((header as LiveServerHeader).type === 'result') this.#inFlight = Math.max(0, this.#inFlight - 1);
      if (!this.#isClosed) this.#send(reply.data);
    });
    this.#worker.on('error', (error) => {
      log(`live: native worker failed: ${error.message}`);
      this.#fail(`the native backend stopped: ${error.message}`);
    });
  }

  /** Handles one binary message from the renderer; a malformed one is answered with an error, never forwarded. */
  receive(bytes: Uint8Array): void {
    if (this.#isClosed) return;
    let decoded: { header: unknown; payload: Uint8Array };
    try {
      decoded = decodeLiveMessage(bytes);
    } catch (error) {
      return this.#fail(error instanceof Error ? error.message : String(error));
    }
    const parsed = headerSchema.safeParse(decoded.header);
    if (!parsed.success) return this.#fail(`unexpected live message: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const header = parsed.data;
    switch (header.type) {
      case 'student': {
        if (header.modelSha256 === null) return this.#post({ kind: 'student', model: null });
        const model = this.#models.prepared(header.modelSha256);
        if (model === null) return this.#fail(`no live model ${header.modelSha256.slice(0, 12)}… is prepared; ask for the student again`);
        const { sha256, bytes, size, inputName, outputName, colorOrder, valueRange } = model;
        return this.#post({ kind: 'student', model: { sha: sha256, bytes, size, inputName, outputName, colorOrder, valueRange } });
      }
      case 'frame': {
        const expected = header.width * header.height * 4;
        if (decoded.payload.length !== expected) {
          return this.#fail(`a ${header.width}×${header.height} RGBA frame has ${expected} bytes, this one ${decoded.payload.length}`);
        }
        if (this.#inFlight >= MAX_IN_FLIGHT) return this.#fail('frames arrive faster than they are answered; send the next one after the result');
        this.#inFlight++;
        // A fresh copy to transfer: the socket's Buffer is a view into memory the worker must not take.
        const pixels = new Uint8Array(decoded.payload).buffer;
        return this.#post({ kind: 'frame', id: header.id, width: header.width, height: header.height, time: header.time, pixels }, [pixels]);
      }
      case 'measure':
        return this.#post({ kind: 'measure', runs: header.runs });
    }
  }

  /**
   * Stops the worker. Terminating a worker inside onnxruntime (a session being created or run) aborts the whole
   * process, so the worker is asked to finish, release its sessions and exit; it is terminated only if it hangs.
   */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    if (this.#worker.threadId === -1) return;
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    this.#post({ kind: 'close' });
    const timer = setTimeout(() => {
      this.#log(`live: the native worker did not exit within ${CLOSE_GRACE_MS} ms of being closed; terminating it`);
      void this.#worker.terminate();
    }, CLOSE_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  #post(request: NativeWorkerRequest, transfer: ArrayBuffer[] = []): void {
    this.#worker.postMessage(request, transfer);
  }

  #fail(message: string): void {
    if (!this.#isClosed) this.#send(encodeLiveMessage({ type: 'error', message }));
  }
}
