/**
 * Web mode: the contract over loopback HTTP (requests) and WebSocket (events), plus the built renderer.
 * Every request needs the per-launch token (bearer header, the cookie set from the printed link, or
 * ?token=); Host and Origin must be this server's own (no CORS, no DNS rebinding).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { dispatch } from '../contract/dispatch';
import type { AppServices } from '../services/app-services';
import { loadMedia } from '../services/media';
import { contentSecurityPolicy } from './security';

export interface WebServerOptions {
  services: AppServices;
  staticDir: string;
  port?: number;
  token?: string;
  maxBodyBytes?: number;
  log?: (error: unknown) => void;
}

export interface WebServer {
  url: string;
  origin: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2'
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      cookies[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      // Another site's cookie on 127.0.0.1 that is not percent-encoded: not ours, ignore it.
    }
  }
  return cookies;
}

function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'Malformed address.');
  }
}

function sameSecret(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `Request too large (over ${Math.round(limit / 2 ** 20)} MB). Import fewer files at once.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const { services, staticDir } = options;
  const token = options.token ?? randomBytes(24).toString('base64url');
  const maxBody = options.maxBodyBytes ?? 512 * 2 ** 20;
  const log = options.log ?? ((e) => console.error(e));
  let port = 0;
  const cookieName = () => `mocoop_token_${port}`;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  /** Returns null when the request may proceed, else the status and reason to refuse it. */
  const refuse = (req: http.IncomingMessage, url: URL): [number, string] | null => {
    if (!allowedHosts().has(req.headers.host ?? '')) return [403, 'Host not allowed.'];
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return [403, 'Cross-origin requests are not allowed.'];
    const bearer = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    const presented = bearer ?? url.searchParams.get('token') ?? parseCookies(req.headers.cookie)[cookieName()];
    if (!sameSecret(presented ?? undefined, token)) {
      return [401, 'This MoCoOp Workbench server needs its access link: open the URL with ?token=… that it printed when it started.'];
    }
    return null;
  };

  const securityHeaders = {
    'Content-Security-Policy': contentSecurityPolicy(),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin'
  };

  const send = (res: http.ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...securityHeaders, 'Content-Type': type, 'Cache-Control': 'no-store', ...extra });
    res.end(body);
  };

  const serveStatic = async (res: http.ServerResponse, pathname: string) => {
    const root = path.resolve(staticDir);
    let file = path.resolve(root, '.' + decodePath(pathname));
    if (!file.startsWith(root + path.sep) && file !== root) throw new HttpError(404, 'Not found.');
    const stat = await fs.stat(file).catch(() => null);
    if (!stat || stat.isDirectory()) file = path.join(root, 'index.html');
    const data = await fs.readFile(file).catch(() => {
      throw new HttpError(500, `The app's web files are missing from ${root}. Run "npm run build" first.`);
    });
    const cache: Record<string, string> = file.includes(`${path.sep}assets${path.sep}`) ? { 'Cache-Control': 'private, max-age=31536000, immutable' } : {};
    send(res, 200, STATIC_TYPES[path.extname(file)] ?? 'application/octet-stream', data, cache);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const refusal = refuse(req, url);
    if (refusal) return send(res, refusal[0], 'text/plain; charset=utf-8', refusal[1]);

    if (url.searchParams.has('token') && req.method === 'GET' && !url.pathname.startsWith('/api/')) {
      // Trade the token in the link for a same-site cookie, and drop it from the address bar.
      url.searchParams.delete('token');
      res.writeHead(302, {
        ...securityHeaders,
        Location: url.pathname + (url.search || ''),
        'Set-Cookie': `${cookieName()}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        'Cache-Control': 'no-store'
      });
      return res.end();
    }

    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') throw new HttpError(405, 'Use POST.');
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpError(415, 'Send JSON (Content-Type: application/json).');
      const body = await readBody(req, maxBody);
      let input: unknown;
      try {
        input = body.trim() === '' ? undefined : JSON.parse(body);
      } catch {
        throw new HttpError(400, 'The request body is not valid JSON.');
      }
      const envelope = await dispatch(services.handlers(), decodePath(url.pathname.slice(5)), input, log);
      return send(res, 200, 'application/json', JSON.stringify(envelope));
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'Method not allowed.');
    const media = url.pathname.match(/^\/media\/(thumb|image)\/(\d+)$/);
    if (media) {
      const found = await loadMedia(services, media[1]!, media[2]!);
      if (!found) throw new HttpError(404, 'No such image in the open project.');
      return send(res, 200, found.mime, found.data, { 'Cache-Control': 'private, max-age=60' });
    }
    return serveStatic(res, url.pathname);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof HttpError) return send(res, error.status, 'text/plain; charset=utf-8', error.message);
      log(error);
      send(res, 500, 'text/plain; charset=utf-8', 'Internal error.');
    });
  });

  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const reject = (socket: import('node:stream').Duplex, status: number, reason: string) =>
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${reason}`);
  server.on('upgrade', (req, socket, head) => {
    try {
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
      const refusal = refuse(req, url);
      if (refusal || url.pathname !== '/events') {
        const [status, reason] = refusal ?? [404, 'Not found.'];
        return reject(socket, status, reason);
      }
      sockets.handleUpgrade(req, socket, head, (ws) => {
        const unsubscribe = services.events.subscribe((event, payload) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }));
        });
        ws.on('close', unsubscribe);
        ws.on('error', unsubscribe);
      });
    } catch (error) {
      log(error);
      reject(socket, 400, 'Bad request.');
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: `${origin}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.closeAllConnections();
        server.close(() => resolve());
      })
  };
}
