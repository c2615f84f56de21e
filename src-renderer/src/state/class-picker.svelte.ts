import type { ClassInfo } from '$contract/index';
import { hasExactClass, rankClasses } from '../lib/class-search';
import { labeling } from './labeling.svelte';

export type PickerOption = { kind: 'class'; cls: ClassInfo } | { kind: 'create'; name: string };

/**
 * The type-ahead class picker for projects with more classes than number keys: a key (L) opens it,
 * a few letters narrow the list, ↑/↓ choose, Enter labels the selection (or the image in the viewer)
 * and moves on; a name no class has yet offers to create that class.
 */
export class ClassPickerState {
  #open = $state(false);
  #query = $state('');
  #active = $state(0);
  /** Counts resets: a choice whose new class is still being created when the project changes labels nothing. */
  #session = 0;

  #options = $derived.by((): PickerOption[] => {
    const options: PickerOption[] = rankClasses(labeling.classes, this.#query).map((cls) => ({ kind: 'class', cls }));
    const name = this.#query.trim();
    if (name && !hasExactClass(labeling.classes, name)) options.push({ kind: 'create', name });
    return options;
  });

  get open(): boolean {
    return this.#open;
  }
  /** What is typed in the picker's field. */
  get query(): string {
    return this.#query;
  }
  /** The index of the highlighted option. */
  get active(): number {
    return this.#active;
  }
  /** The classes matching the query, best first, then "create" for a name no class has. */
  get options(): PickerOption[] {
    return this.#options;
  }

  show(initial = ''): void {
    this.#query = initial;
    this.#active = 0;
    this.#open = true;
  }

  hide(): void {
    this.#open = false;
    this.#query = '';
    this.#active = 0;
  }

  setQuery(query: string): void {
    this.#query = query;
    this.#active = 0;
  }

  /** Highlights option `index` (the mouse over it). */
  highlight(index: number): void {
    this.#active = index;
  }

  /** Moves the highlighted option, wrapping around. */
  move(delta: number): void {
    const n = this.#options.length;
    if (n === 0) return;
    this.#active = (((this.#active + delta) % n) + n) % n;
  }

  /** Labels with the highlighted (or given) option; creates the class first for a new name. */
  async choose(index = this.#active): Promise<boolean> {
    const option = this.#options[index];
    if (!option) return false;
    this.hide();
    const session = this.#session;
    let classId: number | undefined;
    if (option.kind === 'class') classId = option.cls.id;
    else {
      if (!(await labeling.createClass(option.name)) || session !== this.#session) return false;
      classId = labeling.classes.find((c) => c.name.toLocaleLowerCase() === option.name.toLocaleLowerCase())?.id;
    }
    if (classId === undefined) return false;
    await labeling.assign(classId, true);
    return true;
  }

  /** Closes the picker (another project opened); a class still being created for a choice labels nothing. */
  reset(): void {
    this.#session++;
    this.hide();
  }
}

export const classPicker = new ClassPickerState();
