export interface Toast {
  id: number;
  kind: 'info' | 'error';
  text: string;
  action?: { label: string; run: () => void };
}

/** Short messages in the corner: what just happened, or what went wrong and what to do. */
class Toasts {
  #items = $state<Toast[]>([]);
  #next = 1;

  /** The toasts on screen, oldest first (at most four). */
  get items(): Toast[] {
    return this.#items;
  }

  show(text: string, kind: Toast['kind'] = 'info', action?: Toast['action']): void {
    const id = this.#next++;
    this.#items = [...this.#items.slice(-3), { id, kind, text, action }];
    setTimeout(() => this.dismiss(id), kind === 'error' ? 9000 : 4000);
  }

  error(error: unknown): void {
    this.show(error instanceof Error ? error.message : String(error), 'error');
  }

  dismiss(id: number): void {
    this.#items = this.#items.filter((t) => t.id !== id);
  }

  /** Takes every toast down (the timers of those taken down find nothing to dismiss). */
  reset(): void {
    this.#items = [];
  }
}

export const toasts = new Toasts();
