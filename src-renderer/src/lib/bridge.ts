import { type DomainApi, type Subscribe, RequestError, createDomainApi } from '$contract/client';
import type { Envelope, EventName, RequestName } from '$contract/index';

/** What the renderer needs from its host, identical in Electron (preload) and web mode. */
export interface Bridge {
  transport: 'electron' | 'web';
  api: DomainApi;
  on: Subscribe;
  mediaUrl(kind: 'thumb' | 'image', id: number): string;
  /** Electron only: the file-system path of a dropped file. */
  pathForFile?(file: File): string;
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
function webBridge(): Bridge {
  const invoke = async (name: RequestName, input: unknown): Promise<Envelope<unknown>> => {
    let response: Response;
    try {
      response = await fetch(`api/${name}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        credentials: 'same-origin',
        body: input === undefined ? '' : JSON.stringify(input)
      });
    } catch {
      return { ok: false, error: { code: 'unavailable', message: 'The workbench server is not reachable. Is it still running?' } };
    }
    if (!response.ok) return { ok: false, error: { code: response.status === 401 ? 'unauthorized' : 'unavailable', message: await response.text() } };
    return (await response.json()) as Envelope<unknown>;
  };

  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let socket: WebSocket | null = null;
  let retry = 500;
  const connect = () => {
    const events = new URL('events', location.href);
    events.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new WebSocket(events);
    socket.onmessage = (message) => {
      const { event, payload } = JSON.parse(String(message.data)) as { event: string; payload: unknown };
      listeners.get(event)?.forEach((listener) => listener(payload));
    };
    socket.onopen = () => (retry = 500);
    socket.onclose = () => {
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10_000);
    };
  };
  connect();

  return {
    transport: 'web',
    api: createDomainApi(invoke),
    on: ((name: EventName, listener: (payload: unknown) => void) => {
      if (!listeners.has(name)) listeners.set(name, new Set());
      listeners.get(name)!.add(listener);
      return () => listeners.get(name)?.delete(listener);
    }) as Subscribe,
    mediaUrl: (kind, id) => `media/${kind}/${id}`
  };
}

export const bridge: Bridge = window.mocoop ?? webBridge();
export const api = bridge.api;
export { RequestError };

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
