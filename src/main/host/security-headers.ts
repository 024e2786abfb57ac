// HTTP headers every renderer response carries, in Electron's custom scheme and in the browser host alike.

/** Options for {@link rendererSecurityHeaders}. */
export interface SecurityHeaderOptions {
  /** Extra `connect-src` sources beyond `'self'` (the browser host adds its own ws:// origin). */
  connectSources?: readonly string[];
}

/**
 * Headers for a renderer document or asset: cross-origin isolation (COOP `same-origin` + COEP `require-corp`,
 * so that WASM threads and SharedArrayBuffer work), a strict CSP that allows only the app's own code
 * (plus WASM compilation), and no referrer so that a token in the page URL never leaks.
 */
export function rendererSecurityHeaders(options: SecurityHeaderOptions = {}): Record<string, string> {
  const connect = ["'self'", ...(options.connectSources ?? [])].join(' ');
  const csp = [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'Content-Security-Policy': csp,
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  };
}
