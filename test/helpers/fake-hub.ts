/**
 * A local stand-in for the Hugging Face hub, for download tests: the model-info API
 * (`/api/models/{repo}/revision/{rev}?blobs=true`), `/{repo}/resolve/{rev}/{file}` with Range
 * support, optional redirects of LFS files to `/cdn/...`, and injectable faults (dropped
 * connections, corrupted bodies, slow bodies, ignored Range headers, gated repos).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHubOptions {
  repos: Record<string, Record<string, Buffer>>;
  /** Close the socket after N body bytes, on the first `dropTimes` body requests of that file. */
  dropAfterBytes?: Record<string, number>;
  /** How many requests `dropAfterBytes` applies to; default 1. */
  dropTimes?: number;
  /** Serve wrong bytes (same length) for the first N body requests of this file. */
  corrupt?: Record<string, number>;
  /** Redirect LFS files from /resolve/ to /cdn/..., like the real hub does. */
  redirectLfs?: boolean;
  /** Send bodies in 64 KiB chunks with this delay between them (to test cancellation). */
  chunkDelayMs?: number;
  /** Ignore Range headers and always answer 200 with the whole file. */
  ignoreRange?: boolean;
  /** Repos that answer 401 unless `Authorization: Bearer <token>` carries this token. */
  gated?: Record<string, string>;
}

export interface FakeHubRequest {
  /** Path and query of the request. */
  path: string;
  range?: string;
  authorization?: string;
}

export interface FakeHub {
  url: string;
  /** Commit sha the fake reports for every repo (`sha` in the API answer). */
  commit: string;
  requests: FakeHubRequest[];
  close(): Promise<void>;
}

export const FAKE_COMMIT = '0123456789abcdef0123456789abcdef01234567';

export function gitBlobSha1(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

function isLfs(name: string, content: Buffer): boolean {
  return content.length > 1024 || name.endsWith('.safetensors');
}

function lfsPointer(content: Buffer): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(content)}\nsize ${content.length}\n`);
}

function siblings(files: Record<string, Buffer>): unknown[] {
  return Object.entries(files).map(([rfilename, content]) => {
    if (isLfs(rfilename, content)) {
      const pointer = lfsPointer(content);
      return {
        rfilename,
        size: content.length,
        blobId: gitBlobSha1(pointer),
        lfs: { sha256: sha256(content), size: content.length, pointerSize: pointer.length }
      };
    }
    return { rfilename, size: content.length, blobId: gitBlobSha1(content) };
  });
}

function corrupted(content: Buffer): Buffer {
  const copy = Buffer.from(content);
  for (let i = 0; i < copy.length; i += 997) copy[i] = copy[i]! ^ 0xff;
  if (copy.length > 0) copy[copy.length - 1] = copy[copy.length - 1]! ^ 0x55;
  return copy;
}

function sendError(res: http.ServerResponse, status: number, hubCode: string, message: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Error-Code': hubCode });
  res.end(JSON.stringify({ error: message }));
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  const requests: FakeHubRequest[] = [];
  const bodyCounts = new Map<string, number>();
  const repoNames = Object.keys(options.repos).sort((a, b) => b.length - a.length);

  function authorized(repo: string, req: http.IncomingMessage): boolean {
    const token = options.gated?.[repo];
    return token === undefined || req.headers.authorization === `Bearer ${token}`;
  }

  async function sendBody(req: http.IncomingMessage, res: http.ServerResponse, repo: string, file: string): Promise<void> {
    const key = file;
    const count = (bodyCounts.get(key) ?? 0) + 1;
    bodyCounts.set(key, count);
    let content = options.repos[repo]![file]!;
    if (count <= (options.corrupt?.[file] ?? 0)) content = corrupted(content);

    let start = 0;
    let status = 200;
    const headers: Record<string, string | number> = { 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes' };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let end = content.length - 1;
    if (range && !options.ignoreRange) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(end, Number(range[2]));
      if (start >= content.length || start > end) {
        res.writeHead(416, { 'Content-Range': `bytes */${content.length}` });
        res.end();
        return;
      }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${content.length}`;
    }
    const body = content.subarray(start, end + 1);
    headers['Content-Length'] = body.length;
    res.writeHead(status, headers);

    const dropAt = options.dropAfterBytes?.[file];
    const drop = dropAt !== undefined && count <= (options.dropTimes ?? 1) && dropAt < body.length;
    const limit = drop ? dropAt : body.length;
    const chunk = options.chunkDelayMs ? 64 * 1024 : Math.max(1, limit);
    for (let offset = 0; offset < limit; offset += chunk) {
      if (res.destroyed) return;
      const piece = body.subarray(offset, Math.min(limit, offset + chunk));
      await new Promise<void>((resolve) => {
        res.once('close', resolve);
        res.write(piece, () => {
          res.off('close', resolve);
          resolve();
        });
      });
      if (options.chunkDelayMs && offset + chunk < limit) await delay(options.chunkDelayMs);
    }
    if (drop) {
      res.socket?.destroy();
      return;
    }
    res.end();
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const entry: FakeHubRequest = { path: url.pathname + url.search };
    if (req.headers.range) entry.range = req.headers.range;
    if (req.headers.authorization) entry.authorization = req.headers.authorization;
    requests.push(entry);
    const pathname = decodeURIComponent(url.pathname);

    const api = /^\/api\/models\/(.+)\/revision\/([^/]+)$/.exec(pathname);
    if (api) {
      const [, repo, rev] = api as unknown as [string, string, string];
      const files = options.repos[repo];
      if (!files) return sendError(res, 404, 'RepoNotFound', 'Repository not found');
      if (!authorized(repo, req)) return sendError(res, 401, 'GatedRepo', 'Access to this repo is restricted');
      if (rev !== 'main' && rev !== FAKE_COMMIT) return sendError(res, 404, 'RevisionNotFound', 'Invalid rev id');
      const blobs = url.searchParams.get('blobs') === 'true';
      const list = blobs ? siblings(files) : Object.keys(files).map((rfilename) => ({ rfilename }));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ id: repo, modelId: repo, sha: FAKE_COMMIT, private: false, siblings: list }));
      return;
    }

    const cdn = /^\/cdn\/(.+)\/([0-9a-f]{64})\/(.+)$/.exec(pathname);
    if (cdn) {
      const [, repo, , file] = cdn as unknown as [string, string, string, string];
      if (!options.repos[repo]?.[file]) return sendError(res, 404, 'EntryNotFound', 'Entry not found');
      return sendBody(req, res, repo, file);
    }

    for (const repo of repoNames) {
      const prefix = `/${repo}/resolve/`;
      if (!pathname.startsWith(prefix)) continue;
      const rest = pathname.slice(prefix.length);
      const slash = rest.indexOf('/');
      const rev = rest.slice(0, slash);
      const file = rest.slice(slash + 1);
      if (!authorized(repo, req)) return sendError(res, 401, 'GatedRepo', 'Access to this repo is restricted');
      if (rev !== 'main' && rev !== FAKE_COMMIT) return sendError(res, 404, 'RevisionNotFound', 'Invalid rev id');
      const content = options.repos[repo]![file];
      if (slash < 0 || !content) return sendError(res, 404, 'EntryNotFound', 'Entry not found');
      if (options.redirectLfs && isLfs(file, content)) {
        res.writeHead(302, { Location: `/cdn/${repo}/${sha256(content)}/${file}?signature=fake` });
        res.end();
        return;
      }
      return sendBody(req, res, repo, file);
    }
    sendError(res, 404, 'RepoNotFound', 'Repository not found');
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    commit: FAKE_COMMIT,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })
  };
}
