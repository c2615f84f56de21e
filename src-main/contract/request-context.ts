/**
 * Who made the request being handled: the window (or browser tab) it came from, as the transports
 * name it (web mode: the page's client header; Electron: the window). Label history is kept per
 * client, so one window's undo never undoes another's work, and the change events a request causes
 * name their origin, so each window can tell its own changes from another's.
 * Main process only (AsyncLocalStorage follows the request through every await).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  /** Null: a caller without a window (the CLI, tests): its label history is the shared, unnamed one. */
  clientId: string | null;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** A client id as the transports accept it: short, URL-safe, nothing else (anything else is no id). */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function cleanClientId(raw: unknown): string | null {
  return typeof raw === 'string' && CLIENT_ID_PATTERN.test(raw) ? raw : null;
}

export function runWithContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The client of the request being handled; null outside a request or for a caller without one. */
export function currentClientId(): string | null {
  return storage.getStore()?.clientId ?? null;
}
