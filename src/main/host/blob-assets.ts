// Serves stored images (thumbnails, previews) by hash at /blobs/<sha256> for both hosts; nothing but images leaves.
import { BlobCorruptError, BlobMissingError } from '../core/blob-store.ts';
import type { StaticAsset } from './static-files.ts';

/** The URL path prefix the renderer loads blobs from (see src/renderer/src/lib/blob-url.ts). */
export const BLOB_PATH_PREFIX = '/blobs/';

/** What the hosts need from the blob store. */
export interface BlobReader {
  read(sha256: string): Promise<Buffer>;
}

/** Image type by magic bytes; null for anything else (checkpoints, latents and models are never served). */
export function imageContentType(bytes: Buffer): string | null {
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return null;
}

/** True when the URL path is under {@link BLOB_PATH_PREFIX}. */
export function isBlobPath(urlPath: string): boolean {
  return urlPath.startsWith(BLOB_PATH_PREFIX);
}

/** The verified image blob for `/blobs/<sha256>`, or why there is none (a corrupt blob is refused, not served). */
export async function loadBlobAsset(blobs: BlobReader, urlPath: string): Promise<StaticAsset> {
  const sha = urlPath.slice(BLOB_PATH_PREFIX.length);
  if (!/^[0-9a-f]{64}$/.test(sha)) return { status: 400, reason: 'a blob path is /blobs/ and 64 lower-case hex digits' };
  let bytes: Buffer;
  try {
    bytes = await blobs.read(sha);
  } catch (error) {
    if (error instanceof BlobMissingError) return { status: 404, reason: 'no such blob' };
    if (error instanceof BlobCorruptError) return { status: 404, reason: `blob ${sha} is corrupt: its bytes no longer match its hash` };
    throw error;
  }
  const contentType = imageContentType(bytes);
  if (contentType === null) return { status: 404, reason: 'blob is not an image' };
  return { status: 200, body: bytes, contentType };
}
