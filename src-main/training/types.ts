/** The shapes training's modules share: evaluation results, what encoders they need, and the project they work on. */
import type { ClipEngine } from '../clip/engine';
import type { AugmentMode } from '../contract/augmentation';
import type { ScheduleName } from '../contract/schedules';
import type { TrainMethod } from '../contract/methods';
import type { CoCoOpWeights, ConditionalSpec } from '../mocoop/cocoop';
import type { ExpertTextEngine } from '../mocoop/open-vocabulary';
import type { LossOverrides } from '../mocoop/trainer';
import type { ModelInfo } from '../models/model-store';
import type { ProjectStore } from '../store/project-store';
import type { TrainingStore } from '../store/training-store';

/** What feature caching needs from an encoder: the in-process engine, or the app's compute worker. */
export type ImageEmbedder = Pick<ClipEngine, 'embedImageFiles'>;

/**
 * CoCoOp's scoring: the text tower runs on each image's own prompts, so scores of images against class
 * names come from a loaded model (in-process, or the app's compute worker). Cosine scores [N][C].
 */
export type ConditionalScorer = (weights: CoCoOpWeights, names: string[], spec: ConditionalSpec, images: Float32Array[]) => Promise<number[][]>;

/** What encoding class names after training needs: the text tower with the run's learned prompts, and hard prompts for zero-shot runs. */
export type OpenVocabularyEngine = ExpertTextEngine & Pick<ClipEngine, 'embedTexts'>;

/**
 * One open project as training's functions see it: its store, its training tables, and its image-feature
 * cache (`TrainingService` is one).
 */
export interface ProjectTraining {
  readonly store: ProjectStore;
  readonly training: TrainingStore;
  /** Image features from the project cache, computing (and caching) the missing ones with the engine. */
  features(engine: ImageEmbedder, model: ModelInfo, rows: { hash: string; path: string }[], view?: number): Promise<Map<string, Float32Array>>;
}

/** What a run is asked to be: `TrainingService.train`'s options. */
export interface TrainOptions {
  method: TrainMethod;
  preset?: 'paper' | 'released-code';
  schedule?: ScheduleName;
  warmupEpochs?: number;
  augment?: AugmentMode;
  augViews?: number;
  dataset?: string;
  setId?: number;
  topK?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  loss?: LossOverrides;
  resume?: string;
}

export interface ConfusionBlock {
  classes: string[];
  /** counts[true][predicted]. */
  counts: number[][];
}

export interface ExpertUsage {
  /** Images per expert (router top-1). */
  load: number[];
  router_agrees_with_p_hard: number | null;
}

export interface EvalResult {
  run: string;
  method: string;
  accuracy: number;
  base_accuracy: number | null;
  new_accuracy: number | null;
  h: number | null;
  images: number;
  per_class: { class: string; role: 'base' | 'new' | 'all'; images: number; correct: number; accuracy: number }[];
  /**
   * `classes`/`counts`: the base block of a base-to-new run, else all classes (as ever). A base-to-new
   * run also has both blocks, labelled: `base` (base images among base classes) and `new` (new images
   * among new classes).
   */
  confusion: ConfusionBlock & { base?: ConfusionBlock; new?: ConfusionBlock };
  /** Over every evaluated image; a base-to-new run also per side (`base`, `new`). */
  expert_usage: ExpertUsage & { base?: ExpertUsage; new?: ExpertUsage };
  /**
   * Which classes were evaluated, per side: the run's classes used and missing from the test project
   * (never candidates), and the test project's classes used and unknown to the run (their images left
   * out, counted). Absent from metrics stored before it was reported.
   */
  class_match?: {
    run: { used: string[]; missing: string[] };
    test_project: { used: string[]; unknown: { class: string; images: number }[]; excluded_images: number };
  };
  /**
   * Classes named by another project (or added after training): the candidates were that project's
   * class names; those the run has keep their trained rows, the others (`added`) were encoded through
   * each learned expert into the derived table `derived_table` (null when nothing was added).
   */
  open_vocabulary?: { classes_from: string; trained: string[]; added: string[]; derived_table: string | null };
}
