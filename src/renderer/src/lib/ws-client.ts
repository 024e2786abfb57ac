// The StudioApi over the browser host's WebSocket: type-tagged JSON, the token on every message, reconnects.
import type {
  EventChannel,
  Events,
  RequestChannel,
  RequestParams,
  RequestResult,
  Result,
  StudioApi,
  StudioError,
} from '../../../shared/contract.ts';
import { WS_CLOSE_UNAUTHORIZED, type ClientMessage, type HostMessage } from '../../../main/host/wire.ts';

/** Where the connection to the studio stands. `refused`: the host rejected the token; no retry helps. */
export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'refused';

/** What the client hears from its socket. */
export interface SocketHandlers {
  onOpen(): void;
  onMessage(data: string): void;
  onClose(code: number, reason: string): void;
}

/** The little of a WebSocket the client uses, so that the browser's and Node's `ws` both fit. */
export interface SocketHandle {
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Options for {@link WebSocketStudioClient}. */
export interface WebSocketClientOptions {
  /** The host's WebSocket URL, e.g. `ws://127.0.0.1:7860/ws?token=...`. */
  url: string;
  token: string;
  /** Opens one socket and wires its handlers. */
  openSocket: (url: string, handlers: SocketHandlers) => SocketHandle;
  /** Called on every status change, with a human-readable detail for `reconnecting` and `refused`. */
  onStatus?: (status: ConnectionStatus, detail: string | null) => void;
}

interface PendingCall {
  message: string;
  isSent: boolean;
  resolve: (result: Result<unknown>) => void;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/**
 * A WebSocket client implementing {@link StudioApi}. Calls made before the first connection opens wait for it;
 * calls made while reconnecting, and calls in flight when the connection drops (they may or may not have run),
 * are answered with an error at once. Reconnects with backoff unless the host refused the token.
 */
export class WebSocketStudioClient implements StudioApi {
  readonly #options: WebSocketClientOptions;
  readonly #pending = new Map<number, PendingCall>();
  readonly #listeners = new Map<EventChannel, Set<(payload: never) => void>>();
  #socket: SocketHandle | null = null;
  #status: ConnectionStatus = 'connecting';
  #nextId = 1;
  #retryMs = FIRST_RETRY_MS;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #isDisposed = false;

  constructor(options: WebSocketClientOptions) {
    this.#options = options;
    this.#connect();
  }

  /** The current connection status. */
  get status(): ConnectionStatus {
    return this.#status;
  }

  invoke<C extends RequestChannel>(channel: C, ...params: RequestParams<C>): Promise<Result<RequestResult<C>>> {
    if (this.#status === 'refused' || this.#isDisposed) {
      return Promise.resolve(this.#failure('unauthorized', 'the studio refused this page; open the address `effects-studio serve` printed'));
    }
    // Only the first connection is waited for; once it was lost, a click should fail now rather than hang unseen.
    if (this.#status === 'reconnecting') {
      return Promise.resolve(this.#failure('internal', 'not connected to the studio (reconnecting); try again once it is back'));
    }
    const id = this.#nextId++;
    const message: ClientMessage = { type: 'invoke', id, token: this.#options.token, channel, params: [...params] };
    return new Promise((resolve) => {
      const call: PendingCall = { message: JSON.stringify(message), isSent: false, resolve: resolve as PendingCall['resolve'] };
      this.#pending.set(id, call);
      if (this.#status === 'open') this.#send(call);
    });
  }

  on<E extends EventChannel>(event: E, listener: (payload: Events[E]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    const entry = listener as (payload: never) => void;
    set.add(entry);
    return () => set.delete(entry);
  }

  /** Closes the connection for good and answers every waiting call with an error. */
  dispose(): void {
    this.#isDisposed = true;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#socket?.close(1000, 'page closed');
    this.#failPending(() => true, 'internal', 'the page closed its connection to the studio');
  }

  #connect(): void {
    this.#socket = this.#options.openSocket(this.#options.url, {
      onOpen: () => {
        this.#retryMs = FIRST_RETRY_MS;
        this.#setStatus('open', null);
        for (const call of this.#pending.values()) if (!call.isSent) this.#send(call);
      },
      onMessage: (data) => this.#receive(data),
      onClose: (code, reason) => this.#closed(code, reason),
    });
  }

  #send(call: PendingCall): void {
    call.isSent = true;
    this.#socket?.send(call.message);
  }

  #receive(data: string): void {
    let message: HostMessage;
    try {
      message = JSON.parse(data) as HostMessage;
    } catch {
      console.error('studio connection: a message from the host is not JSON');
      return;
    }
    if (message.type === 'event') {
      for (const listener of this.#listeners.get(message.event) ?? []) listener(message.payload as never);
      return;
    }
    if (message.type === 'result') {
      this.#settle(message.id, message.result);
    } else if (message.id !== null) {
      this.#settle(message.id, { ok: false, error: message.error });
    } else {
      console.error(`studio connection: the host could not read a message: ${message.error.message}`);
    }
  }

  #settle(id: number, result: Result<unknown>): void {
    const call = this.#pending.get(id);
    if (!call) return;
    this.#pending.delete(id);
    call.resolve(result);
  }

  #closed(code: number, reason: string): void {
    this.#socket = null;
    if (this.#isDisposed) return;
    if (code === WS_CLOSE_UNAUTHORIZED) {
      this.#setStatus('refused', reason || 'the studio refused the token');
      this.#failPending(() => true, 'unauthorized', 'the studio refused this page’s token');
      return;
    }
    // A call already sent may or may not have run; say so rather than silently sending it twice.
    this.#failPending((call) => call.isSent, 'internal', 'lost the connection to the studio before it answered');
    this.#setStatus('reconnecting', code === 1001 ? 'the studio shut down' : 'cannot reach the studio');
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#connect();
    }, this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
  }

  #failPending(predicate: (call: PendingCall) => boolean, code: StudioError['code'], message: string): void {
    for (const [id, call] of this.#pending) {
      if (!predicate(call)) continue;
      this.#pending.delete(id);
      call.resolve(this.#failure(code, message));
    }
  }

  #failure(code: StudioError['code'], message: string): { ok: false; error: StudioError } {
    return { ok: false, error: { code, message } };
  }

  #setStatus(status: ConnectionStatus, detail: string | null): void {
    this.#status = status;
    this.#options.onStatus?.(status, detail);
  }
}
