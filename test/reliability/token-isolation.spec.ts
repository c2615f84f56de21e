/**
 * Web mode's access token must reach no other program. Browsers do not separate cookies by port, so
 * any other server on 127.0.0.1 (another user's notebook, a dev server) is sent every cookie the
 * browser holds for 127.0.0.1 whose Path matches. This opens the real printed link in Chromium, uses
 * the app, then points the same browser context at a second loopback server that records every
 * request, and checks that nothing it received carries the token, the random base path or any cookie.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type Page, expect, test } from '@playwright/test';
import { makeImageFolder } from '../helpers/images';
import { createProjectWithImages, startServer } from '../e2e/server';

interface Recorded {
  kind: 'http' | 'upgrade';
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** A loopback server that records every request (and WebSocket handshake) and serves a page that makes more. */
async function startRecorder(): Promise<{ port: number; origin: string; requests: Recorded[]; close: () => Promise<void> }> {
  const requests: Recorded[] = [];
  const page = `<!doctype html><title>other local server</title><body>other server
<script>
  // Same-site requests from a page of the other server, with credentials wherever the API allows them.
  const paths = ['/probe', '/s/', '/api/app.info', '/media/thumb/1', '/assets/x.js'];
  Promise.all([
    ...paths.map((p) => fetch(p, { credentials: 'include' }).catch(() => null)),
    fetch('/api/app.info', { method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json' }, body: '{}' }).catch(() => null),
    new Promise((resolve) => {
      const ws = new WebSocket('ws://' + location.host + '/events');
      ws.onerror = ws.onclose = () => resolve(null);
      setTimeout(resolve, 2000);
    })
  ]).then(() => { document.body.dataset.done = 'yes'; });
</script></body>`;
  const server = http.createServer((req, res) => {
    requests.push({ kind: 'http', method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    if (req.url === '/' || req.url?.startsWith('/page')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end(page);
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('nothing here');
  });
  server.on('upgrade', (req, socket) => {
    requests.push({ kind: 'upgrade', method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })
  };
}

/** The workspace is up and talking to its server: the open project and its images listed, a thumbnail loaded. */
async function expectAppWorks(page: Page, tiles: number): Promise<void> {
  await expect(page.getByTestId('tile')).toHaveCount(tiles);
  const thumb = page.getByTestId('tile').first().locator('img');
  await expect(thumb).toHaveAttribute('src', /^media\/thumb\/\d+$/);
  await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
}

test('the access token and its cookie reach no other server on 127.0.0.1', async ({ browser }) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-rel-token-'));
  await makeImageFolder(path.join(home, 'images'), ['ant', 'bee'], 2);
  const server = await startServer(home);
  const recorder = await startRecorder();
  const token = new URL(server.url).searchParams.get('token')!;
  const basePath = new URL(server.base).pathname;
  const secretPart = basePath.split('/')[2]!;
  try {
    expect(token.length).toBeGreaterThanOrEqual(24);
    expect(basePath).toMatch(/^\/s\/[A-Za-z0-9_-]{22}\/$/);

    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));

    // Open the printed link: the token is traded for a cookie and dropped from the address bar.
    await page.goto(server.url);
    expect(page.url()).toBe(server.base);
    await expect(page.locator('#project-name')).toBeVisible();
    // The start page's app.info call answered (the version is the server's).
    await expect(page.locator('footer')).toContainText(/Version \d\S* · web mode/);
    // Create a project and import through the UI: API calls, import progress over the socket, thumbnails.
    await createProjectWithImages(page, home, 'Isolation', { folder: path.join(home, 'images') });
    await expect(page.getByTestId('import-summary')).toContainText('Imported 4 images');
    await page.getByRole('button', { name: 'Done' }).click();
    await expectAppWorks(page, 4);
    expect(sockets).toContain(`ws://127.0.0.1:${server.port}${basePath}events`);
    // The page's own API call, relative to the page, with the cookie.
    const info = await page.evaluate(async () => {
      const r = await fetch('api/app.info', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '' });
      return { status: r.status, body: await r.json() };
    });
    expect(info).toMatchObject({ status: 200, body: { ok: true, value: { mode: 'web' } } });

    const cookies = await context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ domain: '127.0.0.1', path: basePath, httpOnly: true, sameSite: 'Strict', value: token });
    // JavaScript on any page cannot read it.
    expect(await page.evaluate(() => document.cookie)).toBe('');

    // Now the same browser visits another program on 127.0.0.1: pages, typed paths, fetches and a socket from its page.
    const visits = ['/', '/s/', '/api/app.info', '/events', '/media/thumb/1', `/s/${secretPart.slice(0, -1)}x/`, '/page?from=link'];
    for (const visit of visits) {
      await page.goto(recorder.origin + visit);
    }
    await page.goto(recorder.origin + '/');
    await expect(page.locator('body')).toHaveAttribute('data-done', 'yes');
    // And it follows a link from our app to the other server (the Referer must not carry the base path).
    await page.goto(server.base);
    await page.evaluate((href) => {
      const a = document.createElement('a');
      a.href = href;
      document.body.append(a);
      a.click();
    }, `${recorder.origin}/page?from=app`);
    await page.waitForURL(`${recorder.origin}/page?from=app`);
    await expect(page.locator('body')).toHaveAttribute('data-done', 'yes');

    const seen = [...recorder.requests];
    expect(seen.filter((r) => r.kind === 'http').length).toBeGreaterThanOrEqual(visits.length + 8);
    expect(seen.some((r) => r.kind === 'upgrade')).toBe(true);
    expect(seen.some((r) => r.url === '/page?from=app')).toBe(true);
    for (const r of seen) {
      const where = `${r.kind} ${r.method} ${r.url}`;
      expect(r.headers.cookie, where).toBeUndefined();
      const all = JSON.stringify(r.headers);
      expect(all, where).not.toContain(token);
      expect(all, where).not.toContain(encodeURIComponent(token));
      expect(all, where).not.toContain(secretPart);
      expect(all, where).not.toContain('mocoop_token');
      expect(r.url, where).not.toContain(token);
    }

    // Back in the app, a reload and a deep link still work, with the cookie alone.
    await page.goto(server.base);
    await expectAppWorks(page, 4);
    await page.reload();
    expect(page.url()).toBe(server.base);
    await expectAppWorks(page, 4);
    await page.goto(server.base + 'labels?view=all');
    await expectAppWorks(page, 4);
    await page.reload();
    await expectAppWorks(page, 4);
    // Outside the base path our server says nothing, cookie or not.
    const outside = await page.goto(server.origin + '/');
    expect(outside?.status()).toBe(404);
    expect(await page.locator('body').innerText()).toBe('Not found.');

    // Control: a server that knew the base path would be sent the cookie (cookies ignore ports), so the
    // checks above would catch a leak. This is why the base path is random and never leaves the link.
    const before = recorder.requests.length;
    await page.goto(recorder.origin + basePath);
    const control = recorder.requests.slice(before).find((r) => r.url === basePath);
    expect(control?.headers.cookie).toContain(encodeURIComponent(token));

    expect(errors).toEqual([]);
    await context.close();
  } finally {
    await recorder.close();
    await server.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
});
