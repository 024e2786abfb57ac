// The browser host refuses anyone without this start's token, over HTTP and over the WebSocket, from a real browser too.
// Functions passed to page.evaluate run in the page, so this file is checked with the DOM types too.
/// <reference lib="dom" />
import { describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { useStudioSession } from './support/studio-session.ts';
import { TestApp } from './support/test-app.ts';

const e2e = useStudioSession('access');

/** Status of a WebSocket upgrade attempt from Node: the HTTP status it was refused with, or 101 when it opened. */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new NodeWebSocket(url);
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.once('error', (error) => {
      if (!error.message.includes('Unexpected server response')) reject(error);
    });
  });
}

describe('access to the browser host', () => {
  it('serves nothing over HTTP without the token, or with a wrong one', async () => {
    const base = `http://127.0.0.1:${e2e.studio.port}`;
    for (const path of ['/', '/index.html', '/?token=', `/?token=${'A'.repeat(e2e.studio.token.length)}`]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(401);
      expect(await response.text()).not.toContain('<script');
    }
    expect((await fetch(e2e.studio.url)).status).toBe(200);
  });

  it('refuses WebSocket upgrades without the token, or with a wrong one', async () => {
    const ws = `ws://127.0.0.1:${e2e.studio.port}/ws`;
    expect(await upgradeStatus(ws)).toBe(401);
    expect(await upgradeStatus(`${ws}?token=wrong`)).toBe(401);
    expect(await upgradeStatus(`${ws}?token=${e2e.studio.token}`)).toBe(101);
  });

  it('logs each refusal on the server', () => {
    expect(e2e.studio.stderr.some((line) => line.includes('refused GET / ') && line.includes('missing token'))).toBe(true);
    expect(e2e.studio.stderr.some((line) => line.includes('refused WebSocket'))).toBe(true);
    expect(e2e.studio.stderr.join('\n')).not.toContain(e2e.studio.token);
  });

  it('shows a browser without the token an explanation instead of the studio, and refuses its WebSocket', async () => {
    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(`http://127.0.0.1:${e2e.studio.port}/?token=wrong`);
    expect(response?.status()).toBe(401);
    expect(await page.locator('body').innerText()).toContain('effects-studio serve');
    const outcome = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const socket = new WebSocket(url);
          socket.onopen = () => resolve('open');
          socket.onclose = (event) => resolve(`closed ${event.code}`);
        }),
      `ws://127.0.0.1:${e2e.studio.port}/ws?token=wrong`,
    );
    expect(outcome).toBe('closed 1006');
    await context.close();
  });

  it('closes a page’s connection when one of its messages carries a wrong token', async () => {
    const app = await TestApp.open(e2e.browser, e2e.studio.url);
    const closeCode = await app.page.evaluate(
      (url) =>
        new Promise<number>((resolve) => {
          // The page's cookie authorises the upgrade; the message itself then carries a wrong token.
          const socket = new WebSocket(url);
          socket.onopen = () => socket.send(JSON.stringify({ type: 'invoke', id: 1, token: 'wrong', channel: 'app:info', params: [] }));
          socket.onclose = (event) => resolve(event.code);
        }),
      `ws://127.0.0.1:${e2e.studio.port}/ws`,
    );
    expect(closeCode).toBe(1008);
    await app.close();
  });
});
