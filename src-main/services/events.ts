import type { EventName, EventPayload } from '../contract';
import { currentClientId } from '../contract/request-context';

type Listener = (name: EventName, payload: unknown) => void;

/**
 * Fan-out of service events to whichever transports are attached. A `project.changed` raised while
 * a request is handled names the client (window) that made the change as its origin, so every other
 * window refreshes what it shows and the window that made it can skip what it already shows.
 */
export class EventBus {
  private listeners = new Set<Listener>();

  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    let sent: unknown = payload;
    if (name === 'project.changed' && (payload as { origin?: string }).origin === undefined) {
      const origin = currentClientId();
      if (origin !== null) sent = { ...payload, origin };
    }
    for (const listener of this.listeners) listener(name, sent);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
