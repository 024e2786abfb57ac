// The browser host's WebSocket wire format: `type`-tagged JSON messages carrying the StudioApi contract.
// Pure TypeScript (no node:, no runtime imports) so that the renderer's WebSocket client can import its types.
import type { EventChannel, Events, Result, StudioError } from '../../shared/contract.ts';

/** Path of the WebSocket endpoint on the browser host. */
export const WS_PATH = '/ws';

/** Largest WebSocket message either side accepts, in bytes; bigger ones close the connection (code 1009). */
export const MAX_WS_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Close code the host uses when a connection or message carries a wrong or missing token. */
export const WS_CLOSE_UNAUTHORIZED = 1008;

/** Client → host: call one request channel. Every message carries the session token. */
export interface InvokeMessage {
  type: 'invoke';
  /** Chosen by the client to match the answer to the call. */
  id: number;
  token: string;
  channel: string;
  /** The request's parameters as the contract's named tuple. */
  params: unknown[];
}

/** Host → client: the answer to one `invoke`. */
export interface ResultMessage {
  type: 'result';
  id: number;
  result: Result<unknown>;
}

/** Host → client: an event pushed by the studio. */
export type EventMessage = {
  [E in EventChannel]: { type: 'event'; event: E; payload: Events[E] };
}[EventChannel];

/** Host → client: a message that could not be matched to a call (malformed JSON, wrong shape, binary frame). */
export interface ErrorMessage {
  type: 'error';
  /** The call's id when it could be read from the malformed message, else null. */
  id: number | null;
  error: StudioError;
}

/** Every message the client sends. */
export type ClientMessage = InvokeMessage;

/** Every message the host sends. */
export type HostMessage = ResultMessage | EventMessage | ErrorMessage;
