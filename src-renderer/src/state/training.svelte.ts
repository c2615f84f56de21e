import type { z } from 'zod';
import type { FewShotSetInfo, RunSummary, StepProgress, TrainStart } from '$contract/schemas';
import { api, bridge } from '../lib/bridge';
import { methodName } from '../lib/methods';
import { appState } from './app.svelte';
import { toasts } from './toasts.svelte';

export type TrainSettings = z.input<typeof TrainStart>;
export type Step = z.infer<typeof StepProgress>;

/** The Train page: the project's few-shot sets, the run in progress with its curves, the queue and past runs. */
class TrainingState {
  sets = $state<z.infer<typeof FewShotSetInfo>[]>([]);
  runs = $state<z.infer<typeof RunSummary>[]>([]);
  activeRun = $state<string | null>(null);
  steps = $state.raw<Step[]>([]);
  queue = $state<TrainSettings[]>([]);
  queuePaused = $state(false);
  lastFinished = $state<{ runId: string; status: string; error?: string } | null>(null);
  /**
   * The Train page's settings form (kept while the app runs); empty numbers keep the defaults, which
   * come from the schedule (none picked: lasp-25 for MoCoOp, coop for CoOp and KgCoOp).
   */
  form = $state<TrainSettings>({ modelId: '', method: 'mocoop', preset: 'paper', schedule: undefined, topK: 2, epochs: undefined, batchSize: undefined, lr: undefined, seed: 1, augViews: 0 });
  loss = $state<Record<'lambda1' | 'lambda2' | 'lambdaKg' | 'tauCe' | 'tauGate' | 'tauText', number | null | undefined>>({
    lambda1: undefined,
    lambda2: undefined,
    lambdaKg: undefined,
    tauCe: undefined,
    tauGate: undefined,
    tauText: undefined
  });
  private listeners: ((step: Step) => void)[] = [];

  constructor() {
    bridge.on('train.progress', (step) => {
      if (step.runId !== this.activeRun) return;
      this.steps = [...this.steps, step];
      this.listeners.forEach((l) => l(step));
    });
    bridge.on('train.finished', (event) => {
      if (event.runId !== this.activeRun) return;
      this.activeRun = null;
      this.lastFinished = event;
      // A cancel means "stop": the queue waits until the user starts it again. A run interrupted by
      // the compute worker's death is not the user's stop: it waits for Resume, and the queue goes on.
      if (event.status === 'cancelled' && !event.interrupted && this.queue.length) this.queuePaused = true;
      if (event.status === 'failed') toasts.show(`Training failed: ${event.error ?? 'unknown error'}`, 'error');
      else if (event.interrupted) toasts.show(`Run ${event.runId} was interrupted: the compute worker stopped. Resume it to continue from its last checkpoint.`, 'error');
      else toasts.show(`Run ${event.runId} ${event.status === 'done' ? 'finished' : 'stopped'}${this.queuePaused ? `; ${this.queue.length} queued run(s) wait until you start the queue` : ''}`);
      void this.load().then(() => this.next());
      void appState.refresh();
    });
  }

  private projectPath: string | null = null;

  /**
   * Runs, the queue and the form belong to one project: opening another drops what was shown and
   * queued for the previous one (its running run, if any, goes on and is listed when it is reopened).
   */
  enterProject(path: string): void {
    if (this.projectPath === path) return;
    if (this.projectPath !== null && this.queue.length) toasts.show(`${this.queue.length} queued run(s) of the previous project were dropped.`);
    this.projectPath = path;
    this.queue = [];
    this.queuePaused = false;
    this.activeRun = null;
    this.steps = [];
    this.lastFinished = null;
    this.sets = [];
    this.runs = [];
    this.form.setId = undefined;
  }

  onStep(listener: (step: Step) => void): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }

  latest = $derived(this.steps.at(-1) ?? null);

  async load(): Promise<void> {
    try {
      [this.sets, this.runs] = await Promise.all([api.fewshot.list(), api.runs.list()]);
      this.activeRun ??= this.runs.find((r) => r.status === 'running')?.id ?? null;
    } catch (error) {
      toasts.error(error);
    }
  }

  async start(settings: TrainSettings): Promise<void> {
    if (this.activeRun) {
      this.queue = [...this.queue, settings];
      toasts.show(`Queued: ${methodName(settings.method)} starts when the current run ends`);
      return;
    }
    try {
      this.steps = [];
      this.lastFinished = null;
      const { runId } = await api.train.start(settings);
      this.activeRun = runId;
      await this.load();
    } catch (error) {
      toasts.error(error);
      void this.next();
    }
  }

  removeQueued(index: number): void {
    this.queue = this.queue.filter((_, i) => i !== index);
    if (!this.queue.length) this.queuePaused = false;
  }

  resumeQueue(): void {
    this.queuePaused = false;
    void this.next();
  }

  private async next(): Promise<void> {
    const [first, ...rest] = this.queue;
    if (!first || this.activeRun || this.queuePaused) return;
    this.queue = rest;
    await this.start(first);
  }

  async remove(runId: string): Promise<void> {
    try {
      this.runs = await api.runs.delete({ runId });
      toasts.show(`Deleted run ${runId}`);
    } catch (error) {
      toasts.error(error);
    }
  }

  async cancel(): Promise<void> {
    if (this.activeRun) await api.train.cancel({ runId: this.activeRun });
  }

  async resume(runId: string): Promise<void> {
    try {
      this.steps = [];
      this.lastFinished = null;
      this.activeRun = (await api.train.resume({ runId })).runId;
      await this.load();
    } catch (error) {
      toasts.error(error);
    }
  }
}

export const training = new TrainingState();
