import type { z } from 'zod';
import type { ClassSplitCounts, FewShotSetInfo } from '$contract/schemas';
import { attempt } from '../lib/attempt';
import { api, bridge } from '../lib/bridge';
import { expected, fromElsewhere } from '../lib/conflict';
import { conflicts } from './conflicts.svelte';
import { toasts } from './toasts.svelte';
import { training } from './training.svelte';

export type FewShotSet = z.infer<typeof FewShotSetInfo>;
export type ClassCounts = z.infer<typeof ClassSplitCounts>;

/** The Few-shot sets page: labeled images per class, sampling a set, and editing a chosen set. */
class FewShotState {
  #counts = $state<ClassCounts[]>([]);
  #selectedId = $state<number | null>(null);
  /** Images per class of a set to sample: public, bound to the page's field. */
  k = $state(16);
  #busy = $state(false);
  /** Counts resets: an answer asked for before the last one (another project's) is dropped. */
  #session = 0;

  #selected = $derived(training.sets.find((s) => s.id === this.#selectedId) ?? null);

  /** Labeled images per class and split. */
  get counts(): ClassCounts[] {
    return this.#counts;
  }
  get selectedId(): number | null {
    return this.#selectedId;
  }
  /** The set chosen in the list (null: none, or not loaded yet). */
  get selected(): FewShotSet | null {
    return this.#selected;
  }
  /** A save is running. */
  get busy(): boolean {
    return this.#busy;
  }

  async load(): Promise<void> {
    const session = this.#session;
    await attempt(async () => {
      const [counts] = await Promise.all([api.fewshot.classCounts(), training.load()]);
      if (session !== this.#session) return;
      this.#counts = counts;
      if (!training.sets.some((s) => s.id === this.#selectedId)) this.#selectedId = training.sets.at(-1)?.id ?? null;
    });
  }

  /**
   * While the page is shown: sets saved in another window, and labels, splits or classes changed
   * anywhere (the counts and compositions shown), are loaded again. Returns the unsubscribe.
   */
  listen(): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = bridge.on('project.changed', (event) => {
      const elsewhere = fromElsewhere(event.origin, bridge.clientId);
      if (event.reason === 'fewshot' && !elsewhere) return;
      if (!['fewshot', 'labels', 'classes', 'split', 'import', 'reconnected', 'runs'].includes(event.reason)) return;
      clearTimeout(timer);
      timer = setTimeout(() => void this.load(), 150);
    });
    return () => {
      clearTimeout(timer);
      off();
    };
  }

  select(id: number | null): void {
    this.#selectedId = id;
  }

  /** Moves the selection through the list of sets (↑ / ↓). */
  step(delta: number): void {
    const sets = training.sets;
    if (!sets.length) return;
    const at = sets.findIndex((s) => s.id === this.#selectedId);
    const next = Math.min(sets.length - 1, Math.max(0, (at < 0 ? 0 : at) + delta));
    this.#selectedId = sets[next]!.id;
  }

  async sample(k: number, seed: number, baseNew: boolean, name: string): Promise<void> {
    await this.#run(async (session) => {
      const set = await api.fewshot.create({ k, seed, baseNew, name: name.trim() || undefined });
      if (session !== this.#session) return;
      const short = set.perClass.filter((p) => p.classId !== null && set.baseClassIds.includes(p.classId) && p.images < k).length;
      toasts.show(
        `Created "${set.name}" with ${set.imageIds.length} images${short ? ` (${short} class(es) have fewer than ${k} train-pool images and gave all they have)` : ''}`
      );
      await training.load();
      if (session === this.#session) this.#selectedId = set.id;
    });
  }

  /** base: trains on k images of the class; new: its name only (a virtual class); none: not part of the set. */
  async setRole(classId: number, role: 'base' | 'new' | 'none'): Promise<boolean> {
    const set = this.#selected;
    if (!set) return false;
    const others = (ids: number[]) => ids.filter((id) => id !== classId);
    const classIds = [...others(set.baseClassIds), ...others(set.newClassIds), ...(role === 'none' ? [] : [classId])];
    const newClassIds = role === 'new' ? [...others(set.newClassIds), classId] : others(set.newClassIds);
    return this.update({ setId: set.id, newClassIds, classIds });
  }

  async rename(name: string): Promise<boolean> {
    const set = this.#selected;
    if (!set || !name.trim() || name.trim() === set.name) return true;
    return this.update({ setId: set.id, name: name.trim() });
  }

  /**
   * Saves a change; a set a run used is never changed, so the change lands in a copy that becomes
   * selected. The save names the set's revision this window shows: when another window edited the set
   * since, it is refused and the page offers Reload / Overwrite.
   */
  async update(changes: Parameters<typeof api.fewshot.update>[0]): Promise<boolean> {
    const revision = training.sets.find((s) => s.id === changes.setId)?.revision;
    return this.#run(
      async (session) => {
        const { set, copiedFrom } = await api.fewshot.update({ ...changes, ...expected(revision) });
        if (session !== this.#session) return;
        if (copiedFrom !== null) toasts.show(`A run used the original set, so your change was saved as a copy: "${set.name}"`);
        await training.load();
        if (session === this.#session) this.#selectedId = set.id;
      },
      async () => {
        await this.load();
        await this.update(changes);
      }
    );
  }

  async remove(id: number): Promise<void> {
    const revision = training.sets.find((s) => s.id === id)?.revision;
    await this.#run(
      async (session) => {
        const name = training.sets.find((s) => s.id === id)?.name;
        const sets = await api.fewshot.delete({ setId: id, ...expected(revision) });
        if (session !== this.#session) return;
        training.replaceSets(sets);
        toasts.show(`Deleted "${name}"`);
        this.#selectedId = training.sets.at(-1)?.id ?? null;
      },
      async () => {
        await this.load();
        await this.remove(id);
      }
    );
  }

  /** Forgets the project's counts and the set chosen (another project opened), and drops the answers still on their way. */
  reset(): void {
    this.#session++;
    this.#counts = [];
    this.#selectedId = null;
    this.k = 16;
    this.#busy = false;
  }

  /**
   * Runs a save (given the session it began in); a refusal because another window saved first offers
   * Reload / Overwrite (`overwrite`), anything else a toast. A save answered after a reset changes nothing here.
   */
  async #run(action: (session: number) => Promise<void>, overwrite?: () => Promise<void>): Promise<boolean> {
    const session = this.#session;
    this.#busy = true;
    try {
      await action(session);
      return session === this.#session;
    } catch (error) {
      if (session !== this.#session) return false;
      if (overwrite) conflicts.handle(error, { scope: 'fewshot', reload: () => this.load(), overwrite });
      else toasts.error(error);
      return false;
    } finally {
      if (session === this.#session) this.#busy = false;
    }
  }
}

export const fewshot = new FewShotState();
