// The app's own origin inside Electron (the `studio://app` scheme or the dev server) and the check every sender passes.

/** The privileged custom scheme the renderer is served from. */
export const APP_SCHEME = 'studio';

/** The one host of that scheme. */
export const APP_HOST = 'app';

/** Where the built renderer's page lives. */
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/**
 * `scheme://host[:port]` of a URL, or null when it does not parse. Computed by hand because WHATWG `URL.origin`
 * is the string "null" for custom schemes, which would make every custom-scheme URL look alike.
 */
export function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.host === '' ? null : `${parsed.protocol}//${parsed.host}`;
  } catch {
    return null;
  }
}

/** Whether a URL belongs to one of the given origins (`studio://app`, or the dev server's in development). */
export function isAllowedOrigin(url: string, allowedOrigins: readonly string[]): boolean {
  const origin = originOf(url);
  return origin !== null && allowedOrigins.includes(origin);
}
