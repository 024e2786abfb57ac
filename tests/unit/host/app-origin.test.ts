// Electron's sender check: only frames of studio://app (or the dev server) may call the studio.
import { describe, expect, it } from 'vitest';
import { APP_ENTRY_URL, isAllowedOrigin, originOf } from '../../../src/main/electron/app-origin.ts';

const ALLOWED = ['studio://app'];

describe('isAllowedOrigin', () => {
  it('accepts any page of the app’s own origin', () => {
    expect(isAllowedOrigin(APP_ENTRY_URL, ALLOWED)).toBe(true);
    expect(isAllowedOrigin('studio://app/assets/index.js?x=1#y', ALLOWED)).toBe(true);
  });

  it.each([
    'studio://evil/index.html',
    'studio://app.evil/index.html',
    'https://app/index.html',
    'file:///work/main/out/renderer/index.html',
    'about:blank',
    'data:text/html,<script>1</script>',
    '',
    'not a url',
  ])('refuses %s', (url) => {
    expect(isAllowedOrigin(url, ALLOWED)).toBe(false);
  });

  it('tells custom-scheme origins apart, unlike URL.origin (which is "null" for all of them)', () => {
    expect(new URL('studio://app/').origin).toBe('null');
    expect(originOf('studio://app/x')).toBe('studio://app');
    expect(originOf('studio://other/x')).toBe('studio://other');
  });

  it('accepts the dev server when it is allowed, port included', () => {
    const dev = ['studio://app', 'http://localhost:5173'];
    expect(isAllowedOrigin('http://localhost:5173/', dev)).toBe(true);
    expect(isAllowedOrigin('http://localhost:5174/', dev)).toBe(false);
  });
});
