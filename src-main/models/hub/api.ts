/** The hub's metadata API: which files a repository revision has, with sizes and checksums. */
import { z } from 'zod';
import { DownloadError, cancelled, describe, httpError } from './errors';

export interface HubFile {
  name: string;
  size: number;
  /** sha256 of the content, for LFS files. */
  sha256?: string;
  /** git blob id (sha1 of `blob <size>\0<content>`), for small non-LFS files. */
  gitSha1?: string;
}

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

const Sibling = z.object({
  rfilename: z.string().min(1),
  size: z.number().int().nonnegative().optional(),
  blobId: z
    .string()
    .regex(/^[0-9a-f]{40}$/i)
    .optional(),
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

export interface RepoInfo {
  /** Commit the revision resolved to, when the hub said so. */
  commit?: string;
  files: HubFile[];
  /** Names listed by the hub but without a size (so not downloadable with checks). */
  unsized: Set<string>;
}

export function checkRepoName(repo: string): void {
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(repo) || repo.split('/').some((part) => part === '.' || part === '..')) {
    throw new DownloadError('bad_response', `"${repo}" is not a valid model repo name (expected "owner/name")`);
  }
}

export function encodePath(file: string): string {
  return file.split('/').map(encodeURIComponent).join('/');
}

export function trimEndpoint(endpoint: string): string {
  return endpoint.replace(/\/+$/, '');
}

export function headers(token: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { 'Accept-Encoding': 'identity', ...extra };
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

export async function fetchRepoInfo(
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
