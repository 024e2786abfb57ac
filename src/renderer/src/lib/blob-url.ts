// Where the renderer loads a stored image from: the host serves blobs by hash at /blobs/<sha256> (same origin).
/** The URL of a stored image (thumbnail, sample, preview) by its sha256. */
export function blobUrl(sha256: string): string {
  return `/blobs/${sha256}`;
}
