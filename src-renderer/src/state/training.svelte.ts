import type { z } from 'zod';
import { AUGMENT_MODES } from '$contract/augmentation';
import { SCHEDULE_NAMES } from '$contract/schedules';
import type { FewShotSetInfo, RunStep, RunSummary, StepProgress, TrainStart } from '$contract/schemas';
import { attempt } from '../lib/attempt';
import { api, bridge } from '../lib/bridge';
import { type Eta, type StepTime, estimateEta, plannedTotalSteps } from '../lib/eta';
import { METHODS, methodName, methodSpec } from '../lib/methods';
import { appState } from './app.svelte';
import { toasts } from './toasts.svelte';

export type TrainSettings = z.input<typeof TrainStart>;
export type Step = z.infer<typeof StepProgress>;
export type HistoryStep = z.infer<typeof RunStep>;
type Run = z.infer<typeof RunSummary>;
type LossForm = Record<'lambda1' | 'lambda2' | 'lambdaKg' | 'tauCe' | 'tauGate' | 'tauText', number | null | undefined>;

/** A run's recorded curves: its steps (every `stride`-th of a long run) and how many were recorded. */
export interface History {
  steps: HistoryStep[];
  total: number;
  stride: number;
}

/** What the progress line shows for the run training now. */
export interface Progress {
  step: number;
  epoch: number;
  epochs: number | null;
  /** Steps of the whole run (null: not known yet). */
  total: number | null;
  eta: Eta;
  /** 0–100, or null when the total is unknown. */
  percent: number | null;
}

const FORM_KEY = 'mocoop.trainForm:';
const NUMBER_FIELDS = ['topK', 'epochs', 'batchSize', 'lr', 'seed', 'augViews'] as const;
const LOSS_FIELDS = ['lambda1', 'lambda2', 'lambdaKg', 'tauCe', 'tauGate', 'tauText'] as const;
/** Steps of the run in progress are shown at most this often once it has many (every step is kept). */
const FLUSH_MS = 150;

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/** The Train page: the project's few-shot sets, the run in progress with its curves, the queue and past runs. */
class TrainingState {
  #sets = $state<z.infer<typeof FewShotSetInfo>[]>([]);
  #runs = $state<Run[]>([]);
  #activeRun = $state<string | null>(null);
  /** The active run's steps: its recorded history, then the live ones. */
  #steps = $state.raw<HistoryStep[]>([]);
  /** When this session's live steps of the active run arrived (for the time left). */
  #timings = $state.raw<StepTime[]>([]);
  /** Recorded curves of runs not training now, by run id (loaded when shown). */
  #histories = $state.raw<Record<string, History>>({});
  /** Runs chosen for comparison on the chart (none: the run training now, else the latest). */
  #compared = $state<string[]>([]);
  #queue = $state<TrainSettings[]>([]);
  #queuePaused = $state(false);
  #lastFinished = $state<{ runId: string; status: string; error?: string } | null>(null);
  /**
   * The Train page's settings form (kept while the app runs, and per project across reloads); empty
   * numbers keep the defaults, which come from the schedule (none picked: lasp-25 for MoCoOp, coop for CoOp and KgCoOp).
   * Public, as are `loss`'s: its fields are bound to the page's form fields.
   */
  form = $state<TrainSettings>({
    modelId: '',
    method: 'mocoop',
    preset: 'paper',
    schedule: undefined,
    topK: 2,
    epochs: undefined,
    batchSize: undefined,
    lr: undefined,
    seed: 1,
    augment: undefined,
    augViews: undefined,
    name: ''
  });
  /** The loss weights and temperatures of the form (bound to the page's fields; empty: the preset's). */
  loss = $state<LossForm>({
    lambda1: undefined,
    lambda2: undefined,
    lambdaKg: undefined,
    tauCe: undefined,
    tauGate: undefined,
    tauText: undefined
  });
  /** The clock of step arrivals (ms); replaceable in tests. */
  clock: () => number = () => performance.now();

  #pending: HistoryStep[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | null = null;
  #lastFlush = 0;
  #loadingHistory = new Set<string>();
  #projectPath: string | null = null;
  /** Counts resets: an answer asked for before the last one (another project's) is dropped. */
  #session = 0;

  #latest = $derived(this.#steps.at(-1) ?? null);
  /** The runs the chart shows: those chosen for comparison, else the run training now, else the latest run. */
  #shown = $derived.by(() => {
    const ids = new Set(this.#runs.map((r) => r.id));
    const chosen = this.#compared.filter((id) => ids.has(id));
    if (chosen.length) return chosen;
    if (this.#activeRun) return [this.#activeRun];
    const last = this.#runs.at(-1);
    return last ? [last.id] : [];
  });

  /** The project's few-shot sets. */
  get sets(): z.infer<typeof FewShotSetInfo>[] {
    return this.#sets;
  }
  /** The project's runs, oldest first. */
  get runs(): Run[] {
    return this.#runs;
  }
  /** The run training now (followed live), or null. */
  get activeRun(): string | null {
    return this.#activeRun;
  }
  /** The active run's steps: its recorded history, then the live ones. */
  get steps(): HistoryStep[] {
    return this.#steps;
  }
  /** The active run's latest step. */
  get latest(): HistoryStep | null {
    return this.#latest;
  }
  /** Recorded curves of runs not training now, by run id (loaded when shown). */
  get histories(): Record<string, History> {
    return this.#histories;
  }
  /** Runs chosen for comparison on the chart (none: the run training now, else the latest). */
  get compared(): string[] {
    return this.#compared;
  }
  /** The runs the chart shows: those chosen for comparison, else the run training now, else the latest run. */
  get shown(): string[] {
    return this.#shown;
  }
  /** Settings waiting for the run training now to end. */
  get queue(): TrainSettings[] {
    return this.#queue;
  }
  /** The queue waits for the user (a run was cancelled). */
  get queuePaused(): boolean {
    return this.#queuePaused;
  }
  /** How the last run followed here ended. */
  get lastFinished(): { runId: string; status: string; error?: string } | null {
    return this.#lastFinished;
  }

  constructor() {
    bridge.on('train.progress', (step) => {
      if (step.runId !== this.#activeRun) return;
      const { runId: _, event: __, ...rest } = step;
      this.#timings = [...(this.#timings.length > 80 ? this.#timings.slice(-60) : this.#timings), { step: step.step, at: this.clock() }];
      this.#pending.push(rest);
      this.#flushSoon();
    });
    bridge.on('train.finished', (event) => {
      if (event.runId !== this.#activeRun) return;
      this.#flush();
      // The curves just seen are the run's history: kept, so the chart goes on showing them.
      this.#histories = { ...this.#histories, [event.runId]: { steps: this.#steps, total: this.#steps.length, stride: 1 } };
      this.#activeRun = null;
      this.#timings = [];
      this.#lastFinished = event;
      // A cancel means "stop": the queue waits until the user starts it again. A run interrupted by
      // the compute worker's death is not the user's stop: it waits for Resume, and the queue goes on.
      if (event.status === 'cancelled' && !event.interrupted && this.#queue.length) this.#queuePaused = true;
      if (event.status === 'failed') toasts.show(`Training failed: ${event.error ?? 'unknown error'}`, 'error');
      else if (event.interrupted)
        toasts.show(`Run ${event.runId} was interrupted: the compute worker stopped. Resume it to continue from its last checkpoint.`, 'error');
      else
        toasts.show(
          `Run ${event.runId} ${event.status === 'done' ? 'finished' : 'stopped'}${this.#queuePaused ? `; ${this.#queue.length} queued run(s) wait until you start the queue` : ''}`
        );
      void this.load().then(() => this.#next());
      void appState.refresh();
    });
  }

  /** Shows the live steps received: at once when the last showing is old enough, else a moment later (long fast runs). */
  #flushSoon(): void {
    if (this.clock() - this.#lastFlush >= FLUSH_MS) this.#flush();
    else this.#flushTimer ??= setTimeout(() => this.#flush(), FLUSH_MS);
  }

  #flush(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    this.#lastFlush = this.clock();
    if (!this.#pending.length) return;
    const incoming = this.#pending;
    this.#pending = [];
    this.#steps = mergeSteps(this.#steps, incoming);
  }

  /**
   * Runs, the queue and the form belong to one project: opening another drops what was shown and
   * queued for the previous one (its running run, if any, goes on and is listed when it is reopened),
   * and brings back the form as it was last left in that project.
   */
  enterProject(path: string): void {
    if (this.#projectPath === path) return;
    if (this.#projectPath !== null && this.#queue.length) toasts.show(`${this.#queue.length} queued run(s) of the previous project were dropped.`);
    this.reset();
    this.#projectPath = path;
    this.#restoreForm();
  }

  /**
   * Forgets the project (none is entered): its sets and runs, the run followed and its curves, the
   * comparison and the queue, and the form's few-shot set (the rest of the form stays as last left);
   * answers still on their way are dropped. A run still training goes on, and is listed when its
   * project is entered again.
   */
  reset(): void {
    this.#session++;
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    this.#lastFlush = 0;
    this.#pending = [];
    this.#loadingHistory.clear();
    this.#projectPath = null;
    this.#queue = [];
    this.#queuePaused = false;
    this.#activeRun = null;
    this.#steps = [];
    this.#timings = [];
    this.#histories = {};
    this.#compared = [];
    this.#lastFinished = null;
    this.#sets = [];
    this.#runs = [];
    this.form.setId = undefined;
  }

  /** The project's few-shot sets as a change to them answered (the Few-shot sets page's delete). */
  replaceSets(sets: z.infer<typeof FewShotSetInfo>[]): void {
    this.#sets = sets;
  }

  /** Keeps the form of this project in the browser's storage, so a reload brings it back. */
  saveForm(): void {
    const store = storage();
    if (!store || this.#projectPath === null) return;
    try {
      store.setItem(FORM_KEY + this.#projectPath, JSON.stringify({ form: $state.snapshot(this.form), loss: $state.snapshot(this.loss) }));
    } catch {
      // Storage full or disabled: the form is still kept while the app runs.
    }
  }

  /** The form as last left in this project; anything stored that is not a valid value is ignored. */
  #restoreForm(): void {
    const raw = this.#projectPath === null ? null : storage()?.getItem(FORM_KEY + this.#projectPath);
    if (!raw) return;
    let saved: { form?: Record<string, unknown>; loss?: Record<string, unknown> };
    try {
      saved = JSON.parse(raw);
    } catch {
      return;
    }
    const f = saved.form ?? {};
    const isNumber = (v: unknown) => v === null || (typeof v === 'number' && Number.isFinite(v));
    if (typeof f.modelId === 'string') this.form.modelId = f.modelId;
    if (METHODS.some((m) => m.id === f.method)) this.form.method = f.method as TrainSettings['method'];
    if (f.preset === 'paper' || f.preset === 'released-code') this.form.preset = f.preset;
    if (f.schedule === undefined || (SCHEDULE_NAMES as readonly unknown[]).includes(f.schedule)) this.form.schedule = f.schedule as TrainSettings['schedule'];
    if (typeof f.setId === 'number' && Number.isInteger(f.setId)) this.form.setId = f.setId;
    if (typeof f.name === 'string') this.form.name = f.name.slice(0, 200);
    if (f.augment === undefined || (AUGMENT_MODES as readonly unknown[]).includes(f.augment)) this.form.augment = f.augment as TrainSettings['augment'];
    for (const key of NUMBER_FIELDS) if (key in f && isNumber(f[key])) (this.form as Record<string, unknown>)[key] = f[key] ?? undefined;
    const l = saved.loss ?? {};
    for (const key of LOSS_FIELDS) if (key in l && isNumber(l[key])) this.loss[key] = l[key] as number | null;
  }

  /** A run's steps as far as known here (null: not loaded yet). */
  curvesOf(runId: string): HistoryStep[] | null {
    if (runId === this.#activeRun) return this.#steps;
    return this.#histories[runId]?.steps ?? null;
  }

  /** Loads the recorded curves of a run that is not training (once; `force` to read them again). */
  async loadHistory(runId: string, force = false): Promise<void> {
    if (runId === this.#activeRun || this.#loadingHistory.has(runId) || (!force && this.#histories[runId])) return;
    const session = this.#session;
    await attempt(
      async () => {
        const history = await api.runs.steps({ runId });
        if (session !== this.#session) return;
        if (runId !== this.#activeRun)
          this.#histories = { ...this.#histories, [runId]: { steps: history.steps, total: history.total, stride: history.stride } };
      },
      {
        busy: (on) => {
          if (on) this.#loadingHistory.add(runId);
          else if (session === this.#session) this.#loadingHistory.delete(runId);
        }
      }
    );
  }

  /** The run training now, from step 1: its recorded steps (and the server's newer live ones), then the live ones that arrive. */
  async #syncActive(runId: string): Promise<void> {
    const session = this.#session;
    try {
      const history = await api.runs.steps({ runId });
      if (session !== this.#session || runId !== this.#activeRun) return;
      this.#flush();
      this.#steps = mergeSteps(history.steps, this.#steps);
    } catch {
      // The live steps still show; only the ones before them are missing from the chart.
    }
  }

  clearComparison(): void {
    this.#compared = [];
  }

  toggleCompare(runId: string): void {
    this.#compared = this.#compared.includes(runId) ? this.#compared.filter((id) => id !== runId) : [...this.#compared, runId];
  }

  /** Counts and time left of the run training now (`now`: the clock's time, to count down between steps). */
  progress(now?: number): Progress | null {
    const run = this.#runs.find((r) => r.id === this.#activeRun);
    const latest = this.#latest;
    if (!latest) return null;
    const trains = methodSpec(run?.method ?? 'mocoop')?.trainsPrompts ?? true;
    const epochs = trains && typeof run?.settings.epochs === 'number' ? run.settings.epochs : null;
    const batchSize = typeof run?.settings.batchSize === 'number' ? run.settings.batchSize : null;
    const set = this.#sets.find((s) => s.id === run?.settings.setId);
    const images = set ? set.perClass.filter((c) => c.classId !== null && set.baseClassIds.includes(c.classId)).reduce((sum, c) => sum + c.images, 0) : null;
    const total = trains ? plannedTotalSteps({ epochs, batchSize, images, seen: this.#steps }) : null;
    const eta = trains ? estimateEta(this.#timings, total, now) : ({ kind: 'unknown' } as const);
    return { step: latest.step, epoch: latest.epoch, epochs, total, eta, percent: total ? Math.min(100, (100 * latest.step) / total) : null };
  }

  async load(): Promise<void> {
    const session = this.#session;
    await attempt(async () => {
      const [sets, runs] = await Promise.all([api.fewshot.list(), api.runs.list()]);
      if (session !== this.#session) return;
      this.#sets = sets;
      this.#runs = runs;
      if (this.#activeRun === null) {
        // A run training when the page was (re)loaded: its curves from step 1.
        this.#activeRun = this.#runs.find((r) => r.status === 'running')?.id ?? null;
        if (this.#activeRun) void this.#syncActive(this.#activeRun);
      }
    });
  }

  async start(settings: TrainSettings): Promise<void> {
    if (this.#activeRun) {
      this.#queue = [...this.#queue, settings];
      toasts.show(`Queued: ${methodName(settings.method)} starts when the current run ends`);
      return;
    }
    const session = this.#session;
    try {
      this.#steps = [];
      this.#pending = [];
      this.#timings = [];
      this.#lastFinished = null;
      const { runId } = await api.train.start(settings);
      // Another project was entered meanwhile: the run goes on there, and is listed when it is reopened.
      if (session !== this.#session) return;
      this.#activeRun = runId;
      // Its first steps may have arrived before its id did: read them from the server.
      void this.#syncActive(runId);
      await this.load();
    } catch (error) {
      toasts.error(error);
      if (session === this.#session) void this.#next();
    }
  }

  removeQueued(index: number): void {
    this.#queue = this.#queue.filter((_, i) => i !== index);
    if (!this.#queue.length) this.#queuePaused = false;
  }

  resumeQueue(): void {
    this.#queuePaused = false;
    void this.#next();
  }

  async #next(): Promise<void> {
    const [first, ...rest] = this.#queue;
    if (!first || this.#activeRun || this.#queuePaused) return;
    this.#queue = rest;
    await this.start(first);
  }

  async remove(runId: string): Promise<void> {
    const session = this.#session;
    await attempt(
      async () => {
        const runs = await api.runs.delete({ runId });
        if (session !== this.#session) return;
        this.#runs = runs;
        const { [runId]: _, ...others } = this.#histories;
        this.#histories = others;
        this.#compared = this.#compared.filter((id) => id !== runId);
      },
      { success: `Deleted run ${runId}` }
    );
  }

  async cancel(): Promise<void> {
    if (this.#activeRun) await api.train.cancel({ runId: this.#activeRun });
  }

  async resume(runId: string): Promise<void> {
    const session = this.#session;
    await attempt(async () => {
      this.#steps = [];
      this.#pending = [];
      this.#timings = [];
      this.#lastFinished = null;
      const { [runId]: _, ...others } = this.#histories;
      this.#histories = others;
      const resumed = (await api.train.resume({ runId })).runId;
      if (session !== this.#session) return;
      this.#activeRun = resumed;
      void this.#syncActive(resumed);
      await this.load();
    });
  }

  /** Names a run (empty: no name). */
  async rename(runId: string, name: string): Promise<boolean> {
    const session = this.#session;
    const renamed = await attempt(async () => {
      const run = await api.runs.rename({ runId, name });
      if (session === this.#session) this.#replaceRun(run);
      return true;
    });
    return renamed ?? false;
  }

  /** Sets a run's note (empty: none). */
  async annotate(runId: string, note: string): Promise<boolean> {
    const session = this.#session;
    const annotated = await attempt(async () => {
      const run = await api.runs.annotate({ runId, note });
      if (session === this.#session) this.#replaceRun(run);
      return true;
    });
    return annotated ?? false;
  }

  #replaceRun(run: Run): void {
    this.#runs = this.#runs.map((r) => (r.id === run.id ? run : r));
  }
}

/** Steps in order, one per step number: the later list wins where both have a step. */
export function mergeSteps(earlier: readonly HistoryStep[], later: readonly HistoryStep[]): HistoryStep[] {
  if (!later.length) return [...earlier];
  const first = later[0]!.step;
  // The usual case: the later steps follow on.
  if (!earlier.length || earlier.at(-1)!.step < first) return [...earlier, ...later];
  const byStep = new Map<number, HistoryStep>();
  for (const s of earlier) byStep.set(s.step, s);
  for (const s of later) byStep.set(s.step, s);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

export const training = new TrainingState();
