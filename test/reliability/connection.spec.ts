/**
 * Web mode's page and its server: when the server is gone the page says "connection lost —
 * reconnecting" and carries on by itself when it is back; a tab whose server was restarted (a new
 * token and base path, even on the same port) says to open the new link instead of showing 401s.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { startServer } from '../e2e/server';

test('a lost server shows the reconnecting banner; a restarted one asks for its new link', async ({ browser }) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-rel-conn-'));
  let server = await startServer(home);
  const port = server.port;
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.url);
    await expect(page.locator('#project-name')).toBeVisible();
    await expect(page.getByTestId('connection-banner')).toHaveCount(0);

    // The server stops: the page says so at once.
    await server.stop();
    await expect(page.getByTestId('connection-banner')).toContainText('Connection lost — reconnecting', { timeout: 5000 });

    // A new server on the same port has a new token and base path: this tab's link is no longer valid.
    server = await startServer(home, port);
    expect(server.port).toBe(port);
    await expect(page.getByTestId('connection-banner')).toContainText('open the new link', { timeout: 15_000 });
    await expect(page.getByTestId('connection-banner')).not.toContainText('reconnecting');

    // The new link works in the same browser.
    await page.goto(server.url);
    await expect(page.locator('#project-name')).toBeVisible();
    await expect(page.getByTestId('connection-banner')).toHaveCount(0);
    await context.close();
  } finally {
    await server.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('the page recovers by itself when the same server is reachable again', async ({ browser }) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-rel-conn-'));
  const server = await startServer(home);
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    // The event socket passes through to the server; routed, so the test can drop it.
    const sockets: { close: () => Promise<void> }[] = [];
    await page.routeWebSocket(/\/events$/, (ws) => {
      ws.connectToServer();
      sockets.push(ws);
    });
    await page.goto(server.url);
    await expect(page.locator('#project-name')).toBeVisible();
    await expect.poll(() => sockets.length).toBe(1);

    // Cut the link between page and server without stopping the server (as a network that drops):
    // offline, and the open event socket closed.
    await context.setOffline(true);
    await Promise.all(sockets.splice(0).map((ws) => ws.close()));
    await expect(page.getByTestId('connection-banner')).toContainText('Connection lost — reconnecting', { timeout: 8000 });
    // Still retrying, and still the same message (not the "new link" one).
    await page.waitForTimeout(1500);
    await expect(page.getByTestId('connection-banner')).toContainText('reconnecting');

    await context.setOffline(false);
    await expect(page.getByTestId('connection-banner')).toHaveCount(0, { timeout: 15_000 });
    await expect(page.locator('#project-name')).toBeVisible();
    await context.close();
  } finally {
    await server.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
});
