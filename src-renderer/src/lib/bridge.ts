import { type DomainApi, type Subscribe, RequestError, createDomainApi } from '$contract/client';
import type { Envelope, EventName, RequestName } from '$contract/index';

/**
 * Web mode's link to its server: `connected`; `lost` (the server is not reachable: the page retries
 * and recovers by itself when it is back); `stale` (a server answers, but not to this tab's link: it
 * was restarted with a new access link, which the user must open).
 */
export type ConnectionState = 'connected' | 'lost' | 'stale';

/** What the renderer needs from its host, identical in Electron (preload) and web mode. */
export interface Bridge {
  transport: 'electron' | 'web';
  api: DomainApi;
  /**
   * This window's (tab's) client id: the server keeps its label history apart from other windows'
   * (undo undoes this window's steps only) and names it as the origin of the changes it makes.
   */
  clientId?: string;
  on: Subscribe;
  mediaUrl(kind: 'thumb' | 'image', id: number): string;
  /** Electron only: the file-system path of a dropped file. */
  pathForFile?(file: File): string;
  /** Web mode only: the state of the link to the server, and its changes. */
  connection?: { get(): ConnectionState; subscribe(listener: (state: ConnectionState) => void): () => void };
}

declare global {
  interface Window {
    mocoop?: Bridge;
  }
}

/**
 * Web mode: every route lives under the server's per-launch base path (`/s/<random>/`), where the
 * page itself is, so all addresses are relative to the page: `api/…`, `media/…`, `events`.
 */
/** The request header that names the tab (the server's CLIENT_HEADER). */
const CLIENT_HEADER = 'X-Mocoop-Client';
const CLIENT_KEY = 'mocoop.clientId';

/**
 * One client id per tab, kept across reloads of that tab (its undo history survives a reload) but
 * never shared with a duplicated or newly opened tab: the id leaves the tab's session storage while
 * the page is open (a duplicate copies the storage as it is then, without it) and goes back when the
 * page is left, for the reload to find.
 */
function tabClientId(): string {
  let id: string | null = null;
  try {
    id = sessionStorage.getItem(CLIENT_KEY);
    sessionStorage.removeItem(CLIENT_KEY);
  } catch {
    // Storage disabled: a fresh id per page load.
  }
  if (!id || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) id = `tab-${crypto.randomUUID()}`;
  const keep = id;
  addEventListener('pagehide', () => {
    try {
      sessionStorage.setItem(CLIENT_KEY, keep);
    } catch {
      // Not kept: the reloaded page starts a new history.
    }
  });
  // Back from the back/forward cache: the page is open again, so the id leaves the storage again.
  addEventListener('pageshow', (event) => {
    if (event.persisted) {
      try {
        sessionStorage.removeItem(CLIENT_KEY);
      } catch {
        // Nothing to take back.
      }
    }
  });
  return id;
}

function webBridge(): Bridge {
  const clientId = tabClientId();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const emit = (event: string, payload: unknown) => listeners.get(event)?.forEach((listener) => listener(payload));

  // The link to the server (connection banner): every route sits under this launch's base path with
  // its token, so a restarted server answers this tab's addresses with 404 (new base path) or 401.
  let state: ConnectionState = 'connected';
  const stateListeners = new Set<(state: ConnectionState) => void>();
  const setState = (next: ConnectionState) => {
    if (state === next || state === 'stale') return;
    const was = state;
    state = next;
    stateListeners.forEach((listener) => listener(next));
    // Events sent while the link was down were missed: let every page refresh what it shows.
    if (was === 'lost' && next === 'connected') emit('project.changed', { reason: 'reconnected' });
  };
  const staleLink = (status: number) => status === 401 || status === 404;

  const invoke = async (name: RequestName, input: unknown): Promise<Envelope<unknown>> => {
    let response: Response;
    try {
      response = await fetch(`api/${name}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', [CLIENT_HEADER]: clientId },
        credentials: 'same-origin',
        body: input === undefined ? '' : JSON.stringify(input)
      });
    } catch {
      setState('lost');
      return { ok: false, error: { code: 'unavailable', message: 'The workbench server is not reachable. Is it still running?' } };
    }
    if (staleLink(response.status)) {
      setState('stale');
      return {
        ok: false,
        error: { code: 'unauthorized', message: "This page's link is no longer valid: the workbench server was restarted. Open the new link it printed." }
      };
    }
    if (!response.ok) return { ok: false, error: { code: 'unavailable', message: await response.text() } };
    return (await response.json()) as Envelope<unknown>;
  };

  /** Asks the server whether it is there and still this tab's (a cheap request, never an error shown). */
  const probe = async (): Promise<'up' | 'down' | 'stale'> => {
    try {
      const response = await fetch('api/app.info', { method: 'POST', headers: { 'Content-Type': 'application/json' }, credentials: 'same-origin', body: '' });
      return staleLink(response.status) ? 'stale' : 'up';
    } catch {
      return 'down';
    }
  };

  let retry = 500;
  const connect = () => {
    const events = new URL('events', location.href);
    events.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(events);
    socket.onmessage = (message) => {
      const { event, payload } = JSON.parse(String(message.data)) as { event: string; payload: unknown };
      emit(event, payload);
    };
    socket.onopen = () => {
      retry = 500;
      setState('connected');
    };
    socket.onclose = () => {
      void probe().then((result) => {
        if (result === 'stale') return setState('stale');
        if (result === 'down') setState('lost');
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 4000);
      });
    };
  };
  connect();

  return {
    transport: 'web',
    api: createDomainApi(invoke),
    clientId,
    on: ((name: EventName, listener: (payload: unknown) => void) => {
      if (!listeners.has(name)) listeners.set(name, new Set());
      listeners.get(name)!.add(listener);
      return () => listeners.get(name)?.delete(listener);
    }) as Subscribe,
    mediaUrl: (kind, id) => `media/${kind}/${id}`,
    connection: {
      get: () => state,
      subscribe: (listener) => {
        stateListeners.add(listener);
        return () => stateListeners.delete(listener);
      }
    }
  };
}

export const bridge: Bridge = window.mocoop ?? webBridge();
export const api = bridge.api;
export { RequestError };

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
