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
  open = $state(false);
  query = $state('');
  active = $state(0);

  options = $derived.by((): PickerOption[] => {
    const options: PickerOption[] = rankClasses(labeling.classes, this.query).map((cls) => ({ kind: 'class', cls }));
    const name = this.query.trim();
    if (name && !hasExactClass(labeling.classes, name)) options.push({ kind: 'create', name });
    return options;
  });

  show(initial = ''): void {
    this.query = initial;
    this.active = 0;
    this.open = true;
  }

  hide(): void {
    this.open = false;
    this.query = '';
    this.active = 0;
  }

  setQuery(query: string): void {
    this.query = query;
    this.active = 0;
  }

  /** Moves the highlighted option, wrapping around. */
  move(delta: number): void {
    const n = this.options.length;
    if (n === 0) return;
    this.active = (((this.active + delta) % n) + n) % n;
  }

  /** Labels with the highlighted (or given) option; creates the class first for a new name. */
  async choose(index = this.active): Promise<boolean> {
    const option = this.options[index];
    if (!option) return false;
    this.hide();
    let classId: number | undefined;
    if (option.kind === 'class') classId = option.cls.id;
    else {
      if (!(await labeling.createClass(option.name))) return false;
      classId = labeling.classes.find((c) => c.name.toLocaleLowerCase() === option.name.toLocaleLowerCase())?.id;
    }
    if (classId === undefined) return false;
    await labeling.assign(classId, true);
    return true;
  }
}

export const classPicker = new ClassPickerState();
