/**
 * Downloads a model repository from the Hugging Face hub (or a compatible endpoint) into a local
 * folder: metadata from the hub API, a disk-space check, resumable streamed transfers into
 * `destDir/.partial/<name>.part`, checksum verification (sha256 for LFS files, git blob sha1 for
 * small files), and only once every file verified, a rename of each file into `destDir`.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export interface HubFile {
  name: string;
  size: number;
  /** sha256 of the content, for LFS files. */
  sha256?: string;
  /** git blob id (sha1 of `blob <size>\0<content>`), for small non-LFS files. */
  gitSha1?: string;
}

export interface DownloadProgress {
  file: string;
  /** 0-based index of `file` among the files being downloaded. */
  fileIndex: number;
  fileCount: number;
  /** Bytes on disk for all files together, including bytes resumed from earlier attempts. */
  bytesDone: number;
  /** Size of all files together. */
  bytesTotal: number;
  /** Transfer speed over a sliding window (network bytes only). */
  bytesPerSecond: number;
  etaSeconds: number | null;
}

export interface DownloadOptions {
  /** e.g. 'openai/clip-vit-base-patch16' */
  repo: string;
  /** Branch, tag or commit; default 'main'. */
  revision?: string;
  /** Final folder; files are written to destDir/.partial/<name>.part first. */
  destDir: string;
  /** Default CLIP_FILES. Files in CLIP_OPTIONAL_FILES are skipped when the repo lacks them; all others are required. */
  files?: string[];
  /** Default 'https://huggingface.co'. */
  endpoint?: string;
  /** Hugging Face token, sent as `Authorization: Bearer <token>`. */
  token?: string;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Network retries per file (each resumes from the bytes on disk); default 3. */
  retries?: number;
  /** Base backoff between retries; attempt k waits retryDelayMs * k. Default 500 ms. */
  retryDelayMs?: number;
  /** Abort and retry a transfer that receives no data for this long; default 60 s. */
  stallTimeoutMs?: number;
  /** Free bytes available at `dir`; default uses fs.promises.statfs. */
  freeBytes?: (dir: string) => Promise<number>;
}

export type DownloadErrorCode = 'not_found' | 'network' | 'checksum' | 'disk_space' | 'cancelled' | 'bad_response';

export class DownloadError extends Error {
  readonly code: DownloadErrorCode;
  /** HTTP status, when the error comes from a response. */
  readonly status?: number;
  /** The file concerned, when there is one. */
  readonly file?: string;

  constructor(code: DownloadErrorCode, message: string, options: { cause?: unknown; status?: number; file?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DownloadError';
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.file !== undefined) this.file = options.file;
  }
}

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
export const CLIP_REQUIRED_FILES = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'] as const;
export const CLIP_OPTIONAL_FILES = ['tokenizer_config.json', 'special_tokens_map.json', 'preprocessor_config.json'] as const;
export const CLIP_FILES: readonly string[] = [...CLIP_REQUIRED_FILES, ...CLIP_OPTIONAL_FILES];

const PARTIAL_DIR = '.partial';
const DISK_MARGIN = 0.05;
const PROGRESS_INTERVAL_MS = 100;
const SPEED_WINDOW_MS = 5000;

// ---------------------------------------------------------------------------------------------
// Metadata

const Sibling = z.object({
  rfilename: z.string().min(1),
  size: z.number().int().nonnegative().optional(),
  blobId: z.string().regex(/^[0-9a-f]{40}$/i).optional(),
  lfs: z
    .object({
      sha256: z.string().regex(/^[0-9a-f]{64}$/i),
      size: z.number().int().nonnegative()
    })
    .optional()
});

const ModelInfo = z.object({
  sha: z.string().optional(),
  siblings: z.array(Sibling)
});

interface RepoInfo {
  /** Commit the revision resolved to, when the hub said so. */
  commit?: string;
  files: HubFile[];
  /** Names listed by the hub but without a size (so not downloadable with checks). */
  unsized: Set<string>;
}

function checkRepoName(repo: string): void {
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(repo) || repo.split('/').some((part) => part === '.' || part === '..')) {
    throw new DownloadError('bad_response', `"${repo}" is not a valid model repo name (expected "owner/name")`);
  }
}

function encodePath(file: string): string {
  return file.split('/').map(encodeURIComponent).join('/');
}

function trimEndpoint(endpoint: string): string {
  return endpoint.replace(/\/+$/, '');
}

function headers(token: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { 'Accept-Encoding': 'identity', ...extra };
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

function cancelled(cause?: unknown): DownloadError {
  return new DownloadError('cancelled', 'Download cancelled', { cause });
}

/** Turns a non-OK response into a DownloadError (401/403/404 and everything else). */
function httpError(res: Response, what: string, repo: string, file?: string): DownloadError {
  const hubCode = res.headers.get('x-error-code') ?? '';
  const status = res.status;
  const opts = { status, ...(file === undefined ? {} : { file }) };
  if (hubCode === 'RepoNotFound' || hubCode === 'RevisionNotFound' || hubCode === 'EntryNotFound' || status === 404) {
    const detail =
      hubCode === 'RevisionNotFound'
        ? `revision not found in ${repo}`
        : file !== undefined && hubCode !== 'RepoNotFound'
          ? `${repo} has no file ${file}`
          : `model repo ${repo} not found`;
    const authHint = status === 401 || status === 403 ? ' (or it is private/gated: check the name and your Hugging Face token)' : '';
    return new DownloadError('not_found', `${what}: ${detail}${authHint} (HTTP ${status})`, opts);
  }
  if (status === 401 || status === 403) {
    return new DownloadError(
      'bad_response',
      `${what}: access denied (HTTP ${status}). ${repo} is gated or private: accept its terms on the Hugging Face website and provide an access token.`,
      opts
    );
  }
  return new DownloadError('bad_response', `${what}: unexpected HTTP ${status} ${res.statusText}`.trim(), opts);
}

async function fetchRepoInfo(
  repo: string,
  revision: string,
  endpoint: string,
  token: string | undefined,
  signal: AbortSignal | undefined
): Promise<RepoInfo> {
  checkRepoName(repo);
  const url = `${trimEndpoint(endpoint)}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
  const what = `Cannot list files of ${repo}@${revision}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: headers(token, { Accept: 'application/json' }), signal });
  } catch (error) {
    if (signal?.aborted) throw cancelled(error);
    throw new DownloadError('network', `${what}: ${describe(error)}`, { cause: error });
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw httpError(res, what, repo);
  }
  let json: unknown;
  try {
    json = await res.json();
  } catch (error) {
    if (signal?.aborted) throw cancelled(error);
    throw new DownloadError('bad_response', `${what}: the hub's answer is not JSON`, { cause: error });
  }
  const parsed = ModelInfo.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown';
    throw new DownloadError('bad_response', `${what}: unexpected metadata format (${where})`, { cause: parsed.error });
  }
  const files: HubFile[] = [];
  const unsized = new Set<string>();
  for (const s of parsed.data.siblings) {
    if (s.lfs) files.push({ name: s.rfilename, size: s.lfs.size, sha256: s.lfs.sha256.toLowerCase() });
    else if (s.size !== undefined) {
      const f: HubFile = { name: s.rfilename, size: s.size };
      if (s.blobId) f.gitSha1 = s.blobId.toLowerCase();
      files.push(f);
    } else unsized.add(s.rfilename);
  }
  const sha = parsed.data.sha;
  return { ...(sha && /^[0-9a-f]{40}$/i.test(sha) ? { commit: sha.toLowerCase() } : {}), files, unsized };
}

/** Lists the files of a repo revision with sizes and checksums (`?blobs=true`). */
export async function fetchRepoFiles(
  repo: string,
  revision: string,
  endpoint: string = DEFAULT_ENDPOINT,
  token?: string,
  signal?: AbortSignal
): Promise<HubFile[]> {
  return (await fetchRepoInfo(repo, revision, endpoint, token, signal)).files;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const causeText = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : '';
    return causeText && causeText !== error.message ? `${error.message} (${causeText})` : error.message;
  }
  return String(error);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.promises.stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

async function nearestExistingDir(dir: string): Promise<string> {
  let current = path.resolve(dir);
  for (;;) {
    try {
      await fs.promises.access(current);
      return current;
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

async function defaultFreeBytes(dir: string): Promise<number> {
  const stats = await fs.promises.statfs(dir);
  return Number(stats.bavail) * Number(stats.bsize);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled(signal.reason));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelled(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A transient failure: the transfer is retried (resumed) after a backoff. */
class RetryableError extends Error {
  readonly status?: number;
  constructor(message: string, options: { cause?: unknown; status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.status !== undefined) this.status = options.status;
  }
}

/** The downloaded content does not match the hub's size or checksum. */
class ChecksumMismatch extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string
  ) {
    super(`expected ${expected}, got ${actual}`);
  }
}

/** Running checksum of a file's content, matching what the hub publishes for it. */
class ContentHash {
  private readonly hash: Hash | null;
  private readonly kind: 'sha256' | 'git-sha1' | 'none';

  constructor(private readonly file: HubFile) {
    if (file.sha256) {
      this.kind = 'sha256';
      this.hash = createHash('sha256');
    } else if (file.gitSha1) {
      this.kind = 'git-sha1';
      this.hash = createHash('sha1');
      this.hash.update(`blob ${file.size}\0`);
    } else {
      this.kind = 'none';
      this.hash = null;
    }
  }

  update(chunk: Uint8Array): void {
    this.hash?.update(chunk);
  }

  /** Throws ChecksumMismatch unless `bytes` and the digest match the hub's. */
  verify(bytes: number): void {
    if (bytes !== this.file.size) throw new ChecksumMismatch(`${this.file.size} bytes`, `${bytes} bytes`);
    if (!this.hash) return;
    const digest = this.hash.digest('hex');
    const expected = this.kind === 'sha256' ? this.file.sha256! : this.file.gitSha1!;
    const label = this.kind === 'sha256' ? 'sha256' : 'git sha1';
    if (digest !== expected) throw new ChecksumMismatch(`${label} ${expected}`, `${label} ${digest}`);
  }
}

async function hashExisting(file: string, bytes: number, hash: ContentHash, signal: AbortSignal | undefined): Promise<void> {
  if (bytes === 0) return;
  const stream = fs.createReadStream(file, { start: 0, end: bytes - 1, highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) {
      if (signal?.aborted) throw cancelled(signal.reason);
      hash.update(chunk as Buffer);
    }
  } finally {
    stream.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Progress

class ProgressTracker {
  private readonly done = new Map<string, number>();
  private readonly samples: { t: number; bytes: number }[] = [];
  private transferred = 0;
  private lastEmit = -Infinity;
  private current = { file: '', index: 0 };

  constructor(
    private readonly files: HubFile[],
    private readonly listener: ((p: DownloadProgress) => void) | undefined
  ) {
    this.samples.push({ t: performance.now(), bytes: 0 });
  }

  private get total(): number {
    return this.files.reduce((sum, f) => sum + f.size, 0);
  }

  private get bytesDone(): number {
    let sum = 0;
    for (const v of this.done.values()) sum += v;
    return sum;
  }

  startFile(index: number): void {
    this.current = { file: this.files[index]!.name, index };
  }

  /** Bytes of `file` already on disk (resumed or reset). */
  setFileBytes(file: string, bytes: number): void {
    this.done.set(file, bytes);
    this.emit(true);
  }

  /** Bytes just received from the network for the current file. */
  add(bytes: number): void {
    const file = this.current.file;
    this.done.set(file, (this.done.get(file) ?? 0) + bytes);
    this.transferred += bytes;
    this.emit(false);
  }

  private speed(now: number): number {
    const last = this.samples[this.samples.length - 1]!;
    if (now - last.t >= PROGRESS_INTERVAL_MS) this.samples.push({ t: now, bytes: this.transferred });
    while (this.samples.length > 2 && now - this.samples[1]!.t >= SPEED_WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (now - first.t) / 1000;
    return dt > 0 ? (this.transferred - first.bytes) / dt : 0;
  }

  emit(force: boolean, final = false): void {
    const now = performance.now();
    if (!force && now - this.lastEmit < PROGRESS_INTERVAL_MS) return;
    this.lastEmit = now;
    const bytesPerSecond = this.speed(now);
    if (!this.listener) return;
    const bytesTotal = this.total;
    const bytesDone = final ? bytesTotal : this.bytesDone;
    const remaining = Math.max(0, bytesTotal - bytesDone);
    this.listener({
      file: this.current.file,
      fileIndex: this.current.index,
      fileCount: this.files.length,
      bytesDone,
      bytesTotal,
      bytesPerSecond,
      etaSeconds: remaining === 0 ? 0 : bytesPerSecond > 0 ? remaining / bytesPerSecond : null
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Download

interface Context {
  repo: string;
  urlBase: string;
  token: string | undefined;
  signal: AbortSignal | undefined;
  retries: number;
  retryDelayMs: number;
  stallTimeoutMs: number;
  progress: ProgressTracker;
}

function partPath(destDir: string, name: string): string {
  return path.join(destDir, PARTIAL_DIR, ...name.split('/')) + '.part';
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** One transfer of `file` into `part`, resuming from the bytes already there, then verification. */
async function transferOnce(file: HubFile, part: string, ctx: Context): Promise<void> {
  let have = await fileSize(part);
  if (have > file.size) {
    await fs.promises.rm(part, { force: true });
    have = 0;
  }
  let hash = new ContentHash(file);
  await hashExisting(part, have, hash, ctx.signal);
  ctx.progress.setFileBytes(file.name, have);

  if (have < file.size) {
    // Per-attempt controller: user cancellation or a stalled transfer aborts the request.
    const attempt = new AbortController();
    const onAbort = (): void => attempt.abort(ctx.signal?.reason);
    if (ctx.signal?.aborted) throw cancelled(ctx.signal.reason);
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    let stalled = false;
    let stallTimer: NodeJS.Timeout | undefined;
    const armStallTimer = (): void => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => {
        stalled = true;
        attempt.abort(new Error('stalled'));
      }, ctx.stallTimeoutMs);
    };
    const networkError = (error: unknown, what: string): Error => {
      if (ctx.signal?.aborted) return cancelled(error);
      if (stalled) return new RetryableError(`no data received for ${Math.round(ctx.stallTimeoutMs / 1000)} s`, { cause: error });
      return new RetryableError(`${what}: ${describe(error)}`, { cause: error });
    };

    let handle: fs.promises.FileHandle | undefined;
    try {
      armStallTimer();
      const url = `${ctx.urlBase}/${encodePath(file.name)}`;
      let res: Response;
      try {
        res = await fetch(url, {
          headers: headers(ctx.token, have > 0 ? { Range: `bytes=${have}-` } : {}),
          redirect: 'follow',
          signal: attempt.signal
        });
      } catch (error) {
        throw networkError(error, 'request failed');
      }

      let append = false;
      if (res.status === 206 && have > 0) {
        const range = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
        if (range && Number(range[1]) === have) append = true;
        else {
          await res.body?.cancel().catch(() => undefined);
          await fs.promises.rm(part, { force: true });
          throw new RetryableError(`server answered an unexpected range (${res.headers.get('content-range') ?? 'none'})`);
        }
      } else if (res.status === 416 && have > 0) {
        // The part does not fit the file on the server any more: start over.
        await res.body?.cancel().catch(() => undefined);
        await fs.promises.rm(part, { force: true });
        throw new RetryableError('server rejected the resume range (HTTP 416)');
      } else if (res.status !== 200) {
        await res.body?.cancel().catch(() => undefined);
        if (isRetryableStatus(res.status)) throw new RetryableError(`HTTP ${res.status}`, { status: res.status });
        throw httpError(res, `Cannot download ${file.name} from ${ctx.repo}`, ctx.repo, file.name);
      }
      if (!res.body) throw new RetryableError('empty response body');

      if (!append && have > 0) {
        // Server ignored the Range header and sent the whole file: restart from zero.
        have = 0;
        hash = new ContentHash(file);
        ctx.progress.setFileBytes(file.name, 0);
      }
      await fs.promises.mkdir(path.dirname(part), { recursive: true });
      handle = await fs.promises.open(part, append ? 'a' : 'w');

      const reader = res.body.getReader();
      try {
        for (;;) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch (error) {
            throw networkError(error, 'connection lost');
          }
          if (chunk.done) break;
          armStallTimer();
          const bytes = chunk.value;
          await handle.write(bytes);
          hash.update(bytes);
          have += bytes.byteLength;
          ctx.progress.add(bytes.byteLength);
          if (have > file.size) break; // more than the hub announced: verification will fail on size
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new DownloadError('disk_space', `The disk is full while writing ${file.name}`, { cause: error, file: file.name });
      }
      throw error;
    } finally {
      clearTimeout(stallTimer);
      ctx.signal?.removeEventListener('abort', onAbort);
      await handle?.close();
    }
    if (ctx.signal?.aborted) throw cancelled(ctx.signal.reason);
    if (have < file.size) throw new RetryableError(`connection closed after ${have} of ${file.size} bytes`);
  }
  hash.verify(have);
}

/** Downloads and verifies one file into its .part, with resume-retries and one checksum retry. */
async function downloadFile(file: HubFile, part: string, ctx: Context): Promise<void> {
  let failures = 0;
  let checksumRetried = false;
  for (;;) {
    if (ctx.signal?.aborted) throw cancelled(ctx.signal.reason);
    try {
      await transferOnce(file, part, ctx);
      return;
    } catch (error) {
      if (error instanceof ChecksumMismatch) {
        await fs.promises.rm(part, { force: true });
        ctx.progress.setFileBytes(file.name, 0);
        if (!checksumRetried) {
          checksumRetried = true;
          continue;
        }
        throw new DownloadError(
          'checksum',
          `${file.name} from ${ctx.repo} failed verification twice: ${error.message}`,
          { file: file.name, cause: error }
        );
      }
      if (!(error instanceof RetryableError)) throw error;
      failures += 1;
      if (failures > ctx.retries) {
        const tries = `${failures} attempt${failures === 1 ? '' : 's'}`;
        if (error.status !== undefined) {
          throw new DownloadError('bad_response', `Cannot download ${file.name} from ${ctx.repo}: ${error.message} (after ${tries})`, {
            status: error.status,
            file: file.name,
            cause: error
          });
        }
        throw new DownloadError('network', `Download of ${file.name} failed after ${tries}: ${error.message}`, {
          file: file.name,
          cause: error
        });
      }
      await sleep(ctx.retryDelayMs * failures, ctx.signal);
    }
  }
}

function checkFileName(name: string): void {
  const parts = name.split('/');
  if (path.isAbsolute(name) || name.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new DownloadError('bad_response', `Refusing to download a file with an unsafe name: ${name}`);
  }
}

/**
 * Downloads `files` (default CLIP_FILES) of `repo` into `destDir`. Resumes from `.part` files left
 * by an earlier, interrupted call. Files appear in `destDir` only once all of them verified.
 */
export async function downloadModel(options: DownloadOptions): Promise<{ dir: string; files: HubFile[] }> {
  const revision = options.revision ?? 'main';
  const endpoint = trimEndpoint(options.endpoint ?? DEFAULT_ENDPOINT);
  const destDir = path.resolve(options.destDir);
  const wanted = options.files ?? [...CLIP_FILES];
  const { repo, token, signal } = options;
  wanted.forEach(checkFileName);

  const info = await fetchRepoInfo(repo, revision, endpoint, token, signal);
  const byName = new Map(info.files.map((f) => [f.name, f]));
  const optional = new Set<string>(CLIP_OPTIONAL_FILES);
  const files: HubFile[] = [];
  for (const name of wanted) {
    const file = byName.get(name);
    if (file) files.push(file);
    else if (info.unsized.has(name)) {
      throw new DownloadError('bad_response', `The hub did not give the size of ${name} in ${repo}; cannot download it safely`);
    } else if (!optional.has(name)) {
      const why = name.endsWith('.safetensors') ? 'this app needs the safetensors weights' : 'this app needs it';
      throw new DownloadError('not_found', `${repo} has no ${name}; ${why}`, { file: name });
    }
  }

  // Disk space: what is still to fetch (minus partial bytes), plus a margin.
  let needed = 0;
  for (const f of files) {
    const have = await fileSize(partPath(destDir, f.name));
    needed += have <= f.size ? f.size - have : f.size;
  }
  needed = Math.ceil(needed * (1 + DISK_MARGIN));
  if (needed > 0) {
    const where = await nearestExistingDir(destDir);
    const free = await (options.freeBytes ?? defaultFreeBytes)(where);
    if (free < needed) {
      throw new DownloadError(
        'disk_space',
        `Not enough disk space in ${where}: the model needs ${formatBytes(needed)} (including a 5% margin) but only ${formatBytes(free)} is free`
      );
    }
  }

  // Pin the revision to the commit the hub reported, so all files come from the same commit.
  const pinned = info.commit ?? revision;
  const ctx: Context = {
    repo,
    urlBase: `${endpoint}/${repo}/resolve/${encodeURIComponent(pinned)}`,
    token,
    signal,
    retries: Math.max(0, options.retries ?? 3),
    retryDelayMs: Math.max(0, options.retryDelayMs ?? 500),
    stallTimeoutMs: Math.max(1, options.stallTimeoutMs ?? 60_000),
    progress: new ProgressTracker(files, options.onProgress)
  };

  await fs.promises.mkdir(path.join(destDir, PARTIAL_DIR), { recursive: true });
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    ctx.progress.startFile(i);
    await downloadFile(file, partPath(destDir, file.name), ctx);
  }
  if (signal?.aborted) throw cancelled(signal.reason);

  // Everything verified: move into place.
  for (const file of files) {
    const target = path.join(destDir, ...file.name.split('/'));
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    await fs.promises.rename(partPath(destDir, file.name), target);
  }
  await fs.promises.rm(path.join(destDir, PARTIAL_DIR), { recursive: true, force: true });
  ctx.progress.emit(true, true);
  return { dir: destDir, files };
}
