import { SvelteSet } from 'svelte/reactivity';
import { api } from '../lib/bridge';
import { labeling } from './labeling.svelte';
import { toasts } from './toasts.svelte';
import { training } from './training.svelte';

/** Hand-picking a few-shot set in the labeling grid, with a running count per class. */
class PickingState {
  active = $state(false);
  k = $state(16);
  name = $state('hand-picked');
  picked = new SvelteSet<number>();
  private labelOf = new Map<number, number | null>();

  counts = $derived.by(() => {
    const counts = new Map<number, number>();
    for (const id of this.picked) {
      const label = this.labelOf.get(id);
      if (label != null) counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    return counts;
  });

  start(): void {
    this.active = true;
  }

  addSelection(): void {
    for (const id of labeling.selectedIds) {
      const row = labeling.rows.get(id);
      if (!row || row.labelId === null) continue;
      this.labelOf.set(id, row.labelId);
      this.picked.add(id);
    }
  }

  removeSelection(): void {
    for (const id of labeling.selectedIds) this.picked.delete(id);
  }

  async save(): Promise<boolean> {
    try {
      const set = await api.fewshot.createManual({ name: this.name.trim() || 'hand-picked', imageIds: [...this.picked] });
      toasts.show(`Saved "${set.name}" with ${set.imageIds.length} images`);
      this.picked.clear();
      this.active = false;
      await training.load();
      return true;
    } catch (error) {
      toasts.error(error);
      return false;
    }
  }
}

export const picking = new PickingState();
