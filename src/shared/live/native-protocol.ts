// The binary channel between the live view and the native (onnxruntime-node) worker: a JSON header plus raw pixels per message.
import type { Affine } from '../faces/affine.ts';
import type { FaceDetection } from '../faces/types.ts';

/** Path of the browser host's WebSocket for native live frames (binary messages only, same token as the app). */
export const LIVE_WS_PATH = '/live';

/** Largest message either side sends: a 1920×1080 RGBA frame and its header. */
export const MAX_LIVE_MESSAGE_BYTES = 1920 * 1080 * 4 + 64 * 1024;

/** Messages from the live view. */
export type LiveClientHeader =
  /** Run this prepared student (its sha256 from `live:student`), or none. */
  | { type: 'student'; modelSha256: string | null }
  /** Track and run the student on one RGBA frame (the payload). */
  | { type: 'frame'; id: number; width: number; height: number; time: number }
  /** Time the current student on a blank crop, to choose the faster backend. */
  | { type: 'measure'; runs: number };

/** Messages from the native worker. */
export type LiveServerHeader =
  | { type: 'ready'; provider: string; threads: number }
  /** The student is loaded (or removed). */
  | { type: 'student'; modelSha256: string | null; size: number | null }
  /** One frame's tracking and the student's RGBA crop (the payload, `size`×`size`; empty without a face or student). */
  | {
      type: 'result';
      id: number;
      face: FaceDetection | null;
      toCrop: Affine | null;
      cropSize: number;
      detectMs: number;
      studentMs: number;
    }
  | { type: 'measured'; medianMs: number | null }
  | { type: 'error'; message: string };

/** One message: `[u32 header length][header JSON][payload]`. */
export function encodeLiveMessage(header: LiveClientHeader | LiveServerHeader, payload?: Uint8Array): ArrayBuffer {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(4 + json.length + (payload?.length ?? 0));
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  if (payload !== undefined) out.set(payload, 4 + json.length);
  return out.buffer;
}

/** Splits a message into its header (parsed, not yet validated) and payload; throws when it is malformed. */
export function decodeLiveMessage(bytes: Uint8Array): { header: unknown; payload: Uint8Array } {
  if (bytes.length < 4) throw new Error(`a live message needs at least 4 bytes, got ${bytes.length}`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (4 + length > bytes.length) throw new Error(`a live message header of ${length} bytes does not fit in ${bytes.length} bytes`);
  const header: unknown = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
  return { header, payload: bytes.subarray(4 + length) };
}
