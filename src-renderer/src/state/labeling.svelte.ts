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

/** Labels after which the "Label next" queue is asked for again. */
export const SUGGESTION_REFRESH = 20;

/** The "Label next" queue: the run it came from, its hint and guess per image, and the labels given since it was asked for. */
export interface Suggestion {
  runId: string;
  hints: Map<number, string>;
  guesses: Map<number, string | null>;
  labeledSince: number;
}

/** A finished run whose predictions the viewer and the prediction filters can use. */
export interface FinishedRun {
  id: string;
  method: string;
  accuracy: number | null;
  createdAt: string;
}

/**
 * The labeling grid: the filtered id list, a cache of image rows fetched page by page as the grid
 * scrolls, the selection, the focused tile and the undo/redo state.
 */
export class LabelingState {
  #classList = $state.raw<ClassInfo[]>([]);
  #filter = $state<ImageFilter>({});
  #ids = $state.raw<number[]>([]);
  #rows = new SvelteMap<number, ImageRow>();
  #selection = new SvelteSet<number>();
  #focus = $state(0);
  #anchor = $state(0);
  #history = $state<HistoryState>({ canUndo: false, canRedo: false });
  #suggestion = $state<Suggestion | null>(null);
  #loading = $state(false);
  #pending = new Set<number>();
  #recentClassIds = $state<number[]>([]);
  #tileSize = $state<TileSize>('auto');
  #runs = $state.raw<FinishedRun[]>([]);
  #predictionRunId = $state<string | null>(null);
  #recentKey = '';
  /** The class list's revision when it was loaded: class edits name it, so a stale one is refused. */
  #classesRevision: number | undefined;
  #listening = false;
  #pendingRefresh: { all: boolean; imageIds: Set<number>; timer: ReturnType<typeof setTimeout> } | null = null;
  /** Counts resets: an answer asked for before the last one (another project's) is dropped. */
  #session = 0;

  #classById = $derived(new Map(this.#classList.map((c) => [c.id, c])));
  #selectedIds = $derived([...this.#selection]);
  #recentClasses = $derived(this.#recentClassIds.flatMap((id) => this.#classById.get(id) ?? []));

  /** The project's classes, in their order (the first nine have the keys 1–9). */
  get classes(): ClassInfo[] {
    return this.#classList;
  }
  get classById(): Map<number, ClassInfo> {
    return this.#classById;
  }
  /** The filter of the grid (change it with setFilter). */
  get filter(): ImageFilter {
    return this.#filter;
  }
  /** The images of the grid, in order: the filtered ones, or the "Label next" queue. */
  get ids(): number[] {
    return this.#ids;
  }
  /** The image rows fetched so far, by id (fetched page by page as the grid scrolls). */
  get rows(): ReadonlyMap<number, ImageRow> {
    return this.#rows;
  }
  get selection(): ReadonlySet<number> {
    return this.#selection;
  }
  /** The selected ids, in the order they were selected. */
  get selectedIds(): number[] {
    return this.#selectedIds;
  }
  /** The index (in ids) of the focused tile. */
  get focus(): number {
    return this.#focus;
  }
  get history(): HistoryState {
    return this.#history;
  }
  /** Active-learning view: unlabeled images in order of uncertainty under a trained run, with its guesses. */
  get suggestion(): Suggestion | null {
    return this.#suggestion;
  }
  /** The grid is being loaded again. */
  get loading(): boolean {
    return this.#loading;
  }
  /** The classes most recently used to label, most recent first (kept per project in this browser). */
  get recentClassIds(): number[] {
    return this.#recentClassIds;
  }
  get recentClasses(): ClassInfo[] {
    return this.#recentClasses;
  }
  /** Thumbnail size: 'auto' follows the images' own size. */
  get tileSize(): TileSize {
    return this.#tileSize;
  }
  /** The finished runs whose predictions the viewer and the prediction filters can use. */
  get runs(): FinishedRun[] {
    return this.#runs;
  }
  /** The run whose predictions the viewer shows and the prediction filters use; null: the most accurate finished run. */
  get predictionRunId(): string | null {
    return this.#predictionRunId;
  }

  /** Every class list goes through here, so the palette knows the project's classes (distinct colours). */
  #setClasses(list: ClassInfo[]): void {
    setProjectClasses(list.map((c) => c.id));
    this.#classList = list;
  }

  setTileSize(size: TileSize): void {
    this.#tileSize = size;
  }

  /** The run whose predictions the viewer shows and the prediction filters use (null: the most accurate one). */
  choosePredictionRun(runId: string | null): void {
    this.#predictionRunId = runId;
  }

  /** The undo/redo state after a change this window made elsewhere (the split dialog's). */
  setHistory(history: HistoryState): void {
    this.#history = history;
  }

  /**
   * Forgets the project shown (another one opened): its classes, images, selection, undo state,
   * "Label next" queue, runs and recent classes; answers still on their way, and a refresh waiting
   * for another window's changes, are dropped. The thumbnail size is this window's choice and stays.
   */
  reset(): void {
    this.#session++;
    if (this.#pendingRefresh) clearTimeout(this.#pendingRefresh.timer);
    this.#pendingRefresh = null;
    this.#setClasses([]);
    this.#classesRevision = undefined;
    this.#filter = {};
    this.#ids = [];
    this.#rows.clear();
    this.#selection.clear();
    this.#pending.clear();
    this.#focus = 0;
    this.#anchor = 0;
    this.#history = { canUndo: false, canRedo: false };
    this.#suggestion = null;
    this.#loading = false;
    this.#recentClassIds = [];
    this.#recentKey = '';
    this.#runs = [];
    this.#predictionRunId = null;
  }

  /** Loads the recent classes of the open project (from this browser's storage). */
  useProject(projectPath: string): void {
    this.#listen();
    this.#recentKey = `mocoop.recentClasses:${projectPath}`;
    try {
      const stored = JSON.parse(globalThis.localStorage?.getItem(this.#recentKey) ?? '[]') as unknown;
      this.#recentClassIds = Array.isArray(stored) ? stored.filter((n): n is number => Number.isInteger(n)).slice(0, 8) : [];
    } catch {
      this.#recentClassIds = [];
    }
  }

  /** Records a class as just used (the "recent classes" row and the picker). */
  remember(classId: number): void {
    this.#recentClassIds = pushRecent(this.#recentClassIds, classId);
    try {
      if (this.#recentKey) globalThis.localStorage?.setItem(this.#recentKey, JSON.stringify(this.#recentClassIds));
    } catch {
      // Storage may be full or disabled; the row still works for this session.
    }
  }

  async loadRuns(): Promise<void> {
    const session = this.#session;
    await attempt(async () => {
      const runs = await api.runs.list();
      if (session !== this.#session) return;
      this.#runs = runs.filter((r) => r.status === 'done').map((r) => ({ id: r.id, method: r.method, accuracy: r.accuracy, createdAt: r.createdAt }));
    });
  }

  /**
   * Changes made in another window (tab): labels, splits, classes. This window's own changes are shown
   * already; bursts (another tab labeling by keys) are gathered into one refresh.
   */
  #listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    bridge.on('project.changed', (event) => {
      const elsewhere = fromElsewhere(event.origin, bridge.clientId);
      if (event.reason === 'labels' && elsewhere) this.#scheduleRefresh(event.imageIds);
      else if ((event.reason === 'classes' || event.reason === 'split') && elsewhere) this.#scheduleRefresh();
      else if (event.reason === 'reconnected') this.#scheduleRefresh();
    });
  }

  #scheduleRefresh(imageIds?: number[]): void {
    if (!this.#pendingRefresh) {
      const timer = setTimeout(() => {
        const pending = this.#pendingRefresh!;
        this.#pendingRefresh = null;
        void this.refreshFromElsewhere(pending.all ? undefined : [...pending.imageIds]);
      }, 150);
      this.#pendingRefresh = { all: false, imageIds: new Set(), timer };
    }
    if (imageIds) imageIds.forEach((id) => this.#pendingRefresh!.imageIds.add(id));
    else this.#pendingRefresh.all = true;
  }

  /**
   * Shows another window's change without losing this one's place: the classes and their counts, the
   * filtered ids (an image relabeled elsewhere may leave or join this view), the changed rows (all
   * cached rows when not named), the selection of what is still shown.
   */
  async refreshFromElsewhere(imageIds?: number[]): Promise<void> {
    const session = this.#session;
    try {
      await this.#loadClasses(session);
      const history = await api.labels.history();
      if (session !== this.#session) return;
      this.#history = history;
      if (!this.#suggestion) {
        const { ids } = await api.images.ids({ filter: $state.snapshot(this.#filter) });
        if (session !== this.#session) return;
        if (ids.length !== this.#ids.length || ids.some((id, i) => id !== this.#ids[i])) {
          const present = new Set(ids);
          this.#ids = ids;
          [...this.#selection].filter((id) => !present.has(id)).forEach((id) => this.#selection.delete(id));
          this.#focus = Math.min(this.#focus, Math.max(0, ids.length - 1));
        }
      }
      await this.#refetch(
        (imageIds ?? [...this.#rows.keys()]).filter((id) => this.#rows.has(id)),
        session
      );
    } catch {
      // The next change, or a reload, shows it; nothing of this window's is lost.
    }
  }

  /** The class list with its revision, the revision read first (a change in between makes a class edit refused, never lost). */
  async #loadClasses(session = this.#session): Promise<void> {
    const revisions = await currentRevisions();
    const classes = await api.classes.list();
    if (session !== this.#session) return;
    this.#setClasses(classes);
    this.#classesRevision = revisions?.classes;
  }

  async reload(): Promise<void> {
    const session = this.#session;
    await attempt(
      async () => {
        const revisions = await currentRevisions();
        const [classes, { ids: filtered }, history] = await Promise.all([
          api.classes.list(),
          api.images.ids({ filter: $state.snapshot(this.#filter) }),
          api.labels.history()
        ]);
        if (session !== this.#session) return;
        const ids = this.#suggestion ? this.#ids : filtered;
        this.#classesRevision = revisions?.classes;
        this.#setClasses(classes);
        this.#ids = ids;
        this.#history = history;
        this.#rows.clear();
        this.#pending.clear();
        const present = new Set(ids);
        const keep = [...this.#selection].filter((id) => present.has(id));
        this.#selection.clear();
        keep.forEach((id) => this.#selection.add(id));
        this.#focus = Math.min(this.#focus, Math.max(0, ids.length - 1));
        await this.ensureRows(0, Math.min(ids.length, PAGE));
      },
      {
        busy: (on) => {
          if (session === this.#session) this.#loading = on;
        }
      }
    );
  }

  /** Shows the unlabeled images the best run is least sure about, most uncertain first. */
  async showSuggestions(): Promise<void> {
    const session = this.#session;
    await attempt(async () => {
      const result = await api.suggest.uncertain({ by: 'margin', limit: 2000 });
      if (session !== this.#session) return;
      this.#suggestion = {
        runId: result.runId,
        hints: new Map(result.items.map((i) => [i.imageId, `${i.predicted ?? '?'} ${(100 * i.confidence).toFixed(0)}%`])),
        guesses: new Map(result.items.map((i) => [i.imageId, i.predicted])),
        labeledSince: 0
      };
      this.#filter = { unlabeled: true };
      this.#ids = result.items.map((i) => i.imageId);
      this.#focus = 0;
      this.#anchor = 0;
      this.#selection.clear();
      this.#rows.clear();
      await this.ensureRows(0, Math.min(this.#ids.length, PAGE));
      toasts.show(result.items.length ? `${result.items.length} unlabeled images, most uncertain first (run ${result.runId})` : 'No unlabeled images left.');
    });
  }

  async reloadClasses(): Promise<void> {
    await this.#loadClasses();
  }

  setFilter(filter: ImageFilter): void {
    this.#suggestion = null;
    this.#filter = filter;
    this.#focus = 0;
    this.#anchor = 0;
    this.#selection.clear();
    void this.reload();
  }

  /** Fetches the rows of ids[start, end) that are not cached yet. */
  async ensureRows(start: number, end: number): Promise<void> {
    const session = this.#session;
    const wanted = this.#ids.slice(Math.max(0, start), end).filter((id) => !this.#rows.has(id) && !this.#pending.has(id));
    for (let i = 0; i < wanted.length; i += PAGE) {
      const batch = wanted.slice(i, i + PAGE);
      batch.forEach((id) => this.#pending.add(id));
      try {
        const rows = await api.images.get({ ids: batch });
        if (session !== this.#session) return;
        for (const row of rows) this.#rows.set(row.id, row);
      } finally {
        if (session === this.#session) batch.forEach((id) => this.#pending.delete(id));
      }
    }
  }

  async #refetch(ids: number[], session = this.#session): Promise<void> {
    for (let i = 0; i < ids.length; i += 2000) {
      const rows = await api.images.get({ ids: ids.slice(i, i + 2000) });
      if (session !== this.#session) return;
      for (const row of rows) this.#rows.set(row.id, row);
    }
  }

  // ---- selection and focus -----------------------------------------------------------------

  click(index: number, mode: ClickMode): void {
    const next = selectionAfterClick(this.#ids, [...this.#selection], this.#anchor, index, mode);
    this.#selection.clear();
    next.selection.forEach((id) => this.#selection.add(id));
    this.#anchor = next.anchor;
    this.#focus = index;
  }

  move(delta: number, extend: boolean): void {
    if (this.#ids.length === 0) return;
    const index = Math.max(0, Math.min(this.#ids.length - 1, this.#focus + delta));
    this.click(index, extend ? 'range' : 'single');
  }

  selectAll(): void {
    this.#ids.forEach((id) => this.#selection.add(id));
  }

  clearSelection(): void {
    this.#selection.clear();
  }

  /** The images an action applies to: the selection, or the focused image when nothing is selected. */
  #targets(): number[] {
    if (this.#selection.size > 0) return this.#ids.filter((id) => this.#selection.has(id));
    const focused = this.#ids[this.#focus];
    return focused === undefined ? [] : [focused];
  }

  // ---- labeling ------------------------------------------------------------------------------

  /** "Label next": the focused (or selected) images take the run's guess, and the focus moves on. */
  async acceptGuess(): Promise<void> {
    const suggestion = this.#suggestion;
    if (!suggestion) {
      toasts.show('Open “Label next: most uncertain” in the sidebar first: A accepts its guess, X skips an image.');
      return;
    }
    const byClass = new Map<number, number[]>();
    for (const id of this.#targets()) {
      const name = suggestion.guesses.get(id);
      const target = name ? this.#classList.find((c) => c.name === name) : undefined;
      if (target) byClass.set(target.id, [...(byClass.get(target.id) ?? []), id]);
    }
    if (byClass.size === 0) {
      toasts.show('No guess for this image (its class may have been renamed or removed): label it with 1–9 or L.');
      return;
    }
    const session = this.#session;
    const selected = new Set(this.#targets());
    for (const [classId, imageIds] of byClass) {
      if (session !== this.#session) return;
      // Each class's images as their own step, so Ctrl+Z undoes one class of guesses at a time.
      this.#selection.clear();
      imageIds.forEach((id) => this.#selection.add(id));
      await this.assign(classId, true);
    }
    if (selected.size > 1 && session === this.#session) this.#selection.clear();
  }

  /** "Label next": leave the focused image unlabeled and go to the next one. */
  rejectGuess(): void {
    if (!this.#suggestion) return;
    this.move(1, false);
  }

  async assignByKey(digit: number): Promise<void> {
    const target = this.#classList[digit - 1];
    if (!target) {
      toasts.show(`There is no class ${digit} yet. Add classes in the sidebar (the first nine get keys 1–9).`);
      return;
    }
    await this.assign(target.id, true);
  }

  async assign(classId: number | null, advance = false): Promise<void> {
    const imageIds = this.#targets();
    if (imageIds.length === 0) return;
    const session = this.#session;
    await attempt(async () => {
      const history = await api.labels.assign({ imageIds, classId });
      if (session !== this.#session) return;
      this.#history = history;
      if (classId !== null) this.remember(classId);
      for (const id of imageIds) {
        const row = this.#rows.get(id);
        if (row) this.#rows.set(id, { ...row, labelId: classId });
      }
      await this.reloadClasses();
      void appState.refresh();
      if (session !== this.#session) return;
      if (advance) {
        const last = Math.max(...imageIds.map((id) => this.#ids.indexOf(id)));
        this.click(Math.min(this.#ids.length - 1, last + 1), 'single');
      }
      // "Label next" asks the run again after every SUGGESTION_REFRESH labels: the queue follows what was learned.
      if (this.#suggestion && classId !== null) {
        this.#suggestion.labeledSince += imageIds.length;
        if (this.#suggestion.labeledSince >= SUGGESTION_REFRESH) await this.showSuggestions();
      }
    });
  }

  async setSplit(split: Split): Promise<void> {
    const imageIds = this.#targets();
    if (imageIds.length === 0) return;
    const session = this.#session;
    await attempt(
      async () => {
        const history = await api.labels.setSplit({ imageIds, split });
        if (session !== this.#session) return;
        this.#history = history;
        for (const id of imageIds) {
          const row = this.#rows.get(id);
          if (row) this.#rows.set(id, { ...row, split });
        }
        void appState.refresh();
      },
      { success: `${imageIds.length} image${imageIds.length === 1 ? '' : 's'} moved to ${split === 'train' ? 'the train pool' : split}` }
    );
  }

  async undo(): Promise<void> {
    await this.#step('undo');
  }

  async redo(): Promise<void> {
    await this.#step('redo');
  }

  async #step(direction: 'undo' | 'redo'): Promise<void> {
    const session = this.#session;
    await attempt(
      async () => {
        const result = direction === 'undo' ? await api.labels.undo() : await api.labels.redo();
        if (session !== this.#session) return result;
        this.#history = { canUndo: result.canUndo, canRedo: result.canRedo };
        await this.#refetch(result.changedImageIds, session);
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
  #conflict(error: unknown, retry: () => Promise<unknown>): void {
    conflicts.handle(error, {
      scope: 'classes',
      reload: () => this.reload(),
      overwrite: async () => {
        await this.#loadClasses();
        await retry();
      }
    });
  }

  async renameClass(id: number, name: string): Promise<boolean> {
    try {
      await api.classes.rename({ id, name, ...expected(this.#classesRevision) });
      await this.reloadClasses();
      return true;
    } catch (error) {
      this.#conflict(error, () => this.renameClass(id, name));
      return false;
    }
  }

  async mergeClasses(sourceIds: number[], targetId: number): Promise<void> {
    const session = this.#session;
    try {
      const { moved } = await api.classes.merge({ sourceIds, targetId, ...expected(this.#classesRevision) });
      if (session !== this.#session) return;
      toasts.show(`Merged: ${moved} image${moved === 1 ? '' : 's'} moved to ${this.#classById.get(targetId)?.name ?? 'the class'}`);
      if (this.#filter.classId !== undefined && sourceIds.includes(this.#filter.classId)) this.setFilter({ ...this.#filter, classId: targetId });
      else await this.reload();
      void appState.refresh();
    } catch (error) {
      this.#conflict(error, () => this.mergeClasses(sourceIds, targetId));
    }
  }

  async deleteClass(id: number): Promise<void> {
    const session = this.#session;
    try {
      const { unlabeled } = await api.classes.delete({ id, ...expected(this.#classesRevision) });
      if (session !== this.#session) return;
      toasts.show(`Class deleted; ${unlabeled} image${unlabeled === 1 ? ' is' : 's are'} now unlabeled`);
      if (this.#filter.classId === id) this.setFilter({ ...this.#filter, classId: undefined });
      else await this.reload();
      void appState.refresh();
    } catch (error) {
      this.#conflict(error, () => this.deleteClass(id));
    }
  }

  async moveClass(id: number, delta: number): Promise<void> {
    const ids = this.#classList.map((c) => c.id);
    const from = ids.indexOf(id);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= ids.length) return;
    ids.splice(to, 0, ids.splice(from, 1)[0]!);
    const session = this.#session;
    try {
      const classes = await api.classes.reorder({ ids, ...expected(this.#classesRevision) });
      if (session !== this.#session) return;
      this.#setClasses(classes);
      await this.#loadClasses(session);
    } catch (error) {
      this.#conflict(error, () => this.moveClass(id, delta));
    }
  }
}

export const labeling = new LabelingState();
