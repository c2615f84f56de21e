import type { z } from 'zod';
import type { EvalMetrics, RunDetails } from '$contract/schemas';
import { attempt } from '../lib/attempt';
import { api } from '../lib/bridge';
import { base64Bytes, downloadBlob } from '../lib/download';
import { toasts } from './toasts.svelte';

export type Details = z.infer<typeof RunDetails>;
export type Metrics = z.infer<typeof EvalMetrics>;
export type Coverage = Awaited<ReturnType<typeof api.runs.classCoverage>>;
export type TestSet = 'test' | 'val' | 'other';
export interface ConfusionCell {
  block: string;
  truth: string;
  predicted: string;
}

/**
 * The Evaluate page's open run: its stored details and which of the project's classes it lacks, the
 * test set it is evaluated on (its stored test-split numbers, the validation split or another project,
 * with or without classes added after training), the clicked confusion cell and the report written.
 *
 * Every answer is checked against what is on screen when it arrives: a run opened or a test set chosen
 * while a request ran drops that request's answer (the last one asked for wins).
 */
class EvaluateState {
  #current = $state<Details | null>(null);
  #coverage = $state<Coverage | null>(null);
  #alternative = $state<{ metrics: Metrics; label: string } | null>(null);
  #evaluating = $state(false);
  #zipping = $state(false);
  #written = $state<{ html: string; json: string; csv: string } | null>(null);
  /** The test set and its options, bound to the page's fields. */
  testSet = $state<TestSet>('test');
  otherProject = $state('');
  includeAdded = $state(false);
  cell = $state<ConfusionCell | null>(null);
  reportDir = $state('');
  /** The run last asked for: an answer for any other is dropped. */
  #opening = '';
  /** Counts evaluations and test-set changes: an evaluation answered after another began (or the stored numbers were chosen again) is dropped. */
  #asked = 0;

  get current(): Details | null {
    return this.#current;
  }
  get coverage(): Coverage | null {
    return this.#coverage;
  }
  /** The run evaluated on another test set than its stored one, or null for the stored test-split numbers. */
  get alternative(): { metrics: Metrics; label: string } | null {
    return this.#alternative;
  }
  /** The numbers shown: the alternative evaluation's, else the stored ones. */
  get metrics(): Metrics | null {
    return this.#alternative?.metrics ?? this.#current?.metrics ?? null;
  }
  get evaluating(): boolean {
    return this.#evaluating;
  }
  get zipping(): boolean {
    return this.#zipping;
  }
  get written(): { html: string; json: string; csv: string } | null {
    return this.#written;
  }
  /** The stored test-split numbers are what the test-set fields ask for (nothing to evaluate). */
  get storedNumbers(): boolean {
    return this.testSet === 'test' && !this.includeAdded;
  }

  /** Opens a finished run (its details and class coverage); an earlier open still loading is dropped. */
  async open(runId: string): Promise<void> {
    this.#opening = runId;
    try {
      const [details, coverage] = await Promise.all([api.runs.details({ runId }), api.runs.classCoverage({ runId }).catch(() => null)]);
      if (this.#opening !== runId) return;
      this.#current = details;
      this.#coverage = coverage;
      this.#asked++;
      this.#alternative = null;
      this.#written = null;
      this.includeAdded = false;
      this.cell = null;
      this.testSet = 'test';
    } catch (error) {
      if (this.#opening === runId) toasts.error(error);
    }
  }

  /** The test-set fields changed: back on the stored numbers, the alternative (and any evaluation running) is dropped. */
  testSetChanged(): void {
    if (!this.storedNumbers) return;
    this.#asked++;
    this.#alternative = null;
    this.#evaluating = false;
  }

  /** Evaluates the open run on the chosen test set (nothing to do for the stored test-split numbers). */
  async evaluate(): Promise<void> {
    const current = this.#current;
    if (!current) return;
    if (this.storedNumbers) return this.testSetChanged();
    const runId = current.run.id;
    const asked = ++this.#asked;
    const { testSet, otherProject, includeAdded } = this;
    const where = testSet === 'val' ? 'the validation split' : testSet === 'test' ? 'the test split' : (otherProject.split(/[\\/]/).pop() ?? otherProject);
    const label = includeAdded ? `${where}, among all ${testSet === 'other' ? 'its' : "this project's"} classes` : where;
    const request = testSet === 'val' ? { split: 'val' as const } : testSet === 'other' ? { otherProject } : {};
    this.#evaluating = true;
    try {
      const metrics = await api.runs.evaluate({ runId, ...request, ...(includeAdded ? { classes: 'project' as const } : {}) });
      if (asked !== this.#asked || this.#current?.run.id !== runId) return;
      this.#alternative = { metrics, label };
      this.cell = null;
    } catch (error) {
      if (asked !== this.#asked || this.#current?.run.id !== runId) return;
      this.#alternative = null;
      toasts.error(error);
    } finally {
      if (asked === this.#asked) this.#evaluating = false;
    }
  }

  /** The open run's report folder: one folder per run inside the chosen one; null (with a message) when none is chosen. */
  #reportFolder(runId: string): string | null {
    const dir = this.reportDir.trim().replace(/[\\/]+$/, '');
    if (!dir) {
      toasts.show('Choose a folder for the report first.', 'error');
      return null;
    }
    return `${dir}/${runId}`;
  }

  /** Writes the open run's report (report.html, metrics.json, predictions.csv) into its folder. */
  async saveReport(): Promise<void> {
    const runId = this.#current?.run.id;
    const folder = runId && this.#reportFolder(runId);
    if (!runId || !folder) return;
    await attempt(async () => {
      const written = await api.runs.report({ runId, dir: folder });
      if (this.#current?.run.id !== runId) return;
      this.#written = written;
      toasts.show('Report saved');
    });
  }

  /** Writes the report on the server (as saveReport does) and downloads its folder as one zip to this browser. */
  async downloadReport(): Promise<void> {
    const runId = this.#current?.run.id;
    const folder = runId && this.#reportFolder(runId);
    if (!runId || !folder) return;
    await attempt(
      async () => {
        const written = await api.runs.report({ runId, dir: folder });
        if (this.#current?.run.id === runId) this.#written = written;
        const zip = await api.files.zip({ path: folder });
        downloadBlob(`report-${runId}.zip`, new Blob([base64Bytes(zip.base64)], { type: 'application/zip' }));
        return zip;
      },
      { busy: (on) => (this.#zipping = on), success: (zip) => `Downloaded report-${runId}.zip (${zip.files} files)` }
    );
  }

  /** Forgets the open run and every answer still on its way (a project closed or another opened). */
  reset(): void {
    this.#opening = '';
    this.#asked++;
    this.#current = null;
    this.#coverage = null;
    this.#alternative = null;
    this.#evaluating = false;
    this.#zipping = false;
    this.#written = null;
    this.testSet = 'test';
    this.otherProject = '';
    this.includeAdded = false;
    this.cell = null;
    this.reportDir = '';
  }
}

export const evaluation = new EvaluateState();
