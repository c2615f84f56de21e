/** What can go wrong in a hub download, as typed errors: the ones a user sees and the ones retried. */

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

export function cancelled(cause?: unknown): DownloadError {
  return new DownloadError('cancelled', 'Download cancelled', { cause });
}

/** Turns a non-OK response into a DownloadError (401/403/404 and everything else). */
export function httpError(res: Response, what: string, repo: string, file?: string): DownloadError {
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

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const causeText = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : '';
    return causeText && causeText !== error.message ? `${error.message} (${causeText})` : error.message;
  }
  return String(error);
}

/** A transient failure: the transfer is retried (resumed) after a backoff. */
export class RetryableError extends Error {
  readonly status?: number;
  constructor(message: string, options: { cause?: unknown; status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.status !== undefined) this.status = options.status;
  }
}

/** The downloaded content does not match the hub's size or checksum. */
export class ChecksumMismatch extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string
  ) {
    super(`expected ${expected}, got ${actual}`);
  }
}
