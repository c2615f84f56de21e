import { SvelteSet } from 'svelte/reactivity';
import type { FewShotSetInfo } from '$contract/schemas';
import type { z } from 'zod';
import { attempt } from '../lib/attempt';
import { api } from '../lib/bridge';
import { fewshot } from './fewshot.svelte';
import { labeling } from './labeling.svelte';
import { toasts } from './toasts.svelte';
import { training } from './training.svelte';

/** Hand-picking a few-shot set in the labeling grid (a new one, or the images of an existing one), with a running count per class. */
class PickingState {
  active = $state(false);
  /** The set whose images are being edited; null while picking a new set. */
  editing = $state<z.infer<typeof FewShotSetInfo> | null>(null);
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

  /** Picks made and not saved yet are never thrown away silently. */
  private unsaved(): boolean {
    if (!this.active || this.picked.size === 0) return false;
    const before = new Set(this.editing?.imageIds ?? []);
    if (this.editing && before.size === this.picked.size && [...this.picked].every((id) => before.has(id))) return false;
    toasts.show('You are picking images in the grid: save or discard those picks first (the panel above the grid on the Images page).', 'error');
    return true;
  }

  start(): boolean {
    if (this.unsaved()) return false;
    this.editing = null;
    this.picked.clear();
    this.name = 'hand-picked';
    this.active = true;
    return true;
  }

  /** Loads an existing set's images into the picker; saving replaces them (or copies a set a run used). */
  async edit(set: z.infer<typeof FewShotSetInfo>): Promise<boolean> {
    if (this.unsaved()) return false;
    const opened = await attempt(async () => {
      this.picked.clear();
      for (let i = 0; i < set.imageIds.length; i += 5000) {
        for (const row of await api.images.get({ ids: set.imageIds.slice(i, i + 5000) })) {
          this.labelOf.set(row.id, row.labelId);
          this.picked.add(row.id);
        }
      }
      this.editing = set;
      this.name = set.name;
      // A hand-picked set has no k: aim for its fullest class.
      this.k = set.k ?? Math.max(1, ...set.perClass.map((p) => p.images));
      this.active = true;
      return true;
    });
    return opened ?? false;
  }

  isPicked(id: number): boolean {
    return this.picked.has(id);
  }

  close(): void {
    this.active = false;
    this.editing = null;
    this.picked.clear();
  }

  /** Adds the selected labeled train-pool images; says what it left out and why. */
  addSelection(): void {
    let unlabeled = 0;
    let heldOut = 0;
    for (const id of labeling.selectedIds) {
      const row = labeling.rows.get(id);
      if (!row) continue;
      if (row.labelId === null) unlabeled++;
      else if (row.split !== 'train') heldOut++;
      else {
        this.labelOf.set(id, row.labelId);
        this.picked.add(id);
      }
    }
    const reasons = [
      heldOut ? `${heldOut} in the test or validation split (a set takes train-pool images only)` : '',
      unlabeled ? `${unlabeled} without a label` : ''
    ].filter(Boolean);
    if (reasons.length) toasts.show(`Not added: ${reasons.join('; ')}.`, 'error');
  }

  removeSelection(): void {
    for (const id of labeling.selectedIds) this.picked.delete(id);
  }

  async save(): Promise<boolean> {
    const editing = this.editing;
    if (editing && editing.imageIds.length === this.picked.size && editing.imageIds.every((id) => this.picked.has(id)) && this.name.trim() === editing.name) {
      toasts.show('No changes to save.');
      this.close();
      return true;
    }
    if (this.editing) {
      const saved = await fewshot.update({ setId: this.editing.id, imageIds: [...this.picked], name: this.name.trim() || undefined });
      if (saved) {
        if (fewshot.selectedId === this.editing.id) toasts.show(`Saved "${fewshot.selected?.name}" with ${this.picked.size} images`);
        this.close();
      }
      return saved;
    }
    const saved = await attempt(async () => {
      const set = await api.fewshot.createManual({ name: this.name.trim() || 'hand-picked', imageIds: [...this.picked] });
      toasts.show(`Saved "${set.name}" with ${set.imageIds.length} images`);
      this.close();
      await training.load();
      fewshot.select(set.id);
      return true;
    });
    return saved ?? false;
  }
}

export const picking = new PickingState();
