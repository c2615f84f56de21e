/**
 * Generated hostile requests against web mode (loopback only), sent byte for byte on raw sockets to a
 * server in its own process: Host headers (DNS rebinding, odd spellings, garbage), Origins, path
 * traversal in every encoding under the static, media and API routes, wrong or stolen credentials,
 * and WebSocket handshakes with one thing wrong. Each is answered at once with a refusal (400/401/403/
 * 404/405/415/431) or only what the route serves — never a 500, a file outside the static folder, the
 * token, or a hang — and afterwards the server process is alive, still serves its client, and has
 * logged neither the token nor a stack trace.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp';
import { type Rng, makeRng } from './fuzz/prng';

const SEED = Number(process.env.MOCOOP_FUZZ_SEED ?? 9);
const PROBES = 40;

interface Answer {
  status: number;
  head: string;
  body: string;
}

interface Server {
  port: number;
  token: string;
  basePath: string;
  secret: string;
  index: string;
}

/** Sends `text` as is and reads the answer; status 0 when the server closed without one, -1 on a timeout. */
function raw(port: number, text: string | Buffer, options: { upgrade?: boolean; timeoutMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (status?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const all = Buffer.concat(chunks).toString('latin1');
      const split = all.indexOf('\r\n\r\n');
      const head = split >= 0 ? all.slice(0, split) : all;
      const code = status ?? (Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]) || 0);
      resolve({ status: code, head, body: split >= 0 ? all.slice(split + 4) : '' });
    };
    const timer = setTimeout(() => finish(-1), options.timeoutMs ?? 10_000);
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // A switched protocol stays open: its head is the answer.
      if (options.upgrade && Buffer.concat(chunks).includes('\r\n\r\n')) finish();
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', () => finish());
  });
}

const SAFE = 'abcdefghijklmnopqrstuvwxyz0123456789.-_:[]@%#?/ ';

describe('hostile requests against web mode', () => {
  let tmp: ReturnType<typeof tempDir>;
  let child: ChildProcess;
  let server: Server;
  let stderr = '';
  let host: string;
  const answers: { probe: string; answer: Answer }[] = [];

  /** A request with the right Host and token unless the probe replaces them. */
  const httpRequest = (o: { method?: string; target: string; host?: string | null; headers?: string[]; body?: string }) => {
    const lines = [`${o.method ?? 'GET'} ${o.target} HTTP/1.1`];
    if (o.host !== null) lines.push(`Host: ${o.host ?? host}`);
    lines.push(...(o.headers ?? [`Authorization: Bearer ${server.token}`]));
    if (o.body !== undefined) lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(o.body)}`);
    lines.push('Connection: close');
    return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${o.body ?? ''}`, 'utf8');
  };
  const send = async (probe: string, text: Buffer, upgrade = false) => {
    const answer = await raw(server.port, text, { upgrade });
    answers.push({ probe, answer });
    // Never a hang, a crash of the connection without an answer, or a server error.
    expect(answer.status, `${probe}: no answer in time`).not.toBe(-1);
    expect(answer.status, `${probe}: ${answer.head.split('\r\n')[0]}`).not.toBeGreaterThanOrEqual(500);
    expect(answer.head + answer.body, probe).not.toContain(server.secret);
    expect(answer.head + answer.body, probe).not.toContain(server.token);
    return answer;
  };

  beforeAll(async () => {
    tmp = tempDir('mocoop-probe-');
    child = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/helpers/web-probe-server.ts'), tmp.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    server = await new Promise<Server>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString('utf8');
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
      });
      child.once('exit', (code) => reject(new Error(`the probe server exited (${code}): ${stderr}`)));
    });
    host = `127.0.0.1:${server.port}`;
  });
  afterAll(() => {
    child?.kill('SIGKILL');
    tmp.cleanup();
  });

  it(`Host headers (${PROBES}, seed ${SEED}): only this server's own host:port is served; anything else is 400 or 403`, async () => {
    const rng = makeRng(SEED, 301);
    const p = () => server.port;
    const hosts: ((r: Rng) => string)[] = [
      () => `127.0.0.1:${p()}`,
      () => `localhost:${p()}`,
      (r) => `127.0.0.1:${p() + r.int(1, 40)}`,
      () => 'evil.example',
      () => `evil.example:${p()}`,
      () => `LOCALHOST:${p()}`,
      () => `127.0.0.1.:${p()}`,
      () => `127.1:${p()}`,
      () => `2130706433:${p()}`,
      () => `0x7f.0.0.1:${p()}`,
      () => `[::1]:${p()}`,
      () => `[::ffff:127.0.0.1]:${p()}`,
      () => `127.0.0.1:${p()}@evil.example`,
      () => `evil.example#@127.0.0.1:${p()}`,
      () => `127.0.0.1:0${p()}`,
      () => `127.0.0.1:${p()}:${p()}`,
      () => `127.0.0.1%3a${p()}`,
      () => `127.0.0.1:${p()}/`,
      () => '',
      (r) => r.text(r.int(1, 40), SAFE),
      (r) => r.text(r.int(1, 20)),
      (r) => 'a'.repeat(r.int(300, 20_000))
    ];
    for (let i = 0; i < PROBES; i++) {
      const value = rng.pick(hosts)(rng);
      const ours = [`127.0.0.1:${server.port}`, `localhost:${server.port}`].includes(value.trim());
      const answer = await send(
        `Host ${JSON.stringify(value.slice(0, 60))}`,
        httpRequest({ method: 'POST', target: `${server.basePath}api/app.info`, host: value, body: '{}' })
      );
      if (ours) expect(answer.status, value).toBe(200);
      else expect([400, 403, 431], `Host ${JSON.stringify(value.slice(0, 60))}: ${answer.status}`).toContain(answer.status);
      if (!ours) expect(answer.body).not.toContain('"version"');
    }
  });

  it(`Origin headers (${PROBES}, seed ${SEED}): a foreign or odd Origin is 403 even with the token`, async () => {
    const rng = makeRng(SEED, 302);
    const p = () => server.port;
    const origins: ((r: Rng) => string)[] = [
      () => `http://127.0.0.1:${p()}`,
      () => `http://localhost:${p()}`,
      () => 'null',
      () => '',
      (r) => `http://127.0.0.1:${p() + r.int(1, 40)}`,
      () => `https://127.0.0.1:${p()}`,
      () => `http://127.0.0.1:${p()}/`,
      () => `http://127.0.0.1:${p()}.evil.example`,
      () => `HTTP://127.0.0.1:${p()}`,
      () => `http://[::1]:${p()}`,
      () => 'http://evil.example',
      () => 'file://',
      (r) => r.text(r.int(1, 40), SAFE),
      (r) => `http://127.0.0.1:${p()}${'x'.repeat(r.int(1, 5000))}`
    ];
    for (let i = 0; i < PROBES; i++) {
      const value = rng.pick(origins)(rng);
      const ours = [`http://127.0.0.1:${server.port}`, `http://localhost:${server.port}`].includes(value.trim());
      const answer = await send(
        `Origin ${JSON.stringify(value.slice(0, 60))}`,
        httpRequest({
          method: 'POST',
          target: `${server.basePath}api/app.info`,
          headers: [`Authorization: Bearer ${server.token}`, `Origin: ${value}`],
          body: '{}'
        })
      );
      if (ours) expect(answer.status, value).toBe(200);
      else expect([400, 403], `Origin ${JSON.stringify(value.slice(0, 60))}: ${answer.status}`).toContain(answer.status);
    }
  });

  it(`path traversal (${PROBES * 2}, seed ${SEED}): nothing outside the static folder or the project's images is served`, async () => {
    const rng = makeRng(SEED, 303);
    const ups = ['..', '%2e%2e', '%2E%2e', '.%2e', '%2e.', '%252e%252e', '..%00', '..%c0%af', '%c0%ae%c0%ae', '\uff0e\uff0e', '...', '.', ''];
    const seps = ['/', '%2f', '%2F', '\\', '%5c', '%255c', '//'];
    const targets = ['secret.txt', 'static-secret.txt', 'package.json', 'etc/passwd', 'probe.mocoop', 'config/models/models.json', '%00index.html'];
    const routes = ['', 'assets/', 'media/image/', 'media/thumb/', 'api/', 'events/'];
    for (let i = 0; i < PROBES * 2; i++) {
      const parts: string[] = [];
      for (let n = rng.int(1, 8); n > 0; n--) parts.push(rng.pick(ups), rng.pick(seps));
      const tail = `${rng.pick(routes)}${parts.join('')}${rng.pick(targets)}${rng.chance(0.2) ? `?${rng.text(5, SAFE)}` : ''}`;
      const target = rng.chance(0.85) ? `${server.basePath}${tail}` : `/${tail}`;
      const method = rng.pick(['GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS']);
      const answer = await send(`${method} ${target.slice(0, 120)}`, httpRequest({ method, target, body: method === 'POST' ? '{}' : undefined }));
      expect([200, 302, 400, 404, 405, 415], `${method} ${target}: ${answer.status}`).toContain(answer.status);
      expect(answer.body).not.toMatch(/root:.*:0:0:|"devDependencies"|SQLite format 3/);
      if (answer.status === 200 && method === 'GET') {
        // Only the app shell, its asset, or an image of the project (media ids are digits only).
        const type = /content-type: ([^\r\n;]+)/i.exec(answer.head)?.[1] ?? '';
        expect(
          answer.body === server.index || answer.body === 'console.log(1);' || type.startsWith('image/'),
          `${target} served ${type}: ${answer.body.slice(0, 80)}`
        ).toBe(true);
      }
    }
  });

  it(`credentials (${PROBES}, seed ${SEED}): a wrong, altered or other port's token is 401; outside the base path 404`, async () => {
    const rng = makeRng(SEED, 304);
    const t = () => server.token;
    const flip = (s: string) => {
      const i = rng.int(0, s.length - 1);
      return s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    };
    const credentials: (() => string[])[] = [
      () => [],
      () => [`Authorization: Bearer ${flip(t())}`],
      () => [`Authorization: Bearer ${t().toUpperCase() === t() ? t().toLowerCase() : t().toUpperCase()}`],
      () => [`Authorization: Bearer  ${t()}`],
      () => [`Authorization: bearer${t()}`],
      () => [`Authorization: Basic ${Buffer.from(`user:${t()}`).toString('base64')}`],
      () => [`Authorization: Bearer ${t().slice(0, -1)}`],
      () => [`Authorization: Bearer ${t()}${rng.text(1, 'abc')}`],
      () => [`Cookie: mocoop_token_${server.port + rng.int(1, 9)}=${encodeURIComponent(t())}`],
      () => [`Cookie: mocoop_token_${server.port}=${flip(t())}`],
      () => [`Cookie: mocoop_token=${t()}; token=${t()}`],
      () => [`Cookie: ${rng.text(rng.int(1, 200), SAFE.replace(/[%]/g, ''))}`],
      () => [`X-Token: ${t()}`]
    ];
    for (let i = 0; i < PROBES; i++) {
      const headers = rng.pick(credentials)();
      const route = rng.pick(['', 'api/app.info', 'api/project.current', `media/thumb/1`, `media/image/1`, 'assets/app-1.js', `?token=${flip(t())}`]);
      const post = route.startsWith('api/');
      const answer = await send(
        `${headers.join(' | ').slice(0, 80)} → ${route}`,
        httpRequest({ method: post ? 'POST' : 'GET', target: `${server.basePath}${route}`, headers, body: post ? '{}' : undefined })
      );
      expect(answer.status, `${headers.join(' | ')} → ${route}`).toBe(401);
      expect(answer.head).not.toMatch(/set-cookie/i);
      // The right token outside the base path: a bare 404, as for any other address.
      const outside = await send(
        `right token outside the base path (${route})`,
        httpRequest({ method: post ? 'POST' : 'GET', target: `/s/${rng.text(22, 'abcdefABCDEF0123456789_-')}/${route}`, body: post ? '{}' : undefined })
      );
      expect(outside.status).toBe(404);
    }
  });

  it(`WebSocket handshakes (${PROBES}, seed ${SEED}): only the right path, Host, Origin and token get a socket`, async () => {
    const rng = makeRng(SEED, 305);
    const key = () => Buffer.from(rng.bytes(16)).toString('base64');
    for (let i = 0; i < PROBES; i++) {
      const h = {
        target: `${server.basePath}events`,
        host,
        origin: rng.chance(0.5) ? `http://127.0.0.1:${server.port}` : (null as string | null),
        auth: [`Authorization: Bearer ${server.token}`],
        key: key(),
        version: '13'
      };
      const wrong = rng.pick(['none', 'none', 'path', 'host', 'origin', 'token', 'cookie-other-port', 'key', 'version', 'query-token']);
      if (wrong === 'path')
        h.target = rng.pick([
          `${server.basePath}events/`,
          `${server.basePath}Events`,
          `${server.basePath}../events`,
          `${server.basePath}%65vents`,
          '/events',
          `${server.basePath}api/events`,
          `${server.basePath}events%00`
        ]);
      if (wrong === 'host') h.host = rng.pick(['evil.example', `127.0.0.1:${server.port + 1}`, 'a b', '']);
      if (wrong === 'origin') h.origin = rng.pick(['http://evil.example', 'null', `http://127.0.0.1:${server.port + 1}`]);
      if (wrong === 'token') h.auth = rng.pick([[], [`Authorization: Bearer ${server.token.slice(1)}`]]);
      if (wrong === 'cookie-other-port') h.auth = [`Cookie: mocoop_token_${server.port + 1}=${encodeURIComponent(server.token)}`];
      if (wrong === 'key') h.key = rng.pick(['', 'short', rng.text(30, SAFE)]);
      if (wrong === 'version') h.version = rng.pick(['8', '', '13, 8', 'x']);
      if (wrong === 'query-token') {
        h.auth = [];
        h.target += `?token=${encodeURIComponent(server.token)}`;
      }
      const lines = [
        `GET ${h.target} HTTP/1.1`,
        `Host: ${h.host}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${h.key}`,
        `Sec-WebSocket-Version: ${h.version}`,
        ...(h.origin ? [`Origin: ${h.origin}`] : []),
        ...h.auth
      ];
      const answer = await send(`WebSocket with ${wrong} wrong`, Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), true);
      if (wrong === 'none' || wrong === 'query-token') expect(answer.status, `WebSocket with ${wrong} wrong: ${answer.head}`).toBe(101);
      else expect([400, 401, 403, 404, 426], `WebSocket with ${wrong} wrong (${JSON.stringify(h).slice(0, 200)}): ${answer.status}`).toContain(answer.status);
    }
  });

  it('afterwards the server process is alive, serves its client, and logged neither the token nor a stack trace', async () => {
    expect(answers.length).toBeGreaterThanOrEqual(PROBES * 6);
    expect(child.exitCode).toBeNull();
    const ok = await send('a normal request', httpRequest({ method: 'POST', target: `${server.basePath}api/app.info`, body: '' }));
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('"ok":true');
    expect(stderr).not.toContain(server.token);
    expect(stderr).not.toMatch(/\n\s+at \S/);
  });
});
