import type { TemplateAnalysis, TemplateAnalysisProgress, TemplateLibrary } from '$contract/index';
import { attempt } from '../lib/attempt';
import { api, bridge } from '../lib/bridge';
import { expected, fromElsewhere } from '../lib/conflict';
import { templateProblem, type TemplateProblem } from '../lib/templates';
import { conflicts, currentRevisions } from './conflicts.svelte';
import { modelsState } from './models.svelte';
import { templateDrafts } from './template-drafts';
import { toasts } from './toasts.svelte';

export interface TemplateGroup {
  name: string;
  templates: string[];
}

export interface GroupingProposal {
  groups: string[][];
  suggested: number;
  scores: { groups: number; silhouette: number }[];
}

/** The templates of every group, trimmed: what a measurement is kept under (and compared by). */
const templatesKey = (list: TemplateGroup[]) => JSON.stringify(list.map((g) => g.templates.map((t) => t.trim())));

/**
 * The Templates page: the project's template groups being edited (unsaved edits kept per project while
 * the app runs), saving them against the revision they were loaded at (a save another window made
 * first is never wiped: Reload / Overwrite), auto-grouping, and the zero-shot measurement of the
 * groups (its progress, and the one kept in the project for the templates shown).
 *
 * The page calls `open` when shown; what it returns closes it again and forgets everything, so each
 * visit starts from the saved groups (and the unsaved draft, if any), as a fresh page would.
 */
class TemplatesState {
  #groups = $state<TemplateGroup[]>([]);
  /** The saved groups (JSON) this page started from; `dirty` compares against it. */
  #saved = $state('');
  #library = $state<TemplateLibrary | null>(null);
  #libraryId = $state('');
  /** The "new template" field of each group. */
  #drafts = $state<string[]>([]);
  #dragging: { group: number; index: number } | null = null;
  #autoG = $state<number | undefined>(undefined);
  #proposal = $state<GroupingProposal | null>(null);
  #grouping = $state(false);
  #analysis = $state<TemplateAnalysis | null>(null);
  /** The templates (templatesKey) `analysis` measured. */
  #analysed = $state('');
  #measuring = $state(false);
  #progress = $state<TemplateAnalysisProgress | null>(null);
  #analysisId = '';
  /** The revision of the saved groups this page started from: a save names it, so another window's save is never wiped. */
  #revision: number | undefined = undefined;
  /** Another window saved other groups while this one has unsaved edits. */
  #changedElsewhere = $state(false);
  /** The saved groups (and the draft, if any) are loaded: edits count from here. */
  #ready = $state(false);
  #project = '';
  #lookUpTimer: ReturnType<typeof setTimeout> | undefined;
  /** Counts opens and resets: an answer that arrives after the page closed (or opened again) is dropped. */
  #session = 0;

  #dirty = $derived(JSON.stringify(this.#groups) !== this.#saved);
  #all = $derived(this.#groups.flatMap((g) => g.templates.map((t) => t.trim())));
  #problems = $derived(this.#groups.map((g) => g.templates.map((t) => templateProblem(t, this.#all))));
  #hasEmptyGroup = $derived(this.#groups.some((g) => g.templates.length === 0));
  #blocking = $derived(this.#problems.flat().some((p) => p && p.level === 'error') || this.#hasEmptyGroup);
  #analysisCurrent = $derived(this.#analysis !== null && this.#analysed === templatesKey(this.#groups));
  #templateAccuracy = $derived(new Map(this.#analysis?.groups.flatMap((g) => g.templates.map((t) => [t.template, t.accuracy] as const)) ?? []));

  /** The groups as edited (their names and templates are bound to the page's fields). */
  get groups(): TemplateGroup[] {
    return this.#groups;
  }
  /** The "new template" field of each group, by group index. */
  get drafts(): string[] {
    return this.#drafts;
  }
  get library(): TemplateLibrary | null {
    return this.#library;
  }
  /** The built-in grouping chosen in the library list. */
  get libraryId(): string {
    return this.#libraryId;
  }
  set libraryId(id: string) {
    this.#libraryId = id;
  }
  /** How many groups auto-grouping makes (undefined: the number it suggests). */
  get autoG(): number | undefined {
    return this.#autoG;
  }
  set autoG(count: number | undefined) {
    this.#autoG = count;
  }
  get proposal(): GroupingProposal | null {
    return this.#proposal;
  }
  get grouping(): boolean {
    return this.#grouping;
  }
  get ready(): boolean {
    return this.#ready;
  }
  /** The groups differ from the saved ones. */
  get dirty(): boolean {
    return this.#dirty;
  }
  /** Every template, trimmed. */
  get all(): string[] {
    return this.#all;
  }
  /** Each template's problem (or null), by group and template index. */
  get problems(): (TemplateProblem | null)[][] {
    return this.#problems;
  }
  get hasEmptyGroup(): boolean {
    return this.#hasEmptyGroup;
  }
  /** An error in a template, or an empty group: the groups cannot be saved or measured. */
  get blocking(): boolean {
    return this.#blocking;
  }
  get changedElsewhere(): boolean {
    return this.#changedElsewhere;
  }
  /** The last measurement shown (of these templates, or of earlier ones: see `analysisCurrent`). */
  get analysis(): TemplateAnalysis | null {
    return this.#analysis;
  }
  /** The measurement shown is of the templates as they are now. */
  get analysisCurrent(): boolean {
    return this.#analysisCurrent;
  }
  get measuring(): boolean {
    return this.#measuring;
  }
  get progress(): TemplateAnalysisProgress | null {
    return this.#progress;
  }

  /** Group `g`'s measured ensemble accuracy and gate share, when the measurement is of these templates. */
  groupStats(g: number): TemplateAnalysis['groups'][number] | undefined {
    return this.#analysisCurrent ? this.#analysis?.groups[g] : undefined;
  }

  /** One template's measured zero-shot accuracy alone, when the measurement is of these templates. */
  accuracyOf(template: string): number | undefined {
    return this.#analysisCurrent ? this.#templateAccuracy.get(template.trim()) : undefined;
  }

  /** " Measured <when> with <model> in <n> s." for a kept measurement ('' when it does not say when). */
  measuredWhen(a: TemplateAnalysis): string {
    if (!a.measuredAt) return '';
    const at = new Date(a.measuredAt);
    const model = modelsState.models.find((m) => m.id === a.modelId)?.name ?? a.modelId;
    const took = a.seconds !== undefined ? ` in ${a.seconds < 10 ? a.seconds.toFixed(1) : Math.round(a.seconds)} s` : '';
    return ` Measured ${at.toLocaleString()}${model ? ` with ${model}` : ''}${took}.`;
  }

  /**
   * Shows the page for a project: loads the library and the saved groups (or this project's unsaved
   * draft over the same saved groups), then the measurement kept for them. While open, unsaved edits
   * are kept as the project's draft (the Train page warns about them; the next visit brings them back),
   * groups saved in another window are shown (or, over unsaved edits, said), and edits that come back
   * to measured templates show that measurement. Returns the close.
   */
  open(project: string): () => void {
    this.reset();
    this.#project = project;
    const session = this.#session;
    void this.#load(session);
    const stopEffects = $effect.root(() => {
      $effect(() => this.#keepDraft());
      $effect(() => this.lookUpSoon());
    });
    // Another window saved template groups: show them, unless this page has unsaved edits (then say so).
    const offChanged = bridge.on('project.changed', (event) => {
      if (event.reason !== 'templates' && event.reason !== 'reconnected') return;
      if (!fromElsewhere(event.origin, bridge.clientId)) return;
      if (this.#dirty) this.#changedElsewhere = true;
      else void this.reload();
    });
    const offProgress = bridge.on('templates.progress', (p) => {
      if (p.analysisId === this.#analysisId) this.#progress = p;
    });
    return () => {
      stopEffects();
      offChanged();
      offProgress();
      if (this.#session === session) this.reset();
    };
  }

  /** Forgets the page's state (what a page shown again starts from); unsaved drafts stay kept per project. */
  reset(): void {
    this.#session++;
    clearTimeout(this.#lookUpTimer);
    this.#groups = [];
    this.#saved = '';
    this.#library = null;
    this.#libraryId = '';
    this.#drafts = [];
    this.#dragging = null;
    this.#autoG = undefined;
    this.#proposal = null;
    this.#grouping = false;
    this.#analysis = null;
    this.#analysed = '';
    this.#measuring = false;
    this.#progress = null;
    this.#analysisId = '';
    this.#revision = undefined;
    this.#changedElsewhere = false;
    this.#ready = false;
    this.#project = '';
  }

  async #load(session: number): Promise<void> {
    await attempt(async () => {
      const [library] = await Promise.all([api.templates.library(), this.#loadSaved(session)]);
      if (session !== this.#session) return;
      this.#library = library;
      const draft = templateDrafts.get(this.#project);
      if (draft && draft.saved === this.#saved) {
        this.#setGroups(draft.groups);
        toasts.show('Your unsaved template changes are back. Save them, or reload the page to drop them.');
      }
      this.#ready = true;
      this.#libraryId = library.groupings[0]?.id ?? '';
    });
    await modelsState.load();
    await this.#lookUpMeasurement(session);
  }

  /** The saved groups and their revision (read first: a save in between makes ours refused, never lost). */
  async #loadSaved(session = this.#session): Promise<void> {
    const revisions = await currentRevisions();
    const own = await api.templates.groups();
    if (session !== this.#session) return;
    this.#revision = revisions?.templates;
    this.#setGroups(own.map((g) => ({ name: g.name, templates: g.templates })));
    this.#saved = JSON.stringify(this.#groups);
    this.#changedElsewhere = false;
    conflicts.dismiss('templates');
  }

  /** Drops this window's edits for the saved groups (another window's, after a conflict) and their kept measurement. */
  async reload(): Promise<void> {
    const session = this.#session;
    await this.#loadSaved(session);
    await this.#lookUpMeasurement(session);
  }

  /** Unsaved edits are kept as the project's draft; none once saved or undone. Runs as an effect while the page is open. */
  #keepDraft(): void {
    if (!this.#ready) return;
    templateDrafts.set(this.#project, this.#dirty ? { saved: this.#saved, groups: $state.snapshot(this.#groups) } : null);
  }

  /**
   * Edits that come back to templates measured before (another grouping, an undo by hand) show that
   * measurement again: looked up once the edits pause. Runs as an effect while the page is open.
   */
  lookUpSoon(): (() => void) | undefined {
    const key = templatesKey(this.#groups);
    if (!this.#ready || this.#analysed === key) return;
    clearTimeout(this.#lookUpTimer);
    const session = this.#session;
    this.#lookUpTimer = setTimeout(() => void this.#lookUpMeasurement(session), 400);
    return () => clearTimeout(this.#lookUpTimer);
  }

  /** The measurement kept in the project for these templates (with the model measure() would use), shown without measuring again. */
  async #lookUpMeasurement(session: number): Promise<void> {
    const key = templatesKey(this.#groups);
    if (this.#groups.length === 0 || (this.#analysisCurrent && this.#analysis)) return;
    try {
      const found = await api.templates.measurement({ modelId: modelsState.available[0]?.id, groups: JSON.parse(key) as string[][] });
      if (found && session === this.#session && key === templatesKey(this.#groups)) {
        this.#analysis = found;
        this.#analysed = key;
      }
    } catch {
      // Nothing kept, or no project: the page offers to measure.
    }
  }

  #setGroups(next: TemplateGroup[]): void {
    this.#groups = next;
    this.#drafts = next.map(() => '');
  }

  /**
   * Saves the groups, naming the revision this page started from: when another window saved since, the
   * save is refused and the page offers Reload (theirs) or Overwrite (save these over theirs).
   */
  async save(over?: number): Promise<void> {
    const mine = $state.snapshot(this.#groups);
    const session = this.#session;
    try {
      await api.templates.setGroups({ groups: mine, ...expected(over ?? this.#revision) });
      await this.#loadSaved(session);
      toasts.show('Template groups saved');
    } catch (error) {
      conflicts.handle(error, {
        scope: 'templates',
        reload: () => this.reload(),
        overwrite: async () => {
          this.#groups = mine;
          await this.save((await currentRevisions())?.templates);
        }
      });
    }
  }

  addGroup(): void {
    this.#setGroups([...this.#groups, { name: `Group ${this.#groups.length + 1}`, templates: [] }]);
  }

  removeGroup(g: number): void {
    this.#setGroups(this.#groups.filter((_, i) => i !== g));
  }

  /** Adds what is typed in group `g`'s "new template" field to the group. */
  addTemplate(g: number): void {
    const text = this.#drafts[g]!.trim();
    if (!text) return;
    this.#groups[g]!.templates.push(text);
    this.#drafts[g] = '';
  }

  removeTemplate(g: number, i: number): void {
    this.#groups[g]!.templates.splice(i, 1);
  }

  /** Swaps template `i` of group `g` with its neighbour `delta` away (the first one initialises the expert). */
  move(g: number, i: number, delta: number): void {
    const list = this.#groups[g]!.templates;
    const j = i + delta;
    if (j < 0 || j >= list.length) return;
    [list[i], list[j]] = [list[j]!, list[i]!];
  }

  /** A template picked up to be dropped on another group. */
  startDrag(group: number, index: number): void {
    this.#dragging = { group, index };
  }

  /** The dragged template moves to the end of group `target`. */
  drop(target: number): void {
    const dragging = this.#dragging;
    if (!dragging || dragging.group === target) return;
    const [t] = this.#groups[dragging.group]!.templates.splice(dragging.index, 1);
    this.#groups[target]!.templates.push(t!);
    this.#dragging = null;
  }

  /** Replaces the groups with the built-in grouping chosen (`libraryId`). */
  useLibrary(): void {
    const found = this.#library?.groupings.find((g) => g.id === this.#libraryId);
    if (found) this.#setGroups(found.groups.map((templates, i) => ({ name: `Group ${i + 1}`, templates: [...templates] })));
  }

  /** Replaces the groups with those of a JSON file (`{"groups": [{"name", "templates"}]}`), unsaved. */
  async importFile(file: File): Promise<void> {
    try {
      const parsed = JSON.parse(await file.text()) as { groups?: { name?: string; templates?: string[] }[] };
      if (!Array.isArray(parsed.groups)) throw new Error('expected {"groups": [{"name": "...", "templates": ["a photo of a {}.", ...]}]}');
      this.#setGroups(parsed.groups.map((g, i) => ({ name: String(g.name ?? `Group ${i + 1}`), templates: (g.templates ?? []).map(String) })));
      toasts.show(`Loaded ${parsed.groups.length} group(s) from ${file.name}; save to keep them.`);
    } catch (error) {
      toasts.show(`${file.name}: ${(error as Error).message}`, 'error');
    }
  }

  /** The groups as the JSON file Import reads. */
  exportJson(): string {
    return JSON.stringify({ groups: $state.snapshot(this.#groups) }, null, 2);
  }

  /** Zero-shot accuracy of every template and group on the labeled images, and the gate's picks (kept in the project). */
  async measure(): Promise<void> {
    const modelId = modelsState.available[0]?.id;
    if (!modelId) return toasts.show('Install or import a model first (Models page).', 'error');
    const session = this.#session;
    this.#measuring = true;
    this.#progress = null;
    this.#analysisId = `analysis-${crypto.randomUUID()}`;
    try {
      const key = templatesKey(this.#groups);
      const analysis = await api.templates.analyze({ modelId, groups: JSON.parse(key) as string[][], analysisId: this.#analysisId });
      if (session !== this.#session) return;
      this.#analysis = analysis;
      this.#analysed = key;
    } catch (error) {
      toasts.error(error);
    } finally {
      if (session === this.#session) {
        this.#measuring = false;
        this.#progress = null;
      }
    }
  }

  /** Clusters the templates by their CLIP text features into `autoG` groups (or the number it suggests), as a proposal. */
  async propose(): Promise<void> {
    const modelId = modelsState.available[0]?.id;
    if (!modelId) return toasts.show('Install or import a model first (Models page).', 'error');
    const session = this.#session;
    this.#grouping = true;
    try {
      const proposal = await api.templates.autoGroup({ modelId, templates: this.#all.filter(Boolean), groups: this.#autoG });
      if (session !== this.#session) return;
      this.#proposal = proposal;
      this.#autoG ??= proposal.suggested;
    } catch (error) {
      toasts.error(error);
    } finally {
      if (session === this.#session) this.#grouping = false;
    }
  }

  /** Makes the proposed grouping the groups being edited. */
  applyProposal(): void {
    const proposal = this.#proposal;
    if (!proposal) return;
    this.#setGroups(proposal.groups.map((templates, i) => ({ name: `Group ${i + 1}`, templates })));
    this.#proposal = null;
  }

  dismissProposal(): void {
    this.#proposal = null;
  }
}

export const templates = new TemplatesState();
