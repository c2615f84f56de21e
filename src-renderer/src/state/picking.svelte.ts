import { SvelteSet } from 'svelte/reactivity';
import type { FewShotSetInfo } from '$contract/schemas';
import type { z } from 'zod';
import { attempt } from '../lib/attempt';
import { api } from '../lib/bridge';
import { fewshot } from './fewshot.svelte';
import { labeling } from './labeling.svelte';
import { toasts } from './toasts.svelte';
import { training } from './training.svelte';

type FewShotSet = z.infer<typeof FewShotSetInfo>;

/** Hand-picking a few-shot set in the labeling grid (a new one, or the images of an existing one), with a running count per class. */
class PickingState {
  #active = $state(false);
  /** The set whose images are being edited; null while picking a new set. */
  #editing = $state<FewShotSet | null>(null);
  /** Images per class to aim for, and the set's name: public, bound to the pick panel's fields. */
  k = $state(16);
  name = $state('hand-picked');
  #picked = new SvelteSet<number>();
  #labelOf = new Map<number, number | null>();
  /** Counts resets: a set still loading, or a save answered, after the last one changes nothing. */
  #session = 0;

  #counts = $derived.by(() => {
    const counts = new Map<number, number>();
    for (const id of this.#picked) {
      const label = this.#labelOf.get(id);
      if (label != null) counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    return counts;
  });

  /** Picking is on (the pick panel shows above the grid). */
  get active(): boolean {
    return this.#active;
  }
  /** The set whose images are being edited; null while picking a new set. */
  get editing(): FewShotSet | null {
    return this.#editing;
  }
  /** The images picked. */
  get picked(): ReadonlySet<number> {
    return this.#picked;
  }
  /** Images picked per class id. */
  get counts(): Map<number, number> {
    return this.#counts;
  }

  /** Picks made and not saved yet are never thrown away silently. */
  #unsaved(): boolean {
    if (!this.#active || this.#picked.size === 0) return false;
    const before = new Set(this.#editing?.imageIds ?? []);
    if (this.#editing && before.size === this.#picked.size && [...this.#picked].every((id) => before.has(id))) return false;
    toasts.show('You are picking images in the grid: save or discard those picks first (the panel above the grid on the Images page).', 'error');
    return true;
  }

  /** Starts picking a new set, aiming for `k` images per class (the sampling form's, when given). */
  start(k?: number): boolean {
    if (this.#unsaved()) return false;
    this.#editing = null;
    this.#picked.clear();
    this.name = 'hand-picked';
    if (k !== undefined) this.k = k;
    this.#active = true;
    return true;
  }

  /** Loads an existing set's images into the picker; saving replaces them (or copies a set a run used). */
  async edit(set: FewShotSet): Promise<boolean> {
    if (this.#unsaved()) return false;
    const session = this.#session;
    const opened = await attempt(async () => {
      this.#picked.clear();
      for (let i = 0; i < set.imageIds.length; i += 5000) {
        const rows = await api.images.get({ ids: set.imageIds.slice(i, i + 5000) });
        if (session !== this.#session) return false;
        for (const row of rows) this.pick(row.id, row.labelId);
      }
      this.#editing = set;
      this.name = set.name;
      // A hand-picked set has no k: aim for its fullest class.
      this.k = set.k ?? Math.max(1, ...set.perClass.map((p) => p.images));
      this.#active = true;
      return true;
    });
    return opened ?? false;
  }

  isPicked(id: number): boolean {
    return this.#picked.has(id);
  }

  /** Adds one image, labeled `labelId` (addSelection checks that it is labeled and in the train pool). */
  pick(id: number, labelId: number | null): void {
    this.#labelOf.set(id, labelId);
    this.#picked.add(id);
  }

  unpick(id: number): void {
    this.#picked.delete(id);
  }

  close(): void {
    this.#active = false;
    this.#editing = null;
    this.#picked.clear();
  }

  /** Stops picking and forgets the picks (another project opened); a set still loading, or a save answered later, changes nothing. */
  reset(): void {
    this.#session++;
    this.close();
    this.#labelOf.clear();
    this.k = 16;
    this.name = 'hand-picked';
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
      else this.pick(id, row.labelId);
    }
    const reasons = [
      heldOut ? `${heldOut} in the test or validation split (a set takes train-pool images only)` : '',
      unlabeled ? `${unlabeled} without a label` : ''
    ].filter(Boolean);
    if (reasons.length) toasts.show(`Not added: ${reasons.join('; ')}.`, 'error');
  }

  removeSelection(): void {
    for (const id of labeling.selectedIds) this.unpick(id);
  }

  async save(): Promise<boolean> {
    const editing = this.#editing;
    const picked = this.#picked;
    if (editing && editing.imageIds.length === picked.size && editing.imageIds.every((id) => picked.has(id)) && this.name.trim() === editing.name) {
      toasts.show('No changes to save.');
      this.close();
      return true;
    }
    const session = this.#session;
    if (editing) {
      const saved = await fewshot.update({ setId: editing.id, imageIds: [...picked], name: this.name.trim() || undefined });
      if (saved && session === this.#session) {
        if (fewshot.selectedId === editing.id) toasts.show(`Saved "${fewshot.selected?.name}" with ${picked.size} images`);
        this.close();
      }
      return saved && session === this.#session;
    }
    const saved = await attempt(async () => {
      const set = await api.fewshot.createManual({ name: this.name.trim() || 'hand-picked', imageIds: [...picked] });
      if (session !== this.#session) return false;
      toasts.show(`Saved "${set.name}" with ${set.imageIds.length} images`);
      this.close();
      await training.load();
      if (session === this.#session) fewshot.select(set.id);
      return true;
    });
    return saved ?? false;
  }
}

export const picking = new PickingState();
