import { RequestError } from '$contract/client';

/** A save refused because another window saved first (the server's stale_revision): offer Reload / Overwrite. */
export function isStaleRevision(error: unknown): error is RequestError {
  return error instanceof RequestError && error.code === 'stale_revision';
}

/** Whether a change event came from another window than this one (`self`: this window's client id). */
export function fromElsewhere(origin: string | undefined, self: string | undefined): boolean {
  return origin === undefined || self === undefined || origin !== self;
}

/** The optional revision field of a save: only when the window knows the revision it started from. */
export function expected(revision: number | undefined | null): { expectedRevision?: number } {
  return typeof revision === 'number' ? { expectedRevision: revision } : {};
}
