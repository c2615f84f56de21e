/**
 * Few-shot sets, template groups, training runs and their evaluation for one open project, as one object
 * (the CLI and the compute worker hold one per project). Each method is a function of this folder:
 * few-shot-sets, settings, train-run (with tables), evaluate, class-extension, run-transfer, report-input.
 * Training runs in the calling process (the CLI is a batch tool; the app calls it from the worker).
 */
import type { ClipEngine } from '../clip/engine';
import { engineFeatures } from '../features/feature-cache';
import type { ReportInput } from '../mocoop/report';
import type { ExpertTable } from '../mocoop/inference';
import type { StepEvent } from '../mocoop/trainer';
import type { ModelInfo } from '../models/model-store';
import type { ProjectStore } from '../store/project-store';
import { type FewShotSet, TrainingStore } from '../store/training-store';
import * as extension from './class-extension';
import { evaluate } from './evaluate';
import * as sets from './few-shot-sets';
import { reportInput } from './report-input';
import { exportRun, importRun } from './run-transfer';
import { templateGroups } from './settings';
import { trainRun } from './train-run';
import type { ConditionalScorer, EvalResult, ImageEmbedder, OpenVocabularyEngine, TrainOptions } from './types';

export type { ConditionalScorer, ConfusionBlock, EvalResult, ExpertUsage, ImageEmbedder, OpenVocabularyEngine, TrainOptions } from './types';
export { TRAIN_METHODS, type TrainMethod } from '../contract/methods';
export { conditionalSpec, engineScorer, modelLogitScale } from './evaluate';
export { defaultAugmentFor, engineProvider, recordedAugment, resolveAugment } from './settings';

export class TrainingService {
  readonly training: TrainingStore;

  constructor(readonly store: ProjectStore) {
    this.training = new TrainingStore(store);
  }

  /** The project's template groups, or the built-in general groups when it has none. */
  groups(): string[][] {
    return templateGroups(this.training);
  }

  createFewShotSet(k: number, seed: number, baseNew: boolean, name?: string): FewShotSet {
    return sets.createFewShotSet(this, k, seed, baseNew, name);
  }

  /** A hand-picked set: these labeled images; their classes are base, the listed others are new (virtual). */
  createManualSet(name: string, imageIds: number[], newClassIds: number[] = []): FewShotSet {
    return sets.createManualSet(this, name, imageIds, newClassIds);
  }

  /** Edits a set's name, images or new classes; a frozen set's edit lands in a copy (see `few-shot-sets.ts: editSet`). */
  editSet(
    setId: number,
    changes: { name?: string; imageIds?: number[]; newClassIds?: number[]; classIds?: number[] }
  ): { set: FewShotSet; copiedFrom: number | null } {
    return sets.editSet(this, setId, changes);
  }

  /** The few-shot set each seed of a multi-seed run trains on (see `few-shot-sets.ts: seedSets`). */
  seedSets(setId: number | undefined, seeds: number[]): { seed: number; set: FewShotSet; created: boolean }[] {
    return sets.seedSets(this, setId, seeds);
  }

  /** The images a run on this set trains with (labeled, present, of its base classes), and the set; the last set when none is given. */
  trainingImages(setId?: number): { set: FewShotSet; rows: { id: number; hash: string; path: string; labelId: number }[] } {
    return sets.trainingImages(this, setId);
  }

  /** Labeled images per class and split: what few-shot sets can draw from. */
  classCounts(): { classId: number; name: string; train: number; test: number; val: number; missing: number }[] {
    return sets.classCounts(this);
  }

  /** Image features from the project cache, computing (and caching) the missing ones with the engine (`features/feature-cache.ts`). */
  features(engine: ImageEmbedder, model: ModelInfo, rows: { hash: string; path: string }[], view = 0): Promise<Map<string, Float32Array>> {
    return engineFeatures(this.store.features, engine, model.id, rows, view);
  }

  /** Trains (or resumes, `options.resume`) a run in this process and returns its id (see `train-run.ts: trainRun`). */
  train(
    engine: ClipEngine,
    model: ModelInfo,
    backend: string,
    options: TrainOptions,
    onStep: (event: StepEvent) => void,
    shouldStop?: () => boolean,
    onRun?: (runId: string) => void
  ): Promise<string> {
    return trainRun(this, engine, model, backend, options, onStep, shouldStop, onRun);
  }

  exportRun(runId: string, dir: string): { manifest: string; weights: string } {
    return exportRun(this, runId, dir);
  }

  /** Adds exported experts to this project as a finished run (no training needed to predict). */
  importRun(dir: string): string {
    return importRun(this, dir);
  }

  /** Why classes cannot be added to this run after training (in words), or null when they can. */
  addClassesRefusal(runId: string): string | null {
    return extension.addClassesRefusal(this, runId);
  }

  /** The run's own class names: base, then new (virtual) ones. */
  runClassNames(runId: string): string[] {
    return extension.runClassNames(this, runId);
  }

  /** Of these names, the run lacks these and no derived table holds them yet: scoring them needs the text tower once. */
  namesToEncode(runId: string, names: string[]): string[] {
    return extension.namesToEncode(this, runId, names);
  }

  /** Features [G, N, P] of these class names under a finished run, as its table would hold them (see `class-extension.ts`). */
  classFeatures(runId: string, engine: OpenVocabularyEngine, names: string[]): Promise<Float32Array> {
    return extension.classFeatures(this, runId, engine, names);
  }

  /** The run's table extended with the names it lacks, stored as a derived table (see `class-extension.ts`). */
  extendClasses(
    runId: string,
    engine: OpenVocabularyEngine | undefined,
    names: string[],
    source: string | null
  ): Promise<{ table: ExpertTable; classes: string[]; added: string[]; key: string | null }> {
    return extension.extendClasses(this, runId, engine, names, source);
  }

  /** Everything a report shows for a finished run (predictions as stored at its evaluation). */
  reportInput(runId: string, codeVersion: string): ReportInput {
    return reportInput(this, runId, codeVersion);
  }

  /**
   * Evaluates a run on this project's test split (or `split`), or on another project's images (`on`);
   * base-to-new sets report base, new and their harmonic mean H. Only the evaluation at the end of
   * training stores its predictions (`store`); every later evaluation just reports (see `evaluate.ts`).
   */
  evaluate(
    runId: string,
    engine: ImageEmbedder | null,
    model: ModelInfo | null,
    options: {
      on?: TrainingService;
      split?: 'test' | 'val';
      store?: boolean;
      /** Score exactly this project's class names (cross-dataset, or classes added after training); names the run lacks are encoded through its experts. */
      classesFrom?: TrainingService;
      /** The text tower for `classesFrom`: needed only when no derived table holds its names yet. */
      text?: OpenVocabularyEngine;
      /** CoCoOp runs: how images are scored through the text tower (default: `text`'s or `engine`'s model, when loaded here). */
      scorer?: ConditionalScorer;
    } = {}
  ): Promise<EvalResult> {
    return evaluate(this, runId, engine, model, options);
  }
}
