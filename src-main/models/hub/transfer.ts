/** One file's transfer into its .part file: resumed ranges, stall detection, retries, verification. */
import fs from 'node:fs';
import path from 'node:path';
import { encodePath, headers, type HubFile } from './api';
import { ContentHash, hashExisting } from './content-hash';
import { ChecksumMismatch, DownloadError, RetryableError, cancelled, describe, httpError } from './errors';
import type { ProgressTracker } from './progress';

export const PARTIAL_DIR = '.partial';

export async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.promises.stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
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

export interface Context {
  repo: string;
  urlBase: string;
  token: string | undefined;
  signal: AbortSignal | undefined;
  retries: number;
  retryDelayMs: number;
  stallTimeoutMs: number;
  progress: ProgressTracker;
}

export function partPath(destDir: string, name: string): string {
  return path.join(destDir, PARTIAL_DIR, ...name.split('/')) + '.part';
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** One transfer of `file` into `part`, resuming from the bytes already there, then verification. */
export async function transferOnce(file: HubFile, part: string, ctx: Context): Promise<void> {
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
export async function downloadFile(file: HubFile, part: string, ctx: Context): Promise<void> {
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
        throw new DownloadError('checksum', `${file.name} from ${ctx.repo} failed verification twice: ${error.message}`, { file: file.name, cause: error });
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
