// The native live backend seen from the page: frames go to main's onnxruntime-node worker over a binary channel, crops come back.
import type { PixelImage } from '../../../shared/faces/warp.ts';
import {
  decodeLiveMessage,
  encodeLiveMessage,
  LIVE_WS_PATH,
  type LiveClientHeader,
  type LiveServerHeader,
} from '../../../shared/live/native-protocol.ts';
import { alignedFrameCrop, compositeFrame, type LiveFrame } from '../../../shared/live/pipeline.ts';
import type { FrameProcessor } from './live-loop.ts';

/** The window message (and IPC channel) that carries Electron's MessagePort; see `requestLivePort` in the contract. */
const LIVE_PORT_MESSAGE = 'studio:live-port';
/** How long the worker may take to load its models. */
const OPEN_TIMEOUT_MS = 30_000;

interface Channel {
  send(data: ArrayBuffer): void;
  close(): void;
}

type Reply = { header: LiveServerHeader; payload: Uint8Array };

/** A connection to one native worker; frames are answered in the order they are sent. */
export class NativeBackend implements FrameProcessor {
  readonly provider: string;
  readonly threads: number;
  readonly #channel: Channel;
  readonly #pending: { type: LiveServerHeader['type']; resolve(reply: Reply): void; reject(error: Error): void }[] = [];
  #nextId = 0;
  #isClosed = false;
  /** Called when the connection fails outside any request (the worker died, the studio closed). */
  onFailure: ((message: string) => void) | null = null;

  private constructor(channel: Channel, ready: { provider: string; threads: number }) {
    this.#channel = channel;
    this.provider = ready.provider;
    this.threads = ready.threads;
  }

  /** Connects (Electron: a MessagePort from the preload; browser: the host's live WebSocket) and waits for the worker. */
  static async open(): Promise<NativeBackend> {
    let backend: NativeBackend | null = null;
    let onReady: ((reply: Reply) => void) | null = null;
    let onFail: ((message: string) => void) | null = null;
    const deliver = (bytes: ArrayBuffer): void => {
      const { header, payload } = decodeLiveMessage(new Uint8Array(bytes));
      const reply = { header: header as LiveServerHeader, payload };
      if (backend === null) onReady?.(reply);
      else backend.#receive(reply);
    };
    const fail = (message: string): void => {
      if (backend === null) onFail?.(message);
      else backend.#fail(message);
    };
    const channel = await openChannel(deliver, fail);
    const ready = await new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the native backend did not start in time')), OPEN_TIMEOUT_MS);
      onReady = (reply) => {
        clearTimeout(timer);
        if (reply.header.type === 'ready') resolve(reply);
        else reject(new Error(reply.header.type === 'error' ? reply.header.message : `unexpected ${reply.header.type} before ready`));
      };
      onFail = (message) => {
        clearTimeout(timer);
        reject(new Error(message));
      };
    }).catch((error: unknown) => {
      channel.close();
      throw error;
    });
    const header = ready.header as Extract<LiveServerHeader, { type: 'ready' }>;
    backend = new NativeBackend(channel, header);
    return backend;
  }

  /** Loads a prepared student (by its sha256 from `live:student`) into the worker, or removes it. */
  async setStudent(modelSha256: string | null): Promise<void> {
    await this.#request({ type: 'student', modelSha256 }, 'student');
  }

  /** Median milliseconds of the worker's student on a blank crop (null without a student). */
  async measure(runs: number): Promise<number | null> {
    const { header } = await this.#request({ type: 'measure', runs }, 'measured');
    return (header as Extract<LiveServerHeader, { type: 'measured' }>).medianMs;
  }

  async process(frame: PixelImage, time: number, options: { wantCrop: boolean }): Promise<LiveFrame> {
    const data = frame.data;
    const { header, payload } = await this.#request(
      { type: 'frame', id: this.#nextId++, width: frame.width, height: frame.height, time },
      'result',
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    const result = header as Extract<LiveServerHeader, { type: 'result' }>;
    const cropOut: PixelImage | null = result.cropSize > 0 ? { data: payload, width: result.cropSize, height: result.cropSize, channels: 4 } : null;
    const { output, ms } = compositeFrame(frame, cropOut, result.toCrop === null ? null : { toCrop: result.toCrop });
    const crop = options.wantCrop && result.face !== null ? alignedFrameCrop(frame, result.face, result.cropSize || 256) : null;
    return {
      face: result.face,
      alignment: crop?.alignment ?? null,
      crop: crop?.crop ?? null,
      cropOut,
      output,
      timings: { detect: result.detectMs, student: result.studentMs, composite: ms },
    };
  }

  /** The worker smooths over time itself and restarts on a jump (a mirror flip is one). */
  resetTracking(): void {}

  /** Closes the channel; the worker stops. */
  close(): void {
    this.#isClosed = true;
    this.#channel.close();
    this.#fail('the native backend was closed');
  }

  #request(header: LiveClientHeader, expect: LiveServerHeader['type'], payload?: Uint8Array): Promise<Reply> {
    if (this.#isClosed) return Promise.reject(new Error('the native backend is closed'));
    return new Promise((resolve, reject) => {
      this.#pending.push({ type: expect, resolve, reject });
      this.#channel.send(encodeLiveMessage(header, payload));
    });
  }

  #receive(reply: Reply): void {
    if (reply.header.type === 'error') {
      const head = this.#pending.shift();
      if (head) head.reject(new Error(reply.header.message));
      else this.onFailure?.(reply.header.message);
      return;
    }
    const head = this.#pending[0];
    if (head === undefined || head.type !== reply.header.type) return this.#fail(`the native backend answered ${reply.header.type} out of turn`);
    this.#pending.shift();
    head.resolve(reply);
  }

  #fail(message: string): void {
    const waiting = this.#pending.splice(0);
    for (const p of waiting) p.reject(new Error(message));
    if (waiting.length === 0 && !this.#isClosed) this.onFailure?.(message);
  }
}

/** Opens the binary channel to main; `deliver` gets each message, `fail` a closed or broken channel. */
function openChannel(deliver: (data: ArrayBuffer) => void, fail: (message: string) => void): Promise<Channel> {
  const studio = window.studio;
  if (studio !== undefined) {
    if (studio.requestLivePort === undefined) return Promise.reject(new Error('this desktop build has no native live backend'));
    return new Promise((resolve) => {
      const onMessage = (event: MessageEvent): void => {
        const port = event.ports[0];
        if (event.source !== window || event.data !== LIVE_PORT_MESSAGE || port === undefined) return;
        window.removeEventListener('message', onMessage);
        port.onmessage = (e: MessageEvent) => deliver(e.data as ArrayBuffer);
        port.start();
        resolve({ send: (data) => port.postMessage(data, [data]), close: () => port.close() });
      };
      window.addEventListener('message', onMessage);
      studio.requestLivePort!();
    });
  }
  return new Promise((resolve, reject) => {
    const token = new URLSearchParams(window.location.search).get('token') ?? '';
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${window.location.host}${LIVE_WS_PATH}?token=${encodeURIComponent(token)}`);
    socket.binaryType = 'arraybuffer';
    let isOpen = false;
    socket.onopen = () => {
      isOpen = true;
      resolve({ send: (data) => socket.send(data), close: () => socket.close(1000, 'done') });
    };
    socket.onmessage = (event: MessageEvent) => {
      if (event.data instanceof ArrayBuffer) deliver(event.data);
    };
    socket.onclose = (event: CloseEvent) => {
      const message = `the native backend connection closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`;
      if (isOpen) fail(message);
      else reject(new Error(message));
    };
  });
}
