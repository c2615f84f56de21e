import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
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

/** A path under the server's per-launch base path (`/s/<random>/`). */
const at = (rest = '') => server.basePath + rest;

/** A raw HTTP request (so Host, Origin and odd paths are sent exactly as given); the path is as given, not under the base path. */
function request(options: { method?: string; path?: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, method: options.method ?? 'GET', path: options.path ?? at(), headers: options.headers ?? {} },
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
    path: at(`api/${name}`),
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
  it('starts on a free loopback port with a random base path and a token in its access link', async () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.origin).toBe(`http://127.0.0.1:${server.port}`);
    // 128 random bits, base64url: 22 characters.
    expect(server.basePath).toMatch(/^\/s\/[A-Za-z0-9_-]{22}\/$/);
    expect(server.url).toBe(`${server.origin}${server.basePath}?token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(24);
    expect(server.basePath).not.toContain(server.token);
    // Each launch has its own base path, even with the same token.
    const other = await startWebServer({ services, staticDir, port: 0, token: server.token, log });
    try {
      expect(other.basePath).not.toBe(server.basePath);
    } finally {
      await other.close();
    }
  });

  it('answers every request outside the base path with a bare 404, token or not', async () => {
    const cookie = `mocoop_token_${server.port}=${encodeURIComponent(server.token)}`;
    const wrongBase = server.basePath.slice(0, -2) + (server.basePath.at(-2) === 'A' ? 'B' : 'A') + '/';
    const paths = [
      '/',
      `/?token=${server.token}`,
      '/index.html',
      '/assets/app-123.js',
      '/media/thumb/1',
      '/events',
      '/s/',
      `/s/x/?token=${server.token}`,
      wrongBase,
      `${wrongBase}?token=${server.token}`,
      `/x${server.basePath}`
    ];
    for (const p of paths) {
      for (const headers of [{}, bearer(), { Cookie: cookie }] as Record<string, string>[]) {
        const reply = await request({ path: p, headers });
        expect(reply.status, p).toBe(404);
        expect(reply.text, p).toBe('Not found.');
        expect(reply.headers['set-cookie'], p).toBeUndefined();
        expect(reply.headers.location, p).toBeUndefined();
      }
    }
    for (const p of ['/api/app.info', `${wrongBase}api/app.info`]) {
      const reply = await request({ method: 'POST', path: p, headers: { ...bearer(), 'Content-Type': 'application/json' }, body: '' });
      expect(reply.status, p).toBe(404);
      expect(reply.text, p).not.toContain('web-test');
    }
    expect(log).not.toHaveBeenCalled();
  });

  it('sends the base path without its trailing slash to the base path', async () => {
    const reply = await request({ path: `${server.basePath.slice(0, -1)}?token=${server.token}` });
    expect(reply.status).toBe(302);
    expect(reply.headers.location).toBe(`${server.basePath}?token=${server.token}`);
    expect(reply.headers['set-cookie']).toBeUndefined();
  });

  it('refuses requests without a token or with a wrong one', async () => {
    const page = await request({ path: at() });
    expect(page.status).toBe(401);
    expect(page.text).not.toContain('MoCoOp test shell');
    expect((await api('app.info', {})).status).toBe(401);
    expect((await api('app.info', { Authorization: 'Bearer wrong-token' })).status).toBe(401);
    expect((await api('app.info', { Authorization: `Bearer ${server.token}x` })).status).toBe(401);
    expect((await api('app.info', { Authorization: server.token })).status).toBe(401);
    expect((await api('app.info', { Cookie: `mocoop_token_${server.port}=nope` })).status).toBe(401);
    expect((await request({ path: at('?token=wrong') })).status).toBe(401);
    expect((await request({ path: at('media/thumb/1') })).status).toBe(401);
  });

  it('accepts the bearer token and answers with an ok envelope', async () => {
    const reply = await api('app.info', bearer());
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(reply.text)).toMatchObject({ ok: true, value: { version: 'web-test', mode: 'web' } });
    const classes = JSON.parse((await api('classes.list', bearer())).text);
    expect(classes).toEqual({ ok: true, value: [expect.objectContaining({ name: 'cats', imageCount: 2 })] });
  });

  it('trades ?token= for an HttpOnly SameSite=Strict cookie scoped to the base path that then authorises API calls', async () => {
    const reply = await request({ path: at(`?token=${server.token}`) });
    expect(reply.status).toBe(302);
    expect(reply.headers.location).toBe(server.basePath);
    const setCookie = reply.headers['set-cookie'];
    expect(setCookie).toHaveLength(1);
    const cookie = setCookie![0]!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain('Domain=');
    // Browsers do not separate cookies by port: only the secret path keeps other local servers from getting it.
    const attributes = cookie.split(';').map((a) => a.trim());
    expect(attributes.filter((a) => /^path=/i.test(a))).toEqual([`Path=${server.basePath}`]);
    const pair = cookie.split(';')[0]!;
    expect(pair.startsWith(`mocoop_token_${server.port}=`)).toBe(true);

    const call = await api('app.info', { Cookie: pair });
    expect(call.status).toBe(200);
    expect(JSON.parse(call.text).ok).toBe(true);
    const page = await request({ path: at(), headers: { Cookie: pair } });
    expect(page.status).toBe(200);
    expect(page.text).toBe(INDEX_HTML);
    // The cookie is worth nothing outside the base path.
    expect((await request({ path: '/', headers: { Cookie: pair } })).status).toBe(404);

    const deep = await request({ path: at(`grid?token=${server.token}&view=all`) });
    expect(deep.status).toBe(302);
    expect(deep.headers.location).toBe(at('grid?view=all'));
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
      const { port, token, basePath } = JSON.parse(line) as { port: number; token: string; basePath: string };
      const ws = new WebSocket(`ws://127.0.0.1:${port}${basePath}events`, { headers: { Cookie: `other_app=100%; mocoop_token_${port}=${token}` } });
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
    expect(
      (await request({ method: 'OPTIONS', path: at('api/app.info'), headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' } }))
        .status
    ).toBe(403);
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

  it('answers a malformed or missing Host with 400 before reading anything else, and logs nothing', async () => {
    for (const host of ['a b', `127.0.0.1:${server.port}/x`, `user@127.0.0.1:${server.port}`, `127.0.0.1 :${server.port}`, '[::1']) {
      for (const p of [at(`?token=${server.token}`), `/?token=${server.token}`, at('api/app.info')]) {
        const reply = await request({ path: p, headers: { ...bearer(), Host: host } });
        expect(reply.status, `${host} ${p}`).toBe(400);
        expect(reply.text).not.toContain(server.token);
        expect(reply.headers['set-cookie']).toBeUndefined();
      }
    }
    // An empty Host, and HTTP/1.0 with no Host at all (Node's client would fill one in).
    for (const head of [`HTTP/1.1\r\nHost: \r\nConnection: close`, 'HTTP/1.0']) {
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(server.port, '127.0.0.1', () => socket.end(`GET ${at(`?token=${server.token}`)} ${head}\r\n\r\n`));
        let out = '';
        socket.on('data', (d) => (out += String(d)));
        socket.on('end', () => resolve(out));
        socket.on('error', reject);
      });
      expect(raw.split('\r\n')[0], head).toBe('HTTP/1.1 400 Bad Request');
      expect(raw).not.toContain('Set-Cookie');
    }
    // A WebSocket handshake the same.
    const ws = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${server.port}${at('events')}`, { headers: { ...bearer(), Host: 'a b' } });
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('open', () => resolve(101));
      socket.once('error', () => resolve(-1));
    });
    expect(ws).toBe(400);
    expect(log).not.toHaveBeenCalled();
  });

  it('answers a request target that is not a plain path with 400', async () => {
    for (const target of ['*', `http://127.0.0.1:${server.port}${at()}`, `//evil.example${at()}`]) {
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(server.port, '127.0.0.1', () =>
          socket.end(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${server.token}\r\nConnection: close\r\n\r\n`)
        );
        let out = '';
        socket.on('data', (d) => (out += String(d)));
        socket.on('end', () => resolve(out));
        socket.on('error', reject);
      });
      expect(raw.split('\r\n')[0], target).toBe('HTTP/1.1 400 Bad Request');
    }
    expect(log).not.toHaveBeenCalled();
  });
});

describe('static files and headers', () => {
  it('serves HTML with a Content-Security-Policy and hardening headers', async () => {
    const page = await request({ path: at(), headers: bearer() });
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

    const script = await request({ path: at('assets/app-123.js'), headers: bearer() });
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.text).toBe('console.log("app");');
    // Unknown addresses directly in the base path fall back to the app shell (reloads, deep links)...
    const fallback = await request({ path: at('projects?view=all'), headers: bearer() });
    expect(fallback.status).toBe(200);
    expect(fallback.text).toBe(INDEX_HTML);
    // ...deeper ones, where the shell's relative asset addresses would not resolve, go back to the base path.
    for (const deep of ['projects/42', 'projects/']) {
      const reply = await request({ path: at(`${deep}?view=all`), headers: bearer() });
      expect(reply.status, deep).toBe(302);
      expect(reply.headers.location, deep).toBe(at('?view=all'));
    }
    // A missing asset is a 404, not the shell served as a script.
    expect((await request({ path: at('assets/missing-1.js'), headers: bearer() })).status).toBe(404);
  });

  it('does not serve files outside the static folder', async () => {
    const attempts = [
      '/../secret.txt',
      '../secret.txt',
      '..%2fsecret.txt',
      '..%2f..%2f..%2fsecret.txt',
      '%2e%2e/%2e%2e/%2e%2e/secret.txt',
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
    for (const attempt of attempts.map((a) => at(a.replace(/^\//, '')))) {
      const reply = await request({ path: attempt, headers: bearer() });
      expect(reply.text, attempt).not.toContain(SECRET);
      expect(reply.text, attempt).not.toContain('"devDependencies"');
      expect([200, 302, 400, 404], attempt).toContain(reply.status);
      if (reply.status === 200) expect(reply.text, attempt).toBe(INDEX_HTML);
      if (reply.status === 302) expect(reply.headers.location, attempt).toBe(server.basePath);
    }
  });

  it('answers protocol mistakes on /api with clear statuses', async () => {
    expect((await request({ path: at('api/app.info'), headers: bearer() })).status).toBe(405);
    expect((await request({ method: 'POST', path: at('api/app.info'), headers: { ...bearer(), 'Content-Type': 'text/plain' }, body: '' })).status).toBe(415);
    const badJson = await request({
      method: 'POST',
      path: at('api/project.open'),
      headers: { ...bearer(), 'Content-Type': 'application/json' },
      body: '{nope'
    });
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

describe('request bodies', () => {
  /** POSTs to app.info declaring `declared` bytes but sending only `sent` of them (or streaming `sent` bytes, chunked). */
  const post = (target: WebServer, declared: number | null, sent: number) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const headers: Record<string, string> = { Authorization: `Bearer ${target.token}`, 'Content-Type': 'application/json' };
      if (declared !== null) headers['Content-Length'] = String(declared);
      const req = http.request({ host: '127.0.0.1', port: target.port, method: 'POST', path: target.basePath + 'api/app.info', headers }, (res) => {
        let text = '';
        res.on('data', (d) => (text += String(d)));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
      req.setTimeout(15_000, () => req.destroy(new Error(`no answer to a ${declared ?? 'chunked'}-byte body after ${sent} bytes`)));
      const chunk = Buffer.alloc(Math.min(sent, 64 * 1024), 'x');
      let written = 0;
      const pump = () => {
        while (written < sent) {
          const part = chunk.subarray(0, Math.min(chunk.length, sent - written));
          written += part.length;
          if (!req.write(part)) return void req.once('drain', pump);
        }
        if (declared === null) req.end();
      };
      pump();
    });

  it('answers a declared body over what the server can parse with 413 before the body arrives, not 500', async () => {
    // 536,870,900 bytes is under 512 MiB but over V8's longest string: it used to fail in Buffer#toString.
    const reply = await post(server, 536_870_900, 16);
    expect(reply.status).toBe(413);
    expect(reply.text).toContain('too large');
    expect(log).not.toHaveBeenCalled();
  });

  it('caps a configured limit at what the server can parse', async () => {
    const generous = await startWebServer({ services, staticDir, port: 0, maxBodyBytes: 2 ** 30, log });
    try {
      expect((await post(generous, 536_870_900, 16)).status).toBe(413);
      expect((await post(generous, 300 * 2 ** 20, 16)).status).toBe(413);
    } finally {
      await generous.close();
    }
    expect(log).not.toHaveBeenCalled();
  });

  it('answers a streamed body that grows past the limit with 413', async () => {
    const small = await startWebServer({ services, staticDir, port: 0, maxBodyBytes: 4096, log });
    try {
      const over = await post(small, null, 64 * 1024);
      expect(over.status).toBe(413);
      const under = await post(small, null, 100);
      expect(under.status).toBe(400); // "xxx…" is not JSON: read, parsed and refused, not too large
    } finally {
      await small.close();
    }
    expect(log).not.toHaveBeenCalled();
  });
});

describe('media', () => {
  it('serves thumbnails and originals of the open project only', async () => {
    const store = services.project;
    const id = store.imageIds({}).find((i) => store.imagePath(i) === imageFile)!;
    const thumb = await request({ path: at(`media/thumb/${id}`), headers: bearer() });
    expect(thumb.status).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/jpeg');
    expect(thumb.body.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(thumb.body.equals(store.thumbnail(id)!.data)).toBe(true);

    const original = await request({ path: at(`media/image/${id}`), headers: bearer() });
    expect(original.status).toBe(200);
    expect(original.headers['content-type']).toBe('image/jpeg');
    expect(original.body.equals(fs.readFileSync(imageFile))).toBe(true);

    expect((await request({ path: at('media/thumb/999999'), headers: bearer() })).status).toBe(404);
    expect((await request({ path: at('media/image/999999'), headers: bearer() })).status).toBe(404);
    expect((await request({ path: at('media/thumb/0'), headers: bearer() })).status).toBe(404);
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
  const wsUrl = (suffix = '') => `ws://127.0.0.1:${server.port}${server.basePath}events${suffix}`;

  it('refuses a connection without the token, with a wrong one, from a foreign origin or to another path', async () => {
    const none = await connect(wsUrl());
    expect(none.status).toBe(401);
    const wrong = await connect(wsUrl('?token=nope'));
    expect(wrong.status).toBe(401);
    const foreign = await connect(wsUrl(`?token=${server.token}`), { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    const otherPath = await connect(`ws://127.0.0.1:${server.port}${server.basePath}not-events?token=${server.token}`);
    expect(otherPath.status).toBe(404);
    // Outside the base path there is no socket, whatever the credentials.
    const outside = await connect(`ws://127.0.0.1:${server.port}/events?token=${server.token}`, { headers: bearer() });
    expect(outside.status).toBe(404);
    for (const c of [none, wrong, foreign, otherPath, outside]) expect(c.ws.readyState).not.toBe(WebSocket.OPEN);
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
