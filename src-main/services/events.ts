import type { EventName, EventPayload } from '../contract';

type Listener = (name: EventName, payload: unknown) => void;

/** Fan-out of service events to whichever transports are attached. */
export class EventBus {
  private listeners = new Set<Listener>();

  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners) listener(name, payload);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
