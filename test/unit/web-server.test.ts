import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import readline from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { AppServices } from '../../src-main/services/app-services';
import { type WebServer, startWebServer } from '../../src-main/transport/web-server';
import { makeImageFolder } from '../helpers/images';
import { tempDir } from '../helpers/temp';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

let tmp: ReturnType<typeof tempDir>;
let services: AppServices;
let staticDir: string;
let imageFile: string;
let server: WebServer;
let log: ReturnType<typeof vi.fn<(error: unknown) => void>>;
const INDEX_HTML = '<!doctype html><html><head><title>MoCoOp test shell</title></head><body>app</body></html>';
const SECRET = 'top-secret-outside-the-static-dir';

/** A raw HTTP request (so Host, Origin and odd paths are sent exactly as given). */
function request(options: { method?: string; path?: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          // No response of this server may opt in to cross-origin reads.
          expect(res.headers['access-control-allow-origin']).toBeUndefined();
          expect(res.headers['access-control-allow-credentials']).toBeUndefined();
          resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString('utf8') });
        });
      }
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

const bearer = () => ({ Authorization: `Bearer ${server.token}` });
const api = (name: string, headers: Record<string, string>, input?: unknown) =>
  request({
    method: 'POST',
    path: `/api/${name}`,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: input === undefined ? '' : JSON.stringify(input)
  });

beforeAll(async () => {
  tmp = tempDir('mocoop-web-');
  staticDir = path.join(tmp.dir, 'static');
  fs.mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(staticDir, 'index.html'), INDEX_HTML);
  fs.writeFileSync(path.join(staticDir, 'assets', 'app-123.js'), 'console.log("app");');
  fs.writeFileSync(path.join(tmp.dir, 'secret.txt'), SECRET);
  fs.writeFileSync(path.join(tmp.dir, 'static-evil.txt'), SECRET);
  const files = await makeImageFolder(path.join(tmp.dir, 'images'), ['cats'], 2, 300);
  imageFile = files.cats![0]!;
  services = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config'), version: 'web-test' });
  services.createProject(path.join(tmp.dir, 'web.mocoop'));
  const summary = await services.importSource('setup', { kind: 'folder', dir: path.join(tmp.dir, 'images') });
  expect(summary.imported).toBe(2);
});

afterAll(() => {
  services.closeProject();
  tmp.cleanup();
});

beforeEach(async () => {
  log = vi.fn<(error: unknown) => void>();
  server = await startWebServer({ services, staticDir, port: 0, log });
});

afterEach(async () => {
  await server.close();
});

describe('authentication', () => {
  it('starts on a free loopback port with a token in its access link', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.origin).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.url).toBe(`${server.origin}/?token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(24);
  });

  it('refuses requests without a token or with a wrong one', async () => {
    const page = await request({ path: '/' });
    expect(page.status).toBe(401);
    expect(page.text).not.toContain('MoCoOp test shell');
    expect((await api('app.info', {})).status).toBe(401);
    expect((await api('app.info', { Authorization: 'Bearer wrong-token' })).status).toBe(401);
    expect((await api('app.info', { Authorization: `Bearer ${server.token}x` })).status).toBe(401);
    expect((await api('app.info', { Authorization: server.token })).status).toBe(401);
    expect((await api('app.info', { Cookie: `mocoop_token_${server.port}=nope` })).status).toBe(401);
    expect((await request({ path: '/?token=wrong' })).status).toBe(401);
    expect((await request({ path: '/media/thumb/1' })).status).toBe(401);
  });

  it('accepts the bearer token and answers with an ok envelope', async () => {
    const reply = await api('app.info', bearer());
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(reply.text)).toMatchObject({ ok: true, value: { version: 'web-test', mode: 'web' } });
    const classes = JSON.parse((await api('classes.list', bearer())).text);
    expect(classes).toEqual({ ok: true, value: [expect.objectContaining({ name: 'cats', imageCount: 2 })] });
  });

  it('trades ?token= for an HttpOnly SameSite=Strict cookie that then authorises API calls', async () => {
    const reply = await request({ path: `/?token=${server.token}` });
    expect(reply.status).toBe(302);
    expect(reply.headers.location).toBe('/');
    const setCookie = reply.headers['set-cookie'];
    expect(setCookie).toHaveLength(1);
    const cookie = setCookie![0]!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain('Domain=');
    const pair = cookie.split(';')[0]!;
    expect(pair.startsWith(`mocoop_token_${server.port}=`)).toBe(true);

    const call = await api('app.info', { Cookie: pair });
    expect(call.status).toBe(200);
    expect(JSON.parse(call.text).ok).toBe(true);
    const page = await request({ path: '/', headers: { Cookie: pair } });
    expect(page.status).toBe(200);
    expect(page.text).toBe(INDEX_HTML);

    const deep = await request({ path: `/grid?token=${server.token}&view=all` });
    expect(deep.status).toBe(302);
    expect(deep.headers.location).toBe('/grid?view=all');
  });

  it('authenticates even when the browser also sends an unrelated, oddly encoded cookie', async () => {
    // Cookies are not isolated by port: other local apps on 127.0.0.1 put theirs in every request.
    const cookie = `other_app=100%; mocoop_token_${server.port}=${encodeURIComponent(server.token)}`;
    const call = await api('app.info', { Cookie: cookie });
    expect(call.status).toBe(200);
    expect(JSON.parse(call.text).ok).toBe(true);
    expect(log).not.toHaveBeenCalled();
  });

  it('a WebSocket handshake with an oddly encoded cookie neither crashes the server process nor is refused', async () => {
    // Run in a child process: an exception thrown in the 'upgrade' listener is uncaught and ends the process.
    const helper = fileURLToPath(new URL('../helpers/web-server-child.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', helper, path.join(tmp.dir, 'child')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const line = await Promise.race([
        new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once('line', resolve)),
        exited.then((code) => Promise.reject(new Error(`child server exited (${code}): ${stderr}`)))
      ]);
      const { port, token } = JSON.parse(line) as { port: number; token: string };
      const ws = new WebSocket(`ws://127.0.0.1:${port}/events`, { headers: { Cookie: `other_app=100%; mocoop_token_${port}=${token}` } });
      const outcome = await new Promise<string>((resolve) => {
        ws.once('open', () => resolve('open'));
        ws.once('unexpected-response', (_req, res) => resolve(`status ${res.statusCode}`));
        ws.once('error', (e) => resolve(`error ${e.message}`));
      });
      ws.terminate();
      // Give a crash a moment to show.
      const crashed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 300))]);
      expect(crashed, `the server process died: ${stderr.split('\n').slice(0, 6).join('\n')}`).toBe(false);
      expect(outcome).toBe('open');
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    }
  });
});

describe('origin and host checks', () => {
  it('refuses a foreign Origin even with the right token', async () => {
    const reply = await api('app.info', { ...bearer(), Origin: 'http://evil.example' });
    expect(reply.status).toBe(403);
    expect(reply.text).not.toContain('web-test');
    expect((await request({ method: 'OPTIONS', path: '/api/app.info', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' } })).status).toBe(403);
    expect((await api('app.info', { ...bearer(), Origin: 'null' })).status).toBe(403);
    expect((await api('app.info', { ...bearer(), Origin: `http://127.0.0.1:${server.port + 1}` })).status).toBe(403);
    // The server's own origin is fine.
    expect((await api('app.info', { ...bearer(), Origin: server.origin })).status).toBe(200);
    expect((await api('app.info', { ...bearer(), Origin: `http://localhost:${server.port}` })).status).toBe(200);
  });

  it('refuses a Host that is not this server (DNS rebinding)', async () => {
    for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`, '127.0.0.1', `0.0.0.0:${server.port}`]) {
      const reply = await api('app.info', { ...bearer(), Host: host });
      expect(reply.status, host).toBe(403);
    }
    expect((await api('app.info', { ...bearer(), Host: `localhost:${server.port}` })).status).toBe(200);
    expect((await api('app.info', { ...bearer(), Host: `127.0.0.1:${server.port}` })).status).toBe(200);
  });
});

describe('static files and headers', () => {
  it('serves HTML with a Content-Security-Policy and hardening headers', async () => {
    const page = await request({ path: '/', headers: bearer() });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("'unsafe-eval'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('DENY');

    const script = await request({ path: '/assets/app-123.js', headers: bearer() });
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.text).toBe('console.log("app");');
    // Unknown routes fall back to the app shell (client-side routing).
    const fallback = await request({ path: '/projects/42', headers: bearer() });
    expect(fallback.status).toBe(200);
    expect(fallback.text).toBe(INDEX_HTML);
  });

  it('does not serve files outside the static folder', async () => {
    const attempts = [
      '/../secret.txt',
      '/../package.json',
      '/%2e%2e/secret.txt',
      '/%2e%2e%2fsecret.txt',
      '/..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/%2e%2e%2f%2e%2e%2fpackage.json',
      '/../static-evil.txt',
      '/..%2fstatic-evil.txt',
      `/${encodeURIComponent(path.join(tmp.dir, 'secret.txt'))}`
    ];
    for (const attempt of attempts) {
      const reply = await request({ path: attempt, headers: bearer() });
      expect(reply.text, attempt).not.toContain(SECRET);
      expect(reply.text, attempt).not.toContain('"devDependencies"');
      expect([200, 400, 404], attempt).toContain(reply.status);
      if (reply.status === 200) expect(reply.text, attempt).toBe(INDEX_HTML);
    }
  });

  it('answers protocol mistakes on /api with clear statuses', async () => {
    expect((await request({ path: '/api/app.info', headers: bearer() })).status).toBe(405);
    expect((await request({ method: 'POST', path: '/api/app.info', headers: { ...bearer(), 'Content-Type': 'text/plain' }, body: '' })).status).toBe(415);
    const badJson = await request({ method: 'POST', path: '/api/project.open', headers: { ...bearer(), 'Content-Type': 'application/json' }, body: '{nope' });
    expect(badJson.status).toBe(400);
    const unknown = await api('nope.nothing', bearer(), {});
    expect(unknown.status).toBe(200);
    expect(JSON.parse(unknown.text)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const invalid = await api('labels.assign', bearer(), { imageIds: ['x'], classId: null });
    expect(JSON.parse(invalid.text)).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(JSON.parse(invalid.text).error.message).toContain('imageIds');
    // Client mistakes are answered, not logged as server errors.
    expect(log).not.toHaveBeenCalled();
  });
});

describe('media', () => {
  it('serves thumbnails and originals of the open project only', async () => {
    const store = services.project;
    const id = store.imageIds({}).find((i) => store.imagePath(i) === imageFile)!;
    const thumb = await request({ path: `/media/thumb/${id}`, headers: bearer() });
    expect(thumb.status).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/jpeg');
    expect(thumb.body.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(thumb.body.equals(store.thumbnail(id)!.data)).toBe(true);

    const original = await request({ path: `/media/image/${id}`, headers: bearer() });
    expect(original.status).toBe(200);
    expect(original.headers['content-type']).toBe('image/jpeg');
    expect(original.body.equals(fs.readFileSync(imageFile))).toBe(true);

    expect((await request({ path: '/media/thumb/999999', headers: bearer() })).status).toBe(404);
    expect((await request({ path: '/media/image/999999', headers: bearer() })).status).toBe(404);
    expect((await request({ path: '/media/thumb/0', headers: bearer() })).status).toBe(404);
  });
});

describe('events over WebSocket', () => {
  const connect = (url: string, options: WebSocket.ClientOptions = {}) => {
    const ws = new WebSocket(url, options);
    return new Promise<{ ws: WebSocket; status?: number }>((resolve) => {
      ws.once('open', () => resolve({ ws }));
      ws.once('unexpected-response', (_req, res) => {
        resolve({ ws, status: res.statusCode });
        res.resume();
      });
      ws.once('error', () => resolve({ ws, status: -1 }));
    });
  };
  const wsUrl = (suffix = '') => `ws://127.0.0.1:${server.port}/events${suffix}`;

  it('refuses a connection without the token, with a wrong one, from a foreign origin or to another path', async () => {
    const none = await connect(wsUrl());
    expect(none.status).toBe(401);
    const wrong = await connect(wsUrl('?token=nope'));
    expect(wrong.status).toBe(401);
    const foreign = await connect(wsUrl(`?token=${server.token}`), { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    const otherPath = await connect(`ws://127.0.0.1:${server.port}/not-events?token=${server.token}`);
    expect(otherPath.status).toBe(404);
    for (const c of [none, wrong, foreign, otherPath]) expect(c.ws.readyState).not.toBe(WebSocket.OPEN);
  });

  it('delivers service events to an authorised client', async () => {
    const { ws, status } = await connect(wsUrl(), { headers: bearer() });
    expect(status).toBeUndefined();
    try {
      const received: unknown[] = [];
      const two = new Promise<void>((resolve) =>
        ws.on('message', (data) => {
          received.push(JSON.parse(String(data)));
          if (received.length === 2) resolve();
        })
      );
      const progress = { importId: 'x1', phase: 'reading' as const, done: 3, total: 10, skipped: 1, current: '/a/b.jpg' };
      services.events.emit('import.progress', progress);
      services.events.emit('project.changed', { reason: 'classes' });
      await two;
      expect(received).toEqual([
        { event: 'import.progress', payload: progress },
        { event: 'project.changed', payload: { reason: 'classes' } }
      ]);
    } finally {
      ws.close();
    }
    // The token in the link works for the socket too.
    const viaQuery = await connect(wsUrl(`?token=${server.token}`), { origin: server.origin });
    expect(viaQuery.status).toBeUndefined();
    viaQuery.ws.close();
  });
});
