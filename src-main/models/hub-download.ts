/**
 * Downloads a model repository from the Hugging Face hub (or a compatible endpoint) into a local
 * folder: metadata from the hub API, a disk-space check, resumable streamed transfers into
 * `destDir/.partial/<name>.part`, checksum verification (sha256 for LFS files, git blob sha1 for
 * small files), and only once every file verified, a rename of each file into `destDir`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { formatBytes } from '../contract/format';
import { DEFAULT_ENDPOINT, fetchRepoInfo, trimEndpoint, type HubFile } from './hub/api';
import { DownloadError, cancelled } from './hub/errors';
import { ProgressTracker, type DownloadProgress } from './hub/progress';
import { PARTIAL_DIR, downloadFile, fileSize, partPath, type Context } from './hub/transfer';

export { DEFAULT_ENDPOINT, fetchRepoFiles, type HubFile } from './hub/api';
export { DownloadError, type DownloadErrorCode } from './hub/errors';
export type { DownloadProgress } from './hub/progress';

export const CLIP_REQUIRED_FILES = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'] as const;
export const CLIP_OPTIONAL_FILES = ['tokenizer_config.json', 'special_tokens_map.json', 'preprocessor_config.json'] as const;
export const CLIP_FILES: readonly string[] = [...CLIP_REQUIRED_FILES, ...CLIP_OPTIONAL_FILES];

const DISK_MARGIN = 0.05;

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
