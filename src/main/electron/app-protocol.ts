// The `studio://app/` scheme: privileged registration before ready, and serving out/renderer with the security headers.
import { protocol } from 'electron';
import { isBlobPath, loadBlobAsset, type BlobReader } from '../host/blob-assets.ts';
import { rendererSecurityHeaders } from '../host/security-headers.ts';
import { loadStaticAsset } from '../host/static-files.ts';
import { APP_HOST, APP_SCHEME } from './app-origin.ts';

/**
 * Registers the scheme as standard (real origin, relative URLs), secure (a secure context, so WebGPU and
 * cross-origin isolation are allowed) and fetch/CORS-capable (module scripts, WASM). Must run before `ready`.
 */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, stream: true, codeCache: true },
    },
  ]);
}

/** Serves `rendererDir` (and stored images at /blobs/) at `studio://app/`, never outside it, with COOP/COEP and the strict CSP. */
export function serveRenderer(rendererDir: string, blobs: BlobReader): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const headers = rendererSecurityHeaders();
    const url = new URL(request.url);
    if (url.host !== APP_HOST || (request.method !== 'GET' && request.method !== 'HEAD')) {
      return new Response('Not found', { status: 404, headers });
    }
    // `url.pathname` is still percent-encoded: loadStaticAsset decodes it once and refuses traversal.
    const asset = isBlobPath(url.pathname) ? await loadBlobAsset(blobs, url.pathname) : await loadStaticAsset(rendererDir, url.pathname);
    if (asset.status !== 200) return new Response(asset.reason, { status: asset.status, headers });
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(asset.body), {
      status: 200,
      headers: { ...headers, 'Content-Type': asset.contentType },
    });
  });
}
