import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { ClassInfo, HistoryState, ImageFilter, ImageRow, Split } from '$contract/index';
import { attempt } from '../lib/attempt';
import { api, bridge } from '../lib/bridge';
import { expected, fromElsewhere } from '../lib/conflict';
import { pushRecent } from '../lib/class-search';
import { setProjectClasses } from '../lib/colors';
import type { TileSize } from '../lib/thumb-size';
import { selectionAfterClick, type ClickMode } from '../lib/selection';
import { appState } from './app.svelte';
import { toasts } from './toasts.svelte';
import { conflicts, currentRevisions } from './conflicts.svelte';

const PAGE = 200;

/**
 * The labeling grid: the filtered id list, a cache of image rows fetched page by page as the grid
 * scrolls, the selection, the focused tile and the undo/redo state.
 */
/** Labels after which the "Label next" queue is asked for again. */
export const SUGGESTION_REFRESH = 20;

export class LabelingState {
  private classList = $state.raw<ClassInfo[]>([]);
  filter = $state<ImageFilter>({});
  ids = $state.raw<number[]>([]);
  rows = new SvelteMap<number, ImageRow>();
  selection = new SvelteSet<number>();
  focus = $state(0);
  anchor = $state(0);
  history = $state<HistoryState>({ canUndo: false, canRedo: false });
  /** Active-learning view: unlabeled images in order of uncertainty under a trained run, with its guesses. */
  suggestion = $state<{ runId: string; hints: Map<number, string>; guesses: Map<number, string | null>; labeledSince: number } | null>(null);
  loading = $state(false);
  private pending = new Set<number>();

  /** The classes most recently used to label, most recent first (kept per project in this browser). */
  recentClassIds = $state<number[]>([]);
  /** Thumbnail size: 'auto' follows the images' own size. */
  tileSize = $state<TileSize>('auto');
  /** The finished runs whose predictions the viewer and the prediction filters can use. */
  runs = $state.raw<{ id: string; method: string; accuracy: number | null; createdAt: string }[]>([]);
  /** The run whose predictions the viewer shows and the prediction filters use; null: the most accurate finished run. */
  predictionRunId = $state<string | null>(null);
  private recentKey = '';
  /** The class list's revision when it was loaded: class edits name it, so a stale one is refused. */
  private classesRevision: number | undefined;
  private listening = false;
  private pendingRefresh: { all: boolean; imageIds: Set<number>; timer: ReturnType<typeof setTimeout> } | null = null;

  classById = $derived(new Map(this.classes.map((c) => [c.id, c])));
  selectedIds = $derived([...this.selection]);
  recentClasses = $derived(this.recentClassIds.flatMap((id) => this.classById.get(id) ?? []));

  get classes(): ClassInfo[] {
    return this.classList;
  }

  /** Every class list goes through here, so the palette knows the project's classes (distinct colours). */
  set classes(list: ClassInfo[]) {
    setProjectClasses(list.map((c) => c.id));
    this.classList = list;
  }

  /** Loads the recent classes of the open project (from this browser's storage). */
  useProject(projectPath: string): void {
    this.listen();
    this.recentKey = `mocoop.recentClasses:${projectPath}`;
    try {
      const stored = JSON.parse(globalThis.localStorage?.getItem(this.recentKey) ?? '[]') as unknown;
      this.recentClassIds = Array.isArray(stored) ? stored.filter((n): n is number => Number.isInteger(n)).slice(0, 8) : [];
    } catch {
      this.recentClassIds = [];
    }
  }

  /** Records a class as just used (the "recent classes" row and the picker). */
  remember(classId: number): void {
    this.recentClassIds = pushRecent(this.recentClassIds, classId);
    try {
      if (this.recentKey) globalThis.localStorage?.setItem(this.recentKey, JSON.stringify(this.recentClassIds));
    } catch {
      // Storage may be full or disabled; the row still works for this session.
    }
  }

  async loadRuns(): Promise<void> {
    await attempt(async () => {
      this.runs = (await api.runs.list())
        .filter((r) => r.status === 'done')
        .map((r) => ({ id: r.id, method: r.method, accuracy: r.accuracy, createdAt: r.createdAt }));
    });
  }

  /**
   * Changes made in another window (tab): labels, splits, classes. This window's own changes are shown
   * already; bursts (another tab labeling by keys) are gathered into one refresh.
   */
  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    bridge.on('project.changed', (event) => {
      const elsewhere = fromElsewhere(event.origin, bridge.clientId);
      if (event.reason === 'labels' && elsewhere) this.scheduleRefresh(event.imageIds);
      else if ((event.reason === 'classes' || event.reason === 'split') && elsewhere) this.scheduleRefresh();
      else if (event.reason === 'reconnected') this.scheduleRefresh();
    });
  }

  private scheduleRefresh(imageIds?: number[]): void {
    if (!this.pendingRefresh) {
      const timer = setTimeout(() => {
        const pending = this.pendingRefresh!;
        this.pendingRefresh = null;
        void this.refreshFromElsewhere(pending.all ? undefined : [...pending.imageIds]);
      }, 150);
      this.pendingRefresh = { all: false, imageIds: new Set(), timer };
    }
    if (imageIds) imageIds.forEach((id) => this.pendingRefresh!.imageIds.add(id));
    else this.pendingRefresh.all = true;
  }

  /**
   * Shows another window's change without losing this one's place: the classes and their counts, the
   * filtered ids (an image relabeled elsewhere may leave or join this view), the changed rows (all
   * cached rows when not named), the selection of what is still shown.
   */
  async refreshFromElsewhere(imageIds?: number[]): Promise<void> {
    try {
      await this.loadClasses();
      this.history = await api.labels.history();
      if (!this.suggestion) {
        const { ids } = await api.images.ids({ filter: $state.snapshot(this.filter) });
        if (ids.length !== this.ids.length || ids.some((id, i) => id !== this.ids[i])) {
          const present = new Set(ids);
          this.ids = ids;
          [...this.selection].filter((id) => !present.has(id)).forEach((id) => this.selection.delete(id));
          this.focus = Math.min(this.focus, Math.max(0, ids.length - 1));
        }
      }
      await this.refetch((imageIds ?? [...this.rows.keys()]).filter((id) => this.rows.has(id)));
    } catch {
      // The next change, or a reload, shows it; nothing of this window's is lost.
    }
  }

  /** The class list with its revision, the revision read first (a change in between makes a class edit refused, never lost). */
  private async loadClasses(): Promise<void> {
    const revisions = await currentRevisions();
    this.classes = await api.classes.list();
    this.classesRevision = revisions?.classes;
  }

  async reload(): Promise<void> {
    await attempt(
      async () => {
        const revisions = await currentRevisions();
        const [classes, { ids: filtered }, history] = await Promise.all([
          api.classes.list(),
          api.images.ids({ filter: $state.snapshot(this.filter) }),
          api.labels.history()
        ]);
        const ids = this.suggestion ? this.ids : filtered;
        this.classesRevision = revisions?.classes;
        this.classes = classes;
        this.ids = ids;
        this.history = history;
        this.rows.clear();
        this.pending.clear();
        const present = new Set(ids);
        const keep = [...this.selection].filter((id) => present.has(id));
        this.selection.clear();
        keep.forEach((id) => this.selection.add(id));
        this.focus = Math.min(this.focus, Math.max(0, ids.length - 1));
        await this.ensureRows(0, Math.min(ids.length, PAGE));
      },
      { busy: (on) => (this.loading = on) }
    );
  }

  /** Shows the unlabeled images the best run is least sure about, most uncertain first. */
  async showSuggestions(): Promise<void> {
    await attempt(async () => {
      const result = await api.suggest.uncertain({ by: 'margin', limit: 2000 });
      this.suggestion = {
        runId: result.runId,
        hints: new Map(result.items.map((i) => [i.imageId, `${i.predicted ?? '?'} ${(100 * i.confidence).toFixed(0)}%`])),
        guesses: new Map(result.items.map((i) => [i.imageId, i.predicted])),
        labeledSince: 0
      };
      this.filter = { unlabeled: true };
      this.ids = result.items.map((i) => i.imageId);
      this.focus = 0;
      this.anchor = 0;
      this.selection.clear();
      this.rows.clear();
      await this.ensureRows(0, Math.min(this.ids.length, PAGE));
      toasts.show(result.items.length ? `${result.items.length} unlabeled images, most uncertain first (run ${result.runId})` : 'No unlabeled images left.');
    });
  }

  async reloadClasses(): Promise<void> {
    await this.loadClasses();
  }

  setFilter(filter: ImageFilter): void {
    this.suggestion = null;
    this.filter = filter;
    this.focus = 0;
    this.anchor = 0;
    this.selection.clear();
    void this.reload();
  }

  /** Fetches the rows of ids[start, end) that are not cached yet. */
  async ensureRows(start: number, end: number): Promise<void> {
    const wanted = this.ids.slice(Math.max(0, start), end).filter((id) => !this.rows.has(id) && !this.pending.has(id));
    for (let i = 0; i < wanted.length; i += PAGE) {
      const batch = wanted.slice(i, i + PAGE);
      batch.forEach((id) => this.pending.add(id));
      try {
        for (const row of await api.images.get({ ids: batch })) this.rows.set(row.id, row);
      } finally {
        batch.forEach((id) => this.pending.delete(id));
      }
    }
  }

  private async refetch(ids: number[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 2000) {
      for (const row of await api.images.get({ ids: ids.slice(i, i + 2000) })) this.rows.set(row.id, row);
    }
  }

  // ---- selection and focus -----------------------------------------------------------------

  click(index: number, mode: ClickMode): void {
    const next = selectionAfterClick(this.ids, [...this.selection], this.anchor, index, mode);
    this.selection.clear();
    next.selection.forEach((id) => this.selection.add(id));
    this.anchor = next.anchor;
    this.focus = index;
  }

  move(delta: number, extend: boolean): void {
    if (this.ids.length === 0) return;
    const index = Math.max(0, Math.min(this.ids.length - 1, this.focus + delta));
    this.click(index, extend ? 'range' : 'single');
  }

  selectAll(): void {
    this.ids.forEach((id) => this.selection.add(id));
  }

  clearSelection(): void {
    this.selection.clear();
  }

  /** The images an action applies to: the selection, or the focused image when nothing is selected. */
  private targets(): number[] {
    if (this.selection.size > 0) return this.ids.filter((id) => this.selection.has(id));
    const focused = this.ids[this.focus];
    return focused === undefined ? [] : [focused];
  }

  // ---- labeling ------------------------------------------------------------------------------

  /** "Label next": the focused (or selected) images take the run's guess, and the focus moves on. */
  async acceptGuess(): Promise<void> {
    const suggestion = this.suggestion;
    if (!suggestion) {
      toasts.show('Open “Label next: most uncertain” in the sidebar first: A accepts its guess, X skips an image.');
      return;
    }
    const byClass = new Map<number, number[]>();
    for (const id of this.targets()) {
      const name = suggestion.guesses.get(id);
      const target = name ? this.classes.find((c) => c.name === name) : undefined;
      if (target) byClass.set(target.id, [...(byClass.get(target.id) ?? []), id]);
    }
    if (byClass.size === 0) {
      toasts.show('No guess for this image (its class may have been renamed or removed): label it with 1–9 or L.');
      return;
    }
    const selected = new Set(this.targets());
    for (const [classId, imageIds] of byClass) {
      // Each class's images as their own step, so Ctrl+Z undoes one class of guesses at a time.
      this.selection.clear();
      imageIds.forEach((id) => this.selection.add(id));
      await this.assign(classId, true);
    }
    if (selected.size > 1) this.selection.clear();
  }

  /** "Label next": leave the focused image unlabeled and go to the next one. */
  rejectGuess(): void {
    if (!this.suggestion) return;
    this.move(1, false);
  }

  async assignByKey(digit: number): Promise<void> {
    const target = this.classes[digit - 1];
    if (!target) {
      toasts.show(`There is no class ${digit} yet. Add classes in the sidebar (the first nine get keys 1–9).`);
      return;
    }
    await this.assign(target.id, true);
  }

  async assign(classId: number | null, advance = false): Promise<void> {
    const imageIds = this.targets();
    if (imageIds.length === 0) return;
    await attempt(async () => {
      this.history = await api.labels.assign({ imageIds, classId });
      if (classId !== null) this.remember(classId);
      for (const id of imageIds) {
        const row = this.rows.get(id);
        if (row) this.rows.set(id, { ...row, labelId: classId });
      }
      await this.reloadClasses();
      void appState.refresh();
      if (advance) {
        const last = Math.max(...imageIds.map((id) => this.ids.indexOf(id)));
        this.click(Math.min(this.ids.length - 1, last + 1), 'single');
      }
      // "Label next" asks the run again after every SUGGESTION_REFRESH labels: the queue follows what was learned.
      if (this.suggestion && classId !== null) {
        this.suggestion.labeledSince += imageIds.length;
        if (this.suggestion.labeledSince >= SUGGESTION_REFRESH) await this.showSuggestions();
      }
    });
  }

  async setSplit(split: Split): Promise<void> {
    const imageIds = this.targets();
    if (imageIds.length === 0) return;
    await attempt(
      async () => {
        this.history = await api.labels.setSplit({ imageIds, split });
        for (const id of imageIds) {
          const row = this.rows.get(id);
          if (row) this.rows.set(id, { ...row, split });
        }
        void appState.refresh();
      },
      { success: `${imageIds.length} image${imageIds.length === 1 ? '' : 's'} moved to ${split === 'train' ? 'the train pool' : split}` }
    );
  }

  async undo(): Promise<void> {
    await this.step('undo');
  }

  async redo(): Promise<void> {
    await this.step('redo');
  }

  private async step(direction: 'undo' | 'redo'): Promise<void> {
    await attempt(
      async () => {
        const result = direction === 'undo' ? await api.labels.undo() : await api.labels.redo();
        this.history = { canUndo: result.canUndo, canRedo: result.canRedo };
        await this.refetch(result.changedImageIds);
        await this.reloadClasses();
        void appState.refresh();
        return result;
      },
      { success: (result) => result.description }
    );
  }

  // ---- classes -------------------------------------------------------------------------------

  async createClass(name: string): Promise<boolean> {
    const created = await attempt(async () => {
      await api.classes.create({ name });
      await this.reloadClasses();
      void appState.refresh();
      return true;
    });
    return created ?? false;
  }

  /**
   * A class edit refused because another window changed the classes since this one loaded them:
   * Reload shows the other change; Overwrite makes this edit again over it.
   */
  private conflict(error: unknown, retry: () => Promise<unknown>): void {
    conflicts.handle(error, {
      scope: 'classes',
      reload: () => this.reload(),
      overwrite: async () => {
        await this.loadClasses();
        await retry();
      }
    });
  }

  async renameClass(id: number, name: string): Promise<boolean> {
    try {
      await api.classes.rename({ id, name, ...expected(this.classesRevision) });
      await this.reloadClasses();
      return true;
    } catch (error) {
      this.conflict(error, () => this.renameClass(id, name));
      return false;
    }
  }

  async mergeClasses(sourceIds: number[], targetId: number): Promise<void> {
    try {
      const { moved } = await api.classes.merge({ sourceIds, targetId, ...expected(this.classesRevision) });
      toasts.show(`Merged: ${moved} image${moved === 1 ? '' : 's'} moved to ${this.classById.get(targetId)?.name ?? 'the class'}`);
      if (this.filter.classId !== undefined && sourceIds.includes(this.filter.classId)) this.setFilter({ ...this.filter, classId: targetId });
      else await this.reload();
      void appState.refresh();
    } catch (error) {
      this.conflict(error, () => this.mergeClasses(sourceIds, targetId));
    }
  }

  async deleteClass(id: number): Promise<void> {
    try {
      const { unlabeled } = await api.classes.delete({ id, ...expected(this.classesRevision) });
      toasts.show(`Class deleted; ${unlabeled} image${unlabeled === 1 ? ' is' : 's are'} now unlabeled`);
      if (this.filter.classId === id) this.setFilter({ ...this.filter, classId: undefined });
      else await this.reload();
      void appState.refresh();
    } catch (error) {
      this.conflict(error, () => this.deleteClass(id));
    }
  }

  async moveClass(id: number, delta: number): Promise<void> {
    const ids = this.classes.map((c) => c.id);
    const from = ids.indexOf(id);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= ids.length) return;
    ids.splice(to, 0, ids.splice(from, 1)[0]!);
    try {
      const revisionBefore = this.classesRevision;
      this.classes = await api.classes.reorder({ ids, ...expected(revisionBefore) });
      await this.loadClasses();
    } catch (error) {
      this.conflict(error, () => this.moveClass(id, delta));
    }
  }
}

export const labeling = new LabelingState();
