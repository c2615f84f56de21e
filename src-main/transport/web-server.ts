/**
 * Web mode: the contract over loopback HTTP (requests) and WebSocket (events), plus the built renderer.
 *
 * Everything lives under a random per-launch path, `/s/<128-bit random>/` (static files, `api/`,
 * `media/`, the `events` socket); any other path is a bare 404. Every request under it needs the
 * per-launch token (bearer header, the cookie set from the printed link, or ?token=); Host and Origin
 * must be this server's own (no CORS, no DNS rebinding).
 *
 * Why the path: browsers do not separate cookies by port, so a cookie with `Path=/` would be sent to
 * every other server on 127.0.0.1 (another user's notebook, a dev server). Ours has
 * `Path=/s/<random>/`, a path only someone holding the printed link knows, so the browser never sends
 * it anywhere else.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { dispatch } from '../contract/dispatch';
import { AppError } from '../contract/errors';
import { cleanClientId } from '../contract/request-context';
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
  /** The access link to print: origin + basePath + `?token=…`. */
  url: string;
  /** `http://127.0.0.1:<port>`, without the base path. */
  origin: string;
  /** The per-launch path every route lives under, `/s/<random>/` (leading and trailing slash). */
  basePath: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/**
 * The most a request body may be: the body is decoded to one string, and V8 strings stop at about
 * 2^29 - 24 characters, so anything near 512 MiB would fail as a 500 instead of a 413.
 */
export const MAX_BODY_CEILING = 256 * 2 ** 20;

/** The request header naming the browser tab (its client id, made by the page's bridge). */
export const CLIENT_HEADER = 'x-mocoop-client';

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

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `Request too large (over ${Math.round(limit / 2 ** 20)} MB). Import fewer files at once.`);
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  // Refuse a declared oversize body at once, before reading any of it.
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A Host header is a host name or address and a port, nothing else (no spaces, slashes, userinfo). */
const HOST_SYNTAX = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The path and query of a request, parsed without ever looking at the Host header. */
function requestTarget(raw: string | undefined): URL {
  // Origin-form only ("/path?query"); "//x" would be read as a host, "*" and absolute forms are not ours.
  if (!raw || !raw.startsWith('/') || raw.startsWith('//')) throw new HttpError(400, 'Bad request.');
  try {
    return new URL(raw, 'http://127.0.0.1');
  } catch {
    throw new HttpError(400, 'Bad request.');
  }
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const { services, staticDir } = options;
  const token = options.token ?? randomBytes(24).toString('base64url');
  const basePath = `/s/${randomBytes(16).toString('base64url')}/`;
  const maxBody = Math.min(options.maxBodyBytes ?? MAX_BODY_CEILING, MAX_BODY_CEILING);
  const log = options.log ?? ((e) => console.error(e));
  let port = 0;
  const cookieName = () => `mocoop_token_${port}`;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  /** Refuses a missing, malformed or foreign Host before anything is built from it. */
  const checkHost = (req: http.IncomingMessage) => {
    const host = req.headers.host;
    if (host === undefined || !HOST_SYNTAX.test(host)) throw new HttpError(400, 'Bad request.');
    if (!allowedHosts().has(host)) throw new HttpError(403, 'Host not allowed.');
  };

  /** The part of the path after the base path, or null when the request is not for us (a bare 404). */
  const underBase = (pathname: string): string | null => {
    const head = pathname.slice(0, basePath.length);
    return sameSecret(head, basePath) ? pathname.slice(basePath.length) : null;
  };

  /** Returns null when the request may proceed, else the status and reason to refuse it. */
  const refuse = (req: http.IncomingMessage, url: URL): [number, string] | null => {
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

  const redirect = (res: http.ServerResponse, location: string, extra: Record<string, string> = {}) => {
    res.writeHead(302, { ...securityHeaders, Location: location, 'Cache-Control': 'no-store', ...extra });
    res.end();
  };

  /** `rest` is the path after the base path; unknown addresses directly in it get the app shell. */
  const serveStatic = async (res: http.ServerResponse, rest: string, search: string) => {
    const root = path.resolve(staticDir);
    const relative = decodePath(rest);
    let file = path.resolve(root, './' + relative);
    if (!file.startsWith(root + path.sep) && file !== root) throw new HttpError(404, 'Not found.');
    const stat = await fs.stat(file).catch(() => null);
    if (!stat || stat.isDirectory()) {
      if (relative.startsWith('assets/')) throw new HttpError(404, 'Not found.');
      // The shell loads its assets relative to the page, so it must sit directly in the base path
      // ("grid", not "a/b" or "grid/"); a deeper address (the app has no path routes) goes back to it.
      if (relative.includes('/')) return redirect(res, basePath + search);
      file = path.join(root, 'index.html');
    }
    const data = await fs.readFile(file).catch(() => {
      throw new HttpError(500, `The app's web files are missing from ${root}. Run "npm run build" first.`);
    });
    const cache: Record<string, string> = file.includes(`${path.sep}assets${path.sep}`) ? { 'Cache-Control': 'private, max-age=31536000, immutable' } : {};
    send(res, 200, STATIC_TYPES[path.extname(file)] ?? 'application/octet-stream', data, cache);
  };

  /** Set once the request has shown the token: only then may an unexpected error be logged in full. */
  const authenticated = new WeakSet<http.IncomingMessage>();

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    checkHost(req);
    const url = requestTarget(req.url);
    if (url.pathname === basePath.slice(0, -1)) return redirect(res, basePath + url.search);
    const rest = underBase(url.pathname);
    if (rest === null) throw new HttpError(404, 'Not found.');
    const refusal = refuse(req, url);
    if (refusal) return send(res, refusal[0], 'text/plain; charset=utf-8', refusal[1]);
    authenticated.add(req);

    if (url.searchParams.has('token') && req.method === 'GET' && !rest.startsWith('api/')) {
      // Trade the token in the link for a cookie sent only to this server's base path, and drop it
      // from the address bar.
      url.searchParams.delete('token');
      return redirect(res, url.pathname + url.search, {
        'Set-Cookie': `${cookieName()}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=${basePath}`
      });
    }

    if (rest.startsWith('api/')) {
      if (req.method !== 'POST') throw new HttpError(405, 'Use POST.');
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpError(415, 'Send JSON (Content-Type: application/json).');
      const body = await readBody(req, maxBody);
      let input: unknown;
      try {
        input = body.trim() === '' ? undefined : JSON.parse(body);
      } catch {
        throw new HttpError(400, 'The request body is not valid JSON.');
      }
      // The page's client id (one per tab): its label history and the origin of the changes it makes.
      const clientId = cleanClientId(req.headers[CLIENT_HEADER]);
      const envelope = await dispatch(services.handlers(), decodePath(rest.slice(4)), input, log, () => services.openProject?.file, { clientId });
      return send(res, 200, 'application/json', JSON.stringify(envelope));
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'Method not allowed.');
    const media = rest.match(/^media\/(thumb|image)\/(\d+)$/);
    if (media) {
      const found = await loadMedia(services, media[1]!, media[2]!);
      if (!found) throw new HttpError(404, 'No such image in the open project.');
      return send(res, 200, found.mime, found.data, { 'Cache-Control': 'private, max-age=60' });
    }
    return serveStatic(res, rest, url.search);
  };

  /** Logs an unexpected failure: in full for a request that showed the token, else one line without details. */
  const logFailure = (req: http.IncomingMessage, error: unknown) => {
    if (authenticated.has(req)) log(error);
    else log(`MoCoOp web server: an unauthenticated request failed (${error instanceof Error ? error.name : typeof error}).`);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof HttpError) {
        // A body we will not read: answer at once and close rather than drain it.
        const close: Record<string, string> = error.status === 413 ? { Connection: 'close' } : {};
        return send(res, error.status, 'text/plain; charset=utf-8', error.message, close);
      }
      logFailure(req, error);
      send(res, 500, 'text/plain; charset=utf-8', 'Internal error.');
    });
  });

  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const reject = (socket: import('node:stream').Duplex, status: number, reason: string) =>
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${reason}`);
  server.on('upgrade', (req, socket, head) => {
    try {
      checkHost(req);
      const url = requestTarget(req.url);
      if (underBase(url.pathname) !== 'events') return reject(socket, 404, 'Not found.');
      const refusal = refuse(req, url);
      if (refusal) return reject(socket, refusal[0], refusal[1]);
      authenticated.add(req);
      sockets.handleUpgrade(req, socket, head, (ws) => {
        const unsubscribe = services.events.subscribe((event, payload) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }));
        });
        ws.on('close', unsubscribe);
        ws.on('error', unsubscribe);
      });
    } catch (error) {
      if (error instanceof HttpError) return reject(socket, error.status, error.message);
      logFailure(req, error);
      reject(socket, 400, 'Bad request.');
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      sockets.close();
      const wanted = options.port ?? 0;
      if (error.code === 'EADDRINUSE')
        reject(
          new AppError(
            'unavailable',
            `Port ${wanted} on 127.0.0.1 is already in use by another program (perhaps another MoCoOp Workbench). Choose another port with --port N, or --port 0 for any free one.`
          )
        );
      else if (error.code === 'EACCES')
        reject(
          new AppError(
            'unavailable',
            `Port ${wanted} needs administrator rights on this system. Choose a port above 1023 with --port N, or --port 0 for any free one.`
          )
        );
      else reject(error);
    });
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    basePath,
    url: `${origin}${basePath}?token=${token}`,
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
