import { SvelteMap } from 'svelte/reactivity';
import type { ImagePrediction, ImageRow } from '$contract/index';
import { api } from '../lib/bridge';
import { labeling } from './labeling.svelte';
import { toasts } from './toasts.svelte';

/**
 * The image viewer over the labeling grid: it shows the focused image large, moves with the grid's
 * focus (← →), and fetches the chosen run's prediction for the image shown and the next two.
 */
export class ViewerState {
  #open = $state(false);
  #zoom = $state<'fit' | 'actual'>('fit');
  /** The run the predictions came from (null: the project has no finished run with experts). */
  #runId = $state<string | null>(null);
  #predictions = new SvelteMap<number, ImagePrediction | null>();
  #requested = new Set<number>();
  #requestedFor: string | null | undefined = undefined;
  /** Counts the times the predictions were forgotten: an answer asked for before is dropped. */
  #session = 0;

  #currentId = $derived(labeling.ids[labeling.focus]);
  #current = $derived(this.#currentId === undefined ? undefined : labeling.rows.get(this.#currentId));
  #prediction = $derived(this.#currentId === undefined ? undefined : this.#predictions.get(this.#currentId));

  get open(): boolean {
    return this.#open;
  }
  get zoom(): 'fit' | 'actual' {
    return this.#zoom;
  }
  /** The run the predictions came from (null: the project has no finished run with experts). */
  get runId(): string | null {
    return this.#runId;
  }
  /** The id of the image shown (the grid's focus). */
  get currentId(): number | undefined {
    return this.#currentId;
  }
  /** The row of the image shown, once fetched. */
  get current(): ImageRow | undefined {
    return this.#current;
  }
  /** The prediction for the image shown: undefined while not fetched, null when the run has none for it. */
  get prediction(): ImagePrediction | null | undefined {
    return this.#prediction;
  }

  show(): void {
    if (labeling.ids.length === 0) return;
    labeling.click(Math.min(labeling.focus, labeling.ids.length - 1), 'single');
    // Runs may have finished (or been deleted) since the last look.
    this.forgetPredictions();
    this.#zoom = 'fit';
    this.#open = true;
    void this.ensure();
  }

  hide(): void {
    this.#open = false;
  }

  toggleZoom(): void {
    this.#zoom = this.#zoom === 'fit' ? 'actual' : 'fit';
  }

  step(delta: number): void {
    labeling.move(delta, false);
    void this.ensure();
  }

  /** Forgets fetched predictions, and drops those still on their way (the chosen run changed, or the runs did). */
  forgetPredictions(): void {
    this.#session++;
    this.#predictions.clear();
    this.#requested.clear();
    this.#requestedFor = undefined;
  }

  /** Closes the viewer and forgets its predictions, dropping those still on their way (another project opened). */
  reset(): void {
    this.forgetPredictions();
    this.#open = false;
    this.#zoom = 'fit';
    this.#runId = null;
  }

  /** Rows and predictions for the image shown and its neighbours. */
  async ensure(): Promise<void> {
    const i = labeling.focus;
    await labeling.ensureRows(Math.max(0, i - 1), i + 3);
    if (this.#requestedFor !== labeling.predictionRunId) {
      this.forgetPredictions();
      this.#requestedFor = labeling.predictionRunId;
    }
    const ids = labeling.ids.slice(i, i + 3).filter((id) => !this.#requested.has(id));
    if (ids.length === 0) return;
    ids.forEach((id) => this.#requested.add(id));
    const session = this.#session;
    try {
      const result = await api.images.predictions({ runId: labeling.predictionRunId ?? undefined, imageIds: ids });
      if (session !== this.#session) return;
      this.#runId = result.runId;
      const found = new Map(result.items.map((p) => [p.imageId, p]));
      ids.forEach((id) => this.#predictions.set(id, found.get(id) ?? null));
    } catch (error) {
      if (session !== this.#session) return;
      ids.forEach((id) => this.#requested.delete(id));
      toasts.error(error);
    }
  }
}

export const viewer = new ViewerState();
