import type { Revisions } from '$contract/index';
import { api } from '../lib/bridge';
import { isStaleRevision } from '../lib/conflict';
import { toasts } from './toasts.svelte';

/** What a refused save was about: the page that shows its Reload / Overwrite choice. */
export type ConflictScope = 'templates' | 'classes' | 'fewshot' | 'settings';

export interface Conflict {
  scope: ConflictScope;
  message: string;
  /** Drop this window's change and show the other window's. */
  reload: () => Promise<void>;
  /** Save this window's change over the other's (again, with the revision now current). */
  overwrite: () => Promise<void>;
}

/**
 * Saves refused because another window saved first ("changed in another window — reload or
 * overwrite"): the one waiting for the user's choice, shown by the page it belongs to.
 */
class Conflicts {
  #current = $state<Conflict | null>(null);
  #busy = $state(false);
  /** Banners on screen per scope: a conflict no banner shows (e.g. a set saved from the grid) becomes a toast with Overwrite. */
  #shown = new Map<ConflictScope, number>();
  /** Counts resets: a choice still being carried out for the project before drops what it meets. */
  #session = 0;

  /** The refused save waiting for the user's choice (one at a time). */
  get current(): Conflict | null {
    return this.#current;
  }
  /** The chosen Reload or Overwrite is being carried out. */
  get busy(): boolean {
    return this.#busy;
  }

  /** Called by a banner while it is on screen; returns the call that takes it off. */
  showing(scope: ConflictScope): () => void {
    this.#shown.set(scope, (this.#shown.get(scope) ?? 0) + 1);
    return () => this.#shown.set(scope, (this.#shown.get(scope) ?? 1) - 1);
  }

  /**
   * Handles a failed save: a stale revision becomes a Reload / Overwrite choice, anything else a
   * toast. Returns whether it was a conflict.
   */
  handle(error: unknown, conflict: Omit<Conflict, 'message'>): boolean {
    if (!isStaleRevision(error)) {
      toasts.error(error);
      return false;
    }
    this.#current = { ...conflict, message: error.message };
    if (!this.#shown.get(conflict.scope)) {
      toasts.show(error.message, 'error', { label: 'Overwrite', run: () => void this.resolve('overwrite') });
    }
    return true;
  }

  of(scope: ConflictScope): Conflict | null {
    return this.#current?.scope === scope ? this.#current : null;
  }

  async resolve(choice: 'reload' | 'overwrite'): Promise<void> {
    const conflict = this.#current;
    if (!conflict || this.#busy) return;
    const session = this.#session;
    this.#busy = true;
    this.#current = null;
    try {
      await (choice === 'reload' ? conflict.reload() : conflict.overwrite());
    } catch (error) {
      // Overwriting can meet yet another change: that is a new choice (anything else, a toast).
      if (session === this.#session) this.handle(error, conflict);
    } finally {
      if (session === this.#session) this.#busy = false;
    }
  }

  dismiss(scope?: ConflictScope): void {
    if (!scope || this.#current?.scope === scope) this.#current = null;
  }

  /** Forgets the choice waiting (another project opened); one still being carried out is not offered again. */
  reset(): void {
    this.#session++;
    this.#current = null;
    this.#busy = false;
  }
}

export const conflicts = new Conflicts();

/**
 * The project's revisions now, read before the data they guard (so a change in between makes a later
 * save refused, never silently applied); null when they cannot be read (no project, an older server).
 */
export async function currentRevisions(): Promise<Revisions | null> {
  try {
    return (await api.project.revisions?.()) ?? null;
  } catch {
    return null;
  }
}
