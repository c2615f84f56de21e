/**
 * Few-shot sets, template groups, training runs and their evaluation for one open project. Training
 * runs in the calling process (the CLI is a batch tool; the app will call it from the worker).
 */
import path from 'node:path';
import { type BatchViews, FreshViews, PoolViews, encodePoolViews } from '../clip/augment';
import type { ClipEngine } from '../clip/engine';
import { probeWebGpu } from '../clip/onnx/webgpu-probe';
import { AUGMENT_MODES, type AugmentMode, DEFAULT_POOL_VIEWS, MAX_POOL_VIEWS, defaultAugmentMode, isAugmentMode } from '../contract/augmentation';
import { SafetensorsFile } from '../clip/safetensors';
import { ensembleClassifier, fillTemplate } from '../clip/zeroshot';
import { AppError } from '../contract/errors';
import { baseNewSplit, harmonicMean, sampleFewShot } from '../mocoop/fewshot';
import { SCHEDULE_NAMES, type ScheduleName, WARMUP_LR, defaultSchedule, isScheduleName, scheduleFor } from '../contract/schedules';
import { type MatchedClass, matchRunClasses } from '../mocoop/class-match';
import { type ExpertTable, classProbabilities, predict, runLogitScale } from '../mocoop/inference';
import { fitLinearProbe } from '../mocoop/linear-probe';
import { COOP_BASE_TO_NEW_PROMPT, coopPrompt, deviations, kgcoopTemplate, recogniseDataset } from '../mocoop/baselines';
import type { ReportInput } from '../mocoop/report';
import { decodeTable, encodeTable } from '../mocoop/table-codec';
import { exportExperts, importExperts } from '../mocoop/export';
import { type CoCoOpWeights, type ConditionalSpec, conditionalScoresWith } from '../mocoop/cocoop';
import { COCOOP_PROMPT, trainCoCoOp } from '../mocoop/cocoop-trainer';
import {
  type LossOverrides,
  METHODS,
  PAPER_DEFAULTS,
  type PromptMethod,
  type StepEvent,
  type TrainSettings,
  TrainingDivergedError,
  groupsFor,
  trainPrompts
} from '../mocoop/trainer';
import { PromptLayoutError, checkExpertsTokens, classTokenIds, expertTemplate } from '../mocoop/experts';
import { type ExpertTextEngine, appendClasses, encodeThroughExperts, learnedPrompts } from '../mocoop/open-vocabulary';
import { createHash } from 'node:crypto';
import type { ModelInfo } from '../models/model-store';
import type { ProjectStore } from '../store/project-store';
import { type FewShotSet, type StoredPrediction, TrainingStore } from '../store/training-store';
import { loadTemplateLibrary } from './clip-services';

/** What feature caching needs from an encoder: the in-process engine, or the app's compute worker. */
export type ImageEmbedder = Pick<ClipEngine, 'embedImageFiles'>;

export { TRAIN_METHODS, type TrainMethod } from '../contract/methods';
import type { TrainMethod } from '../contract/methods';

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

/**
 * CoCoOp's scoring: the text tower runs on each image's own prompts, so scores of images against class
 * names come from a loaded model (in-process, or the app's compute worker). Cosine scores [N][C].
 */
export type ConditionalScorer = (weights: CoCoOpWeights, names: string[], spec: ConditionalSpec, images: Float32Array[]) => Promise<number[][]>;

/** A conditional scorer on a model loaded in this process. */
export function engineScorer(engine: Pick<ClipEngine, 'tokenizer' | 'model' | 'textGradients'>): ConditionalScorer {
  return (weights, names, spec, images) => conditionalScoresWith(engine, weights, names, spec, images);
}

/** How a CoCoOp run's class names become prompts (its recorded layout). */
export function conditionalSpec(settings: Record<string, unknown>): ConditionalSpec {
  return {
    promptTemplate: (settings.promptTemplate as string | undefined) ?? COCOOP_PROMPT,
    underscoresAsSpaces: (settings.underscoresAsSpaces as boolean | undefined) ?? true
  };
}

/** What encoding class names after training needs: the text tower with the run's learned prompts, and hard prompts for zero-shot runs. */
export type OpenVocabularyEngine = ExpertTextEngine & Pick<ClipEngine, 'embedTexts'>;

/** exp(logit_scale) of a model folder's weights, or undefined when it cannot be read. */
export function modelLogitScale(model: Pick<ModelInfo, 'dir'> | null): number | undefined {
  if (!model) return undefined;
  try {
    const st = SafetensorsFile.open(path.join(model.dir, 'model.safetensors'));
    try {
      return Math.exp(st.readFloat32('logit_scale')[0]!);
    } finally {
      st.close();
    }
  } catch {
    return undefined;
  }
}

const DEFAULT_GROUPING = 'mocoop-ImageNet';

/** The key of the derived table that holds these added class names. */
function derivedKey(added: string[]): string {
  return createHash('sha256').update(JSON.stringify(added)).digest('hex').slice(0, 16);
}

/** The tokenisation check of every expert a run would build (see `checkExpertTokens`), as a refusal in words. */
function checkPromptTokens(
  engine: Pick<ClipEngine, 'tokenizer'>,
  settings: Pick<TrainSettings, 'method' | 'underscoresAsSpaces' | 'promptTemplate'>,
  groups: string[][],
  classNames: string[]
): void {
  const tokenizer = engine.tokenizer;
  const names = settings.underscoresAsSpaces ? classNames.map((n) => n.replace(/_/g, ' ')) : classNames;
  try {
    const experts = groupsFor(settings.method, groups, settings.promptTemplate).map((g) => expertTemplate(tokenizer, g[0]!));
    checkExpertsTokens(tokenizer, experts, names, classTokenIds(tokenizer, names, false));
  } catch (error) {
    if (error instanceof PromptLayoutError) throw new AppError('invalid_input', error.message);
    throw error;
  }
}

/** Few-shot images come from the train pool: an image in a set and in the test split would be scored on what it trained on. */
function assertTrainPool(rows: { split: string; fileName: string }[]): void {
  const held = rows.filter((r) => r.split !== 'train');
  if (held.length) {
    throw new AppError(
      'invalid_input',
      `${held.length} image(s) are in the test or validation split (e.g. ${held[0]!.fileName}); a few-shot set takes train-pool images only. Remove them from the set, or move them to the train pool (T on the Images page).`
    );
  }
}

/** The ONNX Runtime provider running the engine's frozen towers ('cpu', 'cuda', …), or undefined for tfjs. */
export async function engineProvider(engine: Pick<ClipEngine, 'frozenTowers'>): Promise<string | undefined> {
  const info = await engine.frozenTowers();
  if (info.engine !== 'onnxruntime') return undefined;
  return /ONNX Runtime on (\w+)/.exec(info.detail)?.[1]?.toLowerCase();
}

/** The augmentation a run takes when none is asked for: fresh views where the image tower runs on a (hardware) GPU, else a pool. */
export async function defaultAugmentFor(engine: Pick<ClipEngine, 'frozenTowers'>): Promise<AugmentMode> {
  const provider = await engineProvider(engine);
  const webgpu = provider === 'webgpu' ? await probeWebGpu() : null;
  return defaultAugmentMode(provider, webgpu !== null && (!('hardware' in webgpu) || !webgpu.hardware));
}

/** A mode and its views per image (a pool's N; 0 for the other modes). */
export function resolveAugment(mode: AugmentMode, views?: number): { mode: AugmentMode; views: number } {
  return { mode, views: mode === 'pool' ? (views && views > 0 ? views : DEFAULT_POOL_VIEWS) : 0 };
}

/**
 * A recorded run's augmentation. Runs recorded before the modes have `augViews` only: 0 trained on
 * the plain features (off); N > 0 on the plain and N cached views, which resume as a pool of N views.
 */
export function recordedAugment(settings: Record<string, unknown>): { mode: AugmentMode; views: number } {
  const views = Number(settings.augViews ?? 0);
  if (isAugmentMode(settings.augment)) return resolveAugment(settings.augment, views);
  return views > 0 ? resolveAugment('pool', views) : { mode: 'off', views: 0 };
}

export class TrainingService {
  readonly training: TrainingStore;

  constructor(readonly store: ProjectStore) {
    this.training = new TrainingStore(store);
  }

  /** The project's template groups, or the built-in general groups when it has none. */
  groups(): string[][] {
    const own = this.training.templateGroups();
    if (own.length) return own.map((g) => g.templates);
    const builtIn = loadTemplateLibrary().groupings.find((g) => g.id === DEFAULT_GROUPING) ?? loadTemplateLibrary().groupings[0]!;
    return builtIn.groups;
  }

  /** Labeled, present images of the train pool, per class in label order. */
  private trainPool(): { id: number; classId: number; hash: string; path: string }[] {
    const rows = this.store.images(this.store.imageIds({ split: 'train' }));
    return rows.filter((r) => r.labelId !== null && !r.missing).map((r) => ({ id: r.id, classId: r.labelId!, hash: r.hash, path: r.path }));
  }

  createFewShotSet(k: number, seed: number, baseNew: boolean, name?: string): FewShotSet {
    const classes = this.store.listClasses().filter((c) => c.imageCount > 0);
    if (classes.length < 2) throw new AppError('invalid_input', 'A few-shot set needs at least two classes with labeled images.');
    const split = baseNew ? baseNewSplit(classes) : { base: classes, new: [] };
    const baseIds = new Set(split.base.map((c) => c.id));
    const pool = this.trainPool().filter((r) => baseIds.has(r.classId));
    const chosen = sampleFewShot(pool, k, seed);
    const empty = split.base.filter((c) => !chosen.some((r) => r.classId === c.id));
    if (empty.length)
      throw new AppError(
        'invalid_input',
        `No labeled train-pool images for ${empty.map((c) => `"${c.name}"`).join(', ')}. Label some or move some to the train pool.`
      );
    return this.training.createFewShotSet({
      name: name ?? this.training.freeSetName(`${k}-shot seed ${seed}${baseNew ? ' base-to-new' : ''}`, 'copy'),
      k,
      seed,
      imageIds: chosen.map((r) => r.id),
      baseClassIds: split.base.map((c) => c.id),
      newClassIds: split.new.map((c) => c.id)
    });
  }

  /** A hand-picked set: these labeled images; their classes are base, the listed others are new (virtual). */
  createManualSet(name: string, imageIds: number[], newClassIds: number[] = []): FewShotSet {
    const rows = this.store.images([...new Set(imageIds)]);
    if (rows.length !== new Set(imageIds).size) throw new AppError('not_found', 'Some picked images no longer exist; reload the grid.');
    const unlabeled = rows.filter((r) => r.labelId === null);
    if (unlabeled.length)
      throw new AppError('invalid_input', `${unlabeled.length} picked image(s) have no label (e.g. ${unlabeled[0]!.fileName}); label them or unpick them.`);
    assertTrainPool(rows);
    const base = [...new Set(rows.map((r) => r.labelId!))].sort((a, b) => a - b);
    if (base.length < 2) throw new AppError('invalid_input', 'Pick images of at least two classes.');
    const clash = newClassIds.filter((id) => base.includes(id));
    if (clash.length) throw new AppError('invalid_input', 'A class cannot be both picked (base) and new.');
    return this.training.createFewShotSet({ name, k: null, seed: null, imageIds: rows.map((r) => r.id), baseClassIds: base, newClassIds });
  }

  /**
   * Edits a set: its name, its images (hand edits), or which classes are new (virtual). Contents of
   * a frozen set (one a run used) never change: the edit lands in a copy, so every report stays
   * reproducible. A class made base gets k train-pool images sampled with the set's seed; a class
   * made new loses its images (new classes are names only).
   */
  editSet(
    setId: number,
    changes: { name?: string; imageIds?: number[]; newClassIds?: number[]; classIds?: number[] }
  ): { set: FewShotSet; copiedFrom: number | null } {
    const old = this.training.fewShotSet(setId);
    const name = changes.name?.trim() || old.name;
    if (changes.imageIds === undefined && changes.newClassIds === undefined && changes.classIds === undefined) {
      return { set: name === old.name ? old : this.training.renameFewShotSet(setId, name), copiedFrom: null };
    }
    const classById = new Map(this.store.listClasses().map((c) => [c.id, c]));
    const className = (id: number) => `"${classById.get(id)?.name ?? `#${id}`}"`;
    let imageIds = [...new Set(changes.imageIds ?? old.imageIds)];
    const rows = this.store.images(imageIds);
    if (rows.length !== imageIds.length) throw new AppError('not_found', 'Some images of the set no longer exist; reload the grid.');
    const unlabeled = rows.filter((r) => r.labelId === null);
    if (changes.imageIds && unlabeled.length) {
      throw new AppError(
        'invalid_input',
        `${unlabeled.length} picked image(s) have no label (e.g. ${unlabeled[0]!.fileName}); label them or remove them from the set.`
      );
    }
    if (changes.imageIds) assertTrainPool(rows);
    const labelOf = new Map(rows.map((r) => [r.id, r.labelId]));
    const universe = new Set(changes.classIds ?? [...old.baseClassIds, ...old.newClassIds, ...rows.flatMap((r) => (r.labelId === null ? [] : [r.labelId]))]);
    const unknown = [...(changes.newClassIds ?? []), ...(changes.classIds ?? [])].filter((id) => !classById.has(id));
    if (unknown.length) throw new AppError('not_found', `Class #${unknown[0]} does not exist; reload the page.`);
    let newIds: number[];
    // Hand-picked images make the set hand-made: it is no longer "k per class with seed s".
    const k = changes.imageIds ? null : old.k;
    const seed = changes.imageIds ? null : old.seed;
    if (changes.newClassIds !== undefined || changes.classIds !== undefined) {
      newIds = [...new Set(changes.newClassIds ?? old.newClassIds)];
      newIds.forEach((id) => universe.add(id));
      // Images of classes leaving the set or turning new, and images unlabeled since (their class was deleted), leave the set.
      imageIds = imageIds.filter((id) => {
        const label = labelOf.get(id);
        return label != null && universe.has(label) && !newIds.includes(label);
      });
      const present = new Set(imageIds.map((id) => labelOf.get(id)!));
      const needImages = [...universe].filter((id) => !newIds.includes(id) && !present.has(id));
      if (needImages.length) {
        const perClass = old.k ?? Math.max(1, ...[...present].map((c) => imageIds.filter((id) => labelOf.get(id) === c).length));
        const pool = this.trainPool().filter((r) => needImages.includes(r.classId));
        const sampled = sampleFewShot(pool, perClass, old.seed ?? 1);
        const empty = needImages.filter((c) => !sampled.some((r) => r.classId === c));
        if (empty.length)
          throw new AppError(
            'invalid_input',
            `${empty.map(className).join(', ')} has no labeled train-pool images to become a base class; label some or keep it new.`
          );
        imageIds = [...imageIds, ...sampled.map((r) => r.id)];
      }
    } else {
      // Hand-edited images: classes with picked images are base, the set's new classes stay new, and a
      // base class whose images were all removed leaves the set.
      const picked = new Set(rows.map((r) => r.labelId!));
      newIds = old.newClassIds.filter((id) => !picked.has(id));
      [...universe].filter((id) => !picked.has(id) && !newIds.includes(id)).forEach((id) => universe.delete(id));
    }
    imageIds.sort((a, b) => a - b);
    const baseIds = [...universe].filter((id) => !newIds.includes(id) && classById.has(id)).sort((a, b) => a - b);
    newIds = newIds.filter((id) => classById.has(id)).sort((a, b) => a - b);
    if (baseIds.length < 2) throw new AppError('invalid_input', 'A few-shot set needs at least two base classes (classes with training images).');
    const contents = { k, seed, imageIds, baseClassIds: baseIds, newClassIds: newIds };
    if (old.frozen) {
      const copy = this.training.createFewShotSet({ ...contents, name: this.training.freeSetName(name) });
      return { set: copy, copiedFrom: old.id };
    }
    return { set: this.training.updateFewShotSet(setId, { ...contents, name }), copiedFrom: null };
  }

  /**
   * The few-shot set each seed of a multi-seed run trains on, as Dassl's seeds do (a seed samples the
   * few-shot images and initialises training): for a sampled set, the set with the same k, protocol and
   * classes sampled with that seed (created when missing); a hand-picked set keeps its images for every seed.
   */
  seedSets(setId: number | undefined, seeds: number[]): { seed: number; set: FewShotSet; created: boolean }[] {
    const sets = this.training.fewShotSets();
    const chosen = setId !== undefined ? this.training.fewShotSet(setId) : sets.at(-1);
    if (!chosen) throw new AppError('invalid_input', 'No few-shot set yet. Create one first (mocoop fewshot <project> --k 16 --seed 1).');
    if (chosen.k === null || chosen.seed === null) return seeds.map((seed) => ({ seed, set: chosen, created: false }));
    const baseNew = chosen.newClassIds.length > 0;
    const same = (a: number[], b: number[]) => a.length === b.length && [...a].sort((x, y) => x - y).every((x, i) => x === [...b].sort((p, q) => p - q)[i]);
    return seeds.map((seed) => {
      if (seed === chosen.seed) return { seed, set: chosen, created: false };
      const sibling = this.training
        .fewShotSets()
        .find((s) => s.k === chosen.k && s.seed === seed && same(s.baseClassIds, chosen.baseClassIds) && same(s.newClassIds, chosen.newClassIds));
      if (sibling) return { seed, set: sibling, created: false };
      const created = this.createFewShotSet(chosen.k!, seed, baseNew);
      if (!same(created.baseClassIds, chosen.baseClassIds) || !same(created.newClassIds, chosen.newClassIds)) {
        this.training.deleteFewShotSet(created.id);
        throw new AppError(
          'invalid_input',
          `Seed ${seed} cannot sample a set with the classes of "${chosen.name}" (the project's classes changed since); create the sets by hand (mocoop fewshot --seed ${seed}) and train each.`
        );
      }
      return { seed, set: created, created: true };
    });
  }

  /** The images a run on this set trains with (labeled, present, of its base classes), and the set; the last set when none is given. */
  trainingImages(setId?: number): { set: FewShotSet; rows: { id: number; hash: string; path: string; labelId: number }[] } {
    const set = setId !== undefined ? this.training.fewShotSet(setId) : this.training.fewShotSets().at(-1);
    if (!set) throw new AppError('invalid_input', 'No few-shot set yet. Create one first (mocoop fewshot <project> --k 16 --seed 1).');
    const frozenLabels = set.frozen ? this.training.frozenLabels(set.id) : null;
    const rows = this.store
      .images(set.imageIds)
      .map((r) => (frozenLabels ? { ...r, labelId: frozenLabels.get(r.id) ?? null } : r))
      .filter((r) => r.labelId !== null && !r.missing && set.baseClassIds.includes(r.labelId));
    return { set, rows: rows.map((r) => ({ id: r.id, hash: r.hash, path: r.path, labelId: r.labelId! })) };
  }

  /** Labeled images per class and split: what few-shot sets can draw from. */
  classCounts(): { classId: number; name: string; train: number; test: number; val: number; missing: number }[] {
    const counts = this.store.labelCountsBySplit();
    return this.store.listClasses().map((c) => {
      const of = counts.filter((r) => r.classId === c.id);
      const sum = (split: string) => of.filter((r) => r.split === split).reduce((a, r) => a + r.present, 0);
      return { classId: c.id, name: c.name, train: sum('train'), test: sum('test'), val: sum('val'), missing: of.reduce((a, r) => a + r.missing, 0) };
    });
  }

  /** Image features from the project cache, computing (and caching) the missing ones with the engine. */
  async features(engine: ImageEmbedder, model: ModelInfo, rows: { hash: string; path: string }[], view = 0): Promise<Map<string, Float32Array>> {
    const cached = this.store.cachedFeatures(model.id, [...new Set(rows.map((r) => r.hash))], view);
    const seen = new Set(cached.keys());
    const todo = rows.filter((r) => !seen.has(r.hash) && seen.add(r.hash));
    if (todo.length) {
      await engine.embedImageFiles(
        todo.map((r) => r.path),
        {
          augment: view > 0 ? { hashes: todo.map((r) => r.hash), view } : undefined,
          onBatch: (results) => {
            const fresh = results.filter((r) => r.vector).map((r) => ({ hash: todo[r.index]!.hash, vector: r.vector! }));
            fresh.forEach((f) => cached.set(f.hash, f.vector));
            this.store.storeFeatures(model.id, fresh, view);
          }
        }
      );
    }
    return cached;
  }

  async train(
    engine: ClipEngine,
    model: ModelInfo,
    backend: string,
    options: {
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
    },
    onStep: (event: StepEvent) => void,
    shouldStop?: () => boolean,
    onRun?: (runId: string) => void
  ): Promise<string> {
    const lossNames: Record<string, string> = {
      lambda1: 'λ1, the gate loss weight (--lambda1)',
      lambda2: 'λ2, the text loss weight (--lambda2)',
      lambdaKg: 'the KgCoOp weight (--lambda-kg)',
      tauCe: 'The classification temperature (--tau-ce)',
      tauGate: 'The gate temperature (--tau-gate)',
      tauText: 'The text temperature (--tau-text)'
    };
    for (const [key, value] of Object.entries(options.loss ?? {})) {
      const temperature = key.startsWith('tau');
      if (!Number.isFinite(value) || value < 0 || (temperature && value === 0)) {
        const name = lossNames[key] ?? key;
        throw new AppError(
          'invalid_input',
          `${name[0]!.toUpperCase()}${name.slice(1)} must be ${temperature ? 'above 0 (the paper uses 0.07)' : 'at least 0'}; it is ${value}.`
        );
      }
    }
    const resumed = options.resume ? this.training.run(options.resume) : null;
    const sets = this.training.fewShotSets();
    const setId = resumed ? (resumed.setId ?? undefined) : options.setId;
    const set = setId !== undefined ? this.training.fewShotSet(setId) : sets.at(-1);
    if (!set) throw new AppError('invalid_input', 'No few-shot set yet. Create one first (mocoop fewshot <project> --k 16 --seed 1).');
    const classById = new Map(this.store.listClasses().map((c) => [c.id, c]));
    const base = set.baseClassIds.map((id) => classById.get(id)!).filter(Boolean);
    const virtual = set.newClassIds.map((id) => classById.get(id)!).filter(Boolean);
    // A set a run already used trains on the labels it was frozen with, not on later relabeling.
    const frozenLabels = set.frozen ? this.training.frozenLabels(set.id) : null;
    const rows = this.store
      .images(set.imageIds)
      .map((r) => (frozenLabels ? { ...r, labelId: frozenLabels.get(r.id) ?? null } : r))
      .filter((r) => r.labelId !== null && !r.missing && set.baseClassIds.includes(r.labelId));
    const method = (resumed?.method as TrainMethod | undefined) ?? options.method;
    // A named schedule (published settings) gives epochs, warm-up, lr, batch size and, for lasp-50, λ2;
    // flags and fields the user sets override it. None picked: the method's stated default.
    if (options.schedule !== undefined && !isScheduleName(options.schedule)) {
      throw new AppError('invalid_input', `Unknown schedule "${String(options.schedule)}"; choose one of ${SCHEDULE_NAMES.join(', ')}.`);
    }
    // The data set the project is (named, imported from its CoOp split file, or grouped with the authors'
    // template groups): it picks the published schedule and KgCoOp's hand-written prompt.
    const library = loadTemplateLibrary();
    const recognised = recogniseDataset(
      library,
      this.training.templateGroups().map((g) => g.templates),
      options.dataset,
      this.store.importSources()
    );
    const scheduleName: ScheduleName = options.schedule ?? defaultSchedule(method, recognised);
    const schedule = scheduleFor(scheduleName, set.k);
    const settings: TrainSettings = resumed
      ? {
          ...PAPER_DEFAULTS,
          ...(resumed.settings as unknown as TrainSettings),
          method: method === 'zeroshot' || method === 'linear-probe' ? 'coop' : (method as PromptMethod)
        }
      : {
          ...PAPER_DEFAULTS,
          ...(schedule.lambda2 !== undefined ? { lambda2: schedule.lambda2 } : {}),
          ...options.loss,
          method: method === 'zeroshot' || method === 'linear-probe' ? 'coop' : (method as PromptMethod),
          preset: options.preset ?? 'paper',
          epochs: options.epochs ?? schedule.epochs,
          // A rerun passes its record's warm-up (runs recorded before schedules had one warm-up epoch).
          warmupEpochs: options.warmupEpochs ?? schedule.warmupEpochs,
          warmupLr: WARMUP_LR,
          lr: options.lr ?? schedule.lr,
          topK: options.topK ?? PAPER_DEFAULTS.topK,
          batchSize: options.batchSize ?? schedule.batchSize,
          seed: options.seed ?? set.seed ?? PAPER_DEFAULTS.seed
        };
    if (options.augment !== undefined && !isAugmentMode(options.augment)) {
      throw new AppError('invalid_input', `Unknown augmentation "${String(options.augment)}"; choose one of ${AUGMENT_MODES.join(', ')}.`);
    }
    if (options.augViews !== undefined && (!Number.isInteger(options.augViews) || options.augViews < 0 || options.augViews > MAX_POOL_VIEWS)) {
      throw new AppError('invalid_input', `Views per image must be a whole number from 1 to ${MAX_POOL_VIEWS}; it is ${options.augViews}.`);
    }
    // Augmentation: the record's (a resumed run; runs recorded before modes had cached views only, or none),
    // else the one asked for, else the backend's default (fresh on a GPU, a pool on the CPU).
    const augment: { mode: AugmentMode; views: number } = resumed
      ? recordedAugment(resumed.settings)
      : method === 'zeroshot' || method === 'linear-probe'
        ? { mode: 'off', views: 0 }
        : resolveAugment(options.augment ?? (await defaultAugmentFor(engine)), options.augViews);
    // The baselines as published (mocoop/baselines): CoOp's and KgCoOp's prompt layouts, CLIP's logit
    // scale (100) for their logits, KgCoOp's hand-written prompt of the data set the project is.
    let baseline: { dataset: string | null; kgTemplateSource?: string } = { dataset: null };
    if (!resumed && method === 'cocoop') {
      // CoCoOp: CoOp's base-to-new prompt, shifted per image; its logits use CLIP's scale.
      settings.promptTemplate = COCOOP_PROMPT;
      settings.tauCe = 1 / engine.logitScale;
    }
    if (!resumed && (method === 'coop' || method === 'kgcoop')) {
      settings.promptTemplate = method === 'coop' ? coopPrompt(set.newClassIds.length > 0) : COOP_BASE_TO_NEW_PROMPT;
      if (options.loss?.tauCe === undefined) settings.tauCe = 1 / engine.logitScale;
      const dataset = recognised;
      baseline = { dataset };
      if (method === 'kgcoop') {
        const kg = kgcoopTemplate(library, dataset);
        settings.kgTemplate = kg.template;
        baseline.kgTemplateSource = kg.source;
      }
    }
    const groups = resumed ? ((resumed.settings.groups as string[][]) ?? this.groups()) : this.groups();
    const single = method === 'coop' || method === 'kgcoop' || method === 'cocoop' || method === 'zeroshot' || method === 'linear-probe';
    if (!single && (settings.topK < 1 || settings.topK > groups.length)) {
      throw new AppError(
        'invalid_input',
        `K (experts per image) must be between 1 and the number of template groups (${groups.length}); it is ${settings.topK}.`
      );
    }
    if (groups.some((g) => g.length === 0)) throw new AppError('invalid_input', 'A template group is empty; every group needs at least one template.');
    if (base.length < 2) throw new AppError('invalid_input', 'Training needs at least two classes with images in the few-shot set.');
    // Every expert's template filled with every class name must tokenise as its parts: refused before a run is recorded.
    if (method !== 'zeroshot' && method !== 'linear-probe')
      checkPromptTokens(
        engine,
        settings,
        groups,
        [...base, ...virtual].map((c) => c.name)
      );
    if (!resumed) {
      const held = rows.filter((r) => r.split !== 'train');
      if (held.length) {
        throw new AppError(
          'invalid_input',
          `${held.length} image(s) of the few-shot set "${set.name}" are now in the test or validation split (e.g. ${held[0]!.fileName}): a run would be tested on what it trained on. Edit the set on the Few-shot sets page, or move them back to the train pool.`
        );
      }
      const classIds = new Set([...set.baseClassIds, ...set.newClassIds]);
      const tests = this.store.images(this.store.imageIds({ split: 'test' })).filter((r) => r.labelId !== null && !r.missing && classIds.has(r.labelId));
      if (tests.length === 0)
        throw new AppError(
          'invalid_input',
          'No labeled test images of these classes: a run could not be evaluated. Move some labeled images to the test split first (E on the Images page).'
        );
    }
    if (rows.length === 0) throw new AppError('invalid_input', 'The few-shot set has no usable images (missing files or labels changed).');
    let runId: string;
    let checkpoint: Buffer | undefined;
    if (resumed) {
      runId = resumed.id;
      this.training.resumeRun(runId);
      checkpoint = this.training.checkpoint(runId)?.state;
    } else {
      runId = `${method}-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${Math.random().toString(36).slice(2, 6)}`;
      const record = {
        ...settings,
        method,
        // The named schedule the settings started from (zero-shot and the linear probe train no prompts).
        schedule: method === 'zeroshot' || method === 'linear-probe' ? null : scheduleName,
        // Augmentation: the mode and, for a pool, its views per image.
        augment: augment.mode,
        augViews: augment.views,
        ...(recognised ? { dataset: recognised } : {}),
        ...(baseline.kgTemplateSource ? { kgTemplateSource: baseline.kgTemplateSource } : {}),
        // What still departs from the method's paper, for the report's settings.
        deviations: deviations({
          method,
          preset: settings.preset,
          schedule: method === 'zeroshot' || method === 'linear-probe' ? null : scheduleName,
          batchSize: settings.batchSize,
          augment: augment.mode,
          augViews: augment.views,
          kgTemplateSource: baseline.kgTemplateSource,
          baseToNew: set.newClassIds.length > 0
        }),
        groups,
        setId: set.id,
        classes: base.map((c) => c.name),
        virtualClasses: virtual.map((c) => c.name),
        // Ids too: in its own project a run keeps its classes through a rename.
        classIds: base.map((c) => c.id),
        virtualClassIds: virtual.map((c) => c.id)
      };
      // Start and freeze together, then make sure the set is still what this run read: an edit that
      // slipped in between would otherwise train on one version and freeze another.
      const startedSet = this.store.transaction(() => {
        this.training.startRun({ id: runId, method, settings: record, backend, modelId: model.id, setId: set.id });
        this.training.freezeSet(set.id);
        return this.training.fewShotSet(set.id);
      });
      const labelsNow = this.training.frozenLabels(set.id);
      const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
      if (
        !set.frozen &&
        (!same(startedSet.imageIds, set.imageIds) ||
          !same(startedSet.baseClassIds, set.baseClassIds) ||
          !same(startedSet.newClassIds, set.newClassIds) ||
          rows.some((r) => labelsNow.get(r.id) !== r.labelId))
      ) {
        this.training.finishRun(runId, 'failed', null, 'The few-shot set changed while the run was starting.');
        throw new AppError('conflict', `The few-shot set "${set.name}" changed while the run was starting; start the run again.`);
      }
    }
    options = { ...options, method };
    onRun?.(runId);
    try {
      const features = await this.features(engine, model, rows);
      const usable = rows.filter((r) => features.has(r.hash));
      const classIndex = new Map(base.map((c, i) => [c.id, i]));
      let table: ExpertTable;
      if (options.method === 'zeroshot') {
        const templates = groups.flat();
        const names = [...base, ...virtual].map((c) => c.name);
        const vectors = engine.embedTexts(templates.flatMap((t) => names.map((n) => fillTemplate(t, n))));
        const weights = ensembleClassifier(templates.map((_, t) => names.map((__, a) => vectors[t * names.length + a]!)));
        const flat = new Float32Array(names.length * engine.dim);
        weights.forEach((w, a) => flat.set(w, a * engine.dim));
        table = {
          experts: 1,
          classes: names.length,
          dim: engine.dim,
          features: flat,
          W: new Float32Array(engine.dim),
          b: new Float32Array(1),
          topK: 1,
          logitScale: engine.logitScale
        };
        onStep({ event: 'step', epoch: 0, step: 0, loss: 0, l_ce: 0, l_gate: 0, l_text: 0, lr: 0, accuracy: 0, images_per_s: 0, eta_s: 0 });
      } else if (options.method === 'linear-probe') {
        // CoOp's protocol: C searched on the validation split (min(k, 4) images per class, sampled with the
        // seed), else on one held-out training image per class, else scikit-learn's default C = 1.
        const baseIds = new Set(base.map((c) => c.id));
        const valPool = this.store.images(this.store.imageIds({ split: 'val' })).filter((r) => r.labelId !== null && !r.missing && baseIds.has(r.labelId));
        const valRows = sampleFewShot(
          valPool.map((r) => ({ ...r, classId: r.labelId! })),
          Math.min(set.k ?? 4, 4),
          settings.seed
        );
        let validation: { features: Float32Array[]; labels: number[] } | undefined;
        let searchOn: { features: Float32Array[]; labels: number[] } = {
          features: usable.map((r) => features.get(r.hash)!),
          labels: usable.map((r) => classIndex.get(r.labelId!)!)
        };
        let validationText = "nothing (C = 1, scikit-learn's default: no validation images and too few training images to hold one out)";
        if (valRows.length) {
          const valFeatures = await this.features(engine, model, valRows);
          const rowsWith = valRows.filter((r) => valFeatures.has(r.hash));
          validation = { features: rowsWith.map((r) => valFeatures.get(r.hash)!), labels: rowsWith.map((r) => classIndex.get(r.labelId!)!) };
          validationText = `the validation split (${rowsWith.length} images, up to ${Math.min(set.k ?? 4, 4)} per class)`;
        } else if (base.every((c) => usable.filter((r) => r.labelId === c.id).length >= 2)) {
          const held = new Set(
            sampleFewShot(
              usable.map((r) => ({ ...r, classId: r.labelId! })),
              1,
              settings.seed
            ).map((r) => r.id)
          );
          const rest = usable.filter((r) => !held.has(r.id));
          const out = usable.filter((r) => held.has(r.id));
          searchOn = { features: rest.map((r) => features.get(r.hash)!), labels: rest.map((r) => classIndex.get(r.labelId!)!) };
          validation = { features: out.map((r) => features.get(r.hash)!), labels: out.map((r) => classIndex.get(r.labelId!)!) };
          validationText = 'one held-out training image per class (the project has no validation images of these classes)';
        }
        const chosen = validation ? fitLinearProbe(searchOn.features, searchOn.labels, base.length, { validation }).search!.C : 1;
        const probe = fitLinearProbe(
          usable.map((r) => features.get(r.hash)!),
          usable.map((r) => classIndex.get(r.labelId!)!),
          base.length,
          {
            C: chosen,
            onIteration: (i, loss) =>
              i % 25 === 0
                ? onStep({ event: 'step', epoch: 0, step: i + 1, loss, l_ce: loss, l_gate: 0, l_text: 0, lr: 0, accuracy: 0, images_per_s: 0, eta_s: 0 })
                : undefined
          }
        );
        this.training.addRunSettings(runId, {
          linearProbeC: chosen,
          linearProbeValidation: validationText,
          deviations: deviations({ method, baseToNew: set.newClassIds.length > 0, linearProbe: { validation: validationText } })
        });
        const A = base.length + virtual.length;
        table = {
          experts: 1,
          classes: A,
          dim: engine.dim,
          features: new Float32Array(A * engine.dim),
          W: new Float32Array(engine.dim),
          b: new Float32Array(1),
          topK: 1,
          linear: { weights: probe.weights, bias: probe.bias },
          logitScale: 1
        };
      } else {
        const steps: { step: number; data: Record<string, unknown> }[] = [];
        let trainRows = usable;
        let views: BatchViews | undefined;
        if (augment.mode === 'pool') {
          // N views per image, encoded once and cached in the project by (seed, view); a step samples one per image.
          const { pool } = await encodePoolViews(engine, usable, settings.seed, augment.views, {
            cached: (key, hashes) => this.store.cachedFeatures(model.id, hashes, key),
            store: (key, items) => this.store.storeFeatures(model.id, items, key),
            shouldStop
          });
          trainRows = usable.filter((r) => pool.has(r.hash));
          if (trainRows.length === 0) throw new AppError('invalid_input', 'No image of the few-shot set could be read for augmented views.');
          views = new PoolViews(
            trainRows.map((r) => pool.get(r.hash)!),
            settings.seed
          );
        } else if (augment.mode === 'fresh') {
          views = new FreshViews(engine, trainRows, settings.seed);
        }
        const trainFeatures = trainRows.map((r) => features.get(r.hash)!);
        const trainLabels = trainRows.map((r) => classIndex.get(r.labelId!)!);
        const result = await (options.method === 'cocoop' ? trainCoCoOp : trainPrompts)(
          engine,
          { classNames: base.map((c) => c.name), virtualNames: virtual.map((c) => c.name), groups, features: trainFeatures, labels: trainLabels, views },
          settings,
          {
            onStep: (e) => {
              steps.push({ step: e.step, data: { ...e } });
              this.training.heartbeat(runId);
              onStep(e);
            },
            onEpoch: (epoch, state) => {
              this.training.recordSteps(runId, steps.splice(0));
              this.training.saveCheckpoint(runId, epoch, state);
            },
            shouldStop
          },
          checkpoint
        );
        this.training.recordSteps(runId, steps);
        if (result.stopped) {
          this.training.finishRun(runId, 'cancelled', null);
          return runId;
        }
        table = result.table;
      }
      this.training.saveExpertTable(runId, encodeTable(table));
      const metrics = await this.evaluate(runId, engine, model, { store: true });
      this.training.finishRun(runId, 'done', metrics as unknown as Record<string, unknown>);
      return runId;
    } catch (error) {
      this.training.finishRun(runId, 'failed', null, (error as Error).message);
      if (error instanceof AppError) throw error;
      if (error instanceof TrainingDivergedError || error instanceof PromptLayoutError) throw new AppError('invalid_input', error.message);
      throw new AppError('internal', `Training failed: ${(error as Error).message}`);
    }
  }

  exportRun(runId: string, dir: string): { manifest: string; weights: string } {
    const run = this.training.run(runId);
    const bytes = this.training.expertTable(runId);
    if (!bytes) throw new AppError('invalid_input', `Run ${runId} has no trained experts to export (status: ${run.status}).`);
    const table = decodeTable(bytes);
    return exportExperts(dir, table, {
      format: 'mocoop-experts',
      version: 1,
      method: run.method,
      run: run.id,
      model: { id: run.modelId },
      classes: (run.settings.classes as string[]) ?? [],
      virtualClasses: (run.settings.virtualClasses as string[]) ?? [],
      experts: table.experts,
      dim: table.dim,
      topK: table.topK,
      tauGate: table.tauGate ?? 0.07,
      mixing: table.mixing ?? 'cosine',
      // Older runs have none stored: the importer then derives it from the settings, as here.
      ...(table.logitScale !== undefined ? { logitScale: table.logitScale } : {}),
      templates: (run.settings.groups as string[][]) ?? [],
      settings: run.settings
    });
  }

  /** Adds exported experts to this project as a finished run (no training needed to predict). */
  importRun(dir: string): string {
    const { table, manifest } = importExperts(dir);
    const runId = `imported-${manifest.run}`.slice(0, 90);
    if (this.training.hasRun(runId)) {
      throw new AppError(
        'invalid_input',
        `${dir}: these experts (run ${manifest.run}) are already in this project as run ${runId}. Delete that run first to import them again.`
      );
    }
    this.training.startRun({
      id: runId,
      method: manifest.method,
      settings: { ...manifest.settings, importedFrom: dir },
      backend: 'imported',
      modelId: manifest.model.id,
      setId: null
    });
    this.training.saveExpertTable(runId, encodeTable(table));
    this.training.finishRun(runId, 'done', null);
    return runId;
  }

  /** Why classes cannot be added to this run after training (in words), or null when they can. */
  addClassesRefusal(runId: string): string | null {
    const run = this.training.run(runId);
    const bytes = this.training.expertTable(runId);
    if (run.status !== 'done' || !bytes) return `Run ${runId} has not finished training (status: ${run.status}); classes can be added to a finished run only.`;
    if (run.method === 'linear-probe' || decodeTable(bytes).linear)
      return `Run ${runId} is a linear probe: it has weights only for the classes it was trained on, and no text side to name new ones.`;
    if (run.method === 'zeroshot' || decodeTable(bytes).conditional) return null;
    if (!this.training.checkpoint(runId))
      return `Run ${runId} has no learned prompts stored (${run.backend === 'imported' ? 'an imported run carries only its expert table' : 'its checkpoint is gone'}), so classes cannot be added to it. Train it in this project to add classes later.`;
    return null;
  }

  /** The run's own class names: base, then new (virtual) ones. */
  runClassNames(runId: string): string[] {
    const run = this.training.run(runId);
    return [...((run.settings.classes as string[] | undefined) ?? []), ...((run.settings.virtualClasses as string[] | undefined) ?? [])];
  }

  /** Of these names, the run lacks these and no derived table holds them yet: scoring them needs the text tower once. */
  namesToEncode(runId: string, names: string[]): string[] {
    const own = this.runClassNames(runId);
    const added = [...new Set(names.filter((n) => !own.includes(n)))];
    if (added.length === 0 || this.training.derivedTable(runId, derivedKey(added))) return [];
    // CoCoOp scores any class name through its prompts per image: nothing to encode ahead.
    const bytes = this.training.expertTable(runId);
    if (bytes && decodeTable(bytes).conditional) return [];
    return added;
  }

  /**
   * Features [G, N, P] of these class names under a finished run, as its table would hold them: through
   * each learned expert (its final context vectors, from the run's last checkpoint; text forward only),
   * or the zero-shot template ensemble. For a class the run has, this is that class's trained row.
   */
  async classFeatures(runId: string, engine: OpenVocabularyEngine, names: string[]): Promise<Float32Array> {
    const run = this.training.run(runId);
    const refusal = this.addClassesRefusal(runId);
    if (refusal) throw new AppError('invalid_input', refusal);
    const groups = (run.settings.groups as string[][] | undefined) ?? [];
    if (run.method === 'zeroshot') {
      const templates = groups.flat();
      const vectors = engine.embedTexts(templates.flatMap((t) => names.map((n) => fillTemplate(t, n))));
      const weights = ensembleClassifier(templates.map((_, t) => names.map((__, a) => vectors[t * names.length + a]!)));
      const flat = new Float32Array(names.length * engine.dim);
      weights.forEach((w, a) => flat.set(w, a * engine.dim));
      return flat;
    }
    const checkpoint = this.training.checkpoint(runId)!;
    const table = decodeTable(this.training.expertTable(runId)!);
    const method = (METHODS as readonly string[]).includes(run.method) ? (run.method as PromptMethod) : 'mocoop';
    try {
      const prompts = learnedPrompts(checkpoint.state, table.experts);
      return await encodeThroughExperts(
        engine,
        {
          groups: groupsFor(method, groups, run.settings.promptTemplate as string | undefined),
          underscoresAsSpaces: (run.settings.underscoresAsSpaces as boolean | undefined) ?? true,
          released: run.settings.preset === 'released-code'
        },
        prompts,
        names
      );
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof PromptLayoutError) throw new AppError('invalid_input', error.message);
      throw new AppError('invalid_input', `Classes cannot be added to run ${runId}: ${(error as Error).message}.`);
    }
  }

  /**
   * The run's table extended with the names it lacks (open vocabulary): its own rows unchanged, then one
   * row per added class and expert. Stored as a derived table beside the run's own (which, with its
   * metrics and predictions, never changes), keyed by the added names; computed once.
   */
  async extendClasses(
    runId: string,
    engine: OpenVocabularyEngine | undefined,
    names: string[],
    source: string | null
  ): Promise<{ table: ExpertTable; classes: string[]; added: string[]; key: string | null }> {
    const run = this.training.run(runId);
    const bytes = this.training.expertTable(runId);
    if (!bytes) throw new AppError('invalid_input', `Run ${runId} has no trained experts (status: ${run.status}).`);
    const table = decodeTable(bytes);
    const own = this.runClassNames(runId);
    const added = [...new Set(names.filter((n) => !own.includes(n)))];
    if (added.length === 0) return { table, classes: own, added, key: null };
    // CoCoOp has no class rows to store: its scores come from the names, per image.
    if (table.conditional) return { table: { ...table, classes: own.length + added.length }, classes: [...own, ...added], added, key: null };
    const key = derivedKey(added);
    const stored = this.training.derivedTable(runId, key);
    if (stored) return { table: decodeTable(stored.table), classes: stored.classes, added: stored.added, key };
    if (!engine) throw new AppError('internal', `Scoring ${added.length} class(es) run ${runId} was not trained with needs the model's text tower.`);
    const rows = await this.classFeatures(runId, engine, added);
    const extended = appendClasses(table, rows, added.length);
    const classes = [...own, ...added];
    this.training.saveDerivedTable(runId, { key, classes, added, source }, encodeTable(extended));
    return { table: extended, classes, added, key };
  }

  /** Everything a report shows for a finished run (predictions as stored at its evaluation). */
  reportInput(runId: string, codeVersion: string): ReportInput {
    const run = this.training.run(runId);
    if (!run.metrics) throw new AppError('invalid_input', `Run ${runId} has no evaluation yet (status: ${run.status}). Evaluate it first.`);
    const classes = new Map(this.store.listClasses().map((c) => [c.id, c.name]));
    const predictions = this.training.predictions(runId);
    const rows = new Map(this.store.images(predictions.map((p) => p.imageId)).map((r) => [r.id, r]));
    return {
      run,
      evaluation: run.metrics as unknown as ReportInput['evaluation'],
      steps: this.training.steps(runId) as unknown as ReportInput['steps'],
      predictions: predictions.map((p) => ({
        path: rows.get(p.imageId)?.path ?? `#${p.imageId}`,
        label: classes.get(p.labelId) ?? `#${p.labelId}`,
        prediction: classes.get(p.predictedClassId) ?? `#${p.predictedClassId}`,
        correct: p.correct,
        topExperts: p.topExperts,
        topWeights: p.topWeights
      })),
      codeVersion,
      project: this.store.file,
      comparison: this.training.runs().map((r) => ({
        id: r.id,
        method: r.method,
        status: r.status,
        accuracy: (r.metrics?.accuracy as number | undefined) ?? null,
        base_accuracy: (r.metrics?.base_accuracy as number | null | undefined) ?? null,
        new_accuracy: (r.metrics?.new_accuracy as number | null | undefined) ?? null,
        h: (r.metrics?.h as number | null | undefined) ?? null
      }))
    };
  }

  /** Test-split accuracy; base-to-new sets report base, new and their harmonic mean H. */
  /**
   * Evaluates a run on this project's test split (or `split`), or on another project's images (`on`).
   * Only the evaluation at the end of training stores its predictions (`store`), beside the metrics
   * recorded with the run, so the two never disagree; every later evaluation just reports.
   */
  async evaluate(
    runId: string,
    engine: ImageEmbedder | null,
    model: ModelInfo | null,
    {
      on,
      split = 'test',
      store = false,
      classesFrom,
      text,
      scorer
    }: {
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
    const run = this.training.run(runId);
    if (run.metrics && !engine && !on && !classesFrom && split === 'test') return run.metrics as unknown as EvalResult;
    const bytes = this.training.expertTable(runId);
    if (!bytes) throw new AppError('invalid_input', `Run ${runId} has no trained experts (status: ${run.status}).`);
    let table = decodeTable(bytes);
    // In its own project a run's classes are its class ids (renames do not matter); in another project
    // (domain shift) they are matched by name. Only classes both sides have are candidates.
    const target = on ?? this;
    const classes = target.store.listClasses();
    let baseNames = (run.settings.classes as string[] | undefined) ?? [];
    let newNames = (run.settings.virtualClasses as string[] | undefined) ?? [];
    let rowOfName: ((name: string) => number) | null = null;
    // The class name of each row of the table (the run's own, then any added after training).
    let rowNames = this.runClassNames(runId);
    let openVocabulary: EvalResult['open_vocabulary'];
    if (classesFrom) {
      // Open vocabulary: the candidates are the other project's class names, matched by name; the
      // run's classes keep their trained rows and the others are encoded through its experts.
      const names = classesFrom.store.listClasses().map((c) => c.name);
      if (names.length < 2) throw new AppError('invalid_input', `${classesFrom.store.file} has ${names.length} class(es); scoring needs at least two.`);
      const extended = await this.extendClasses(runId, text, names, classesFrom.store.file);
      table = extended.table;
      rowNames = extended.classes;
      rowOfName = (name) => extended.classes.indexOf(name);
      baseNames = names;
      newNames = [];
      openVocabulary = {
        classes_from: classesFrom.store.file,
        trained: names.filter((n) => !extended.added.includes(n)),
        added: names.filter((n) => extended.added.includes(n)),
        derived_table: extended.key
      };
    }
    const byId = !on && !classesFrom && Array.isArray(run.settings.classIds);
    const matched = matchRunClasses(
      {
        base: baseNames,
        new: newNames,
        baseIds: byId ? (run.settings.classIds as number[]) : undefined,
        newIds: byId ? ((run.settings.virtualClassIds as number[] | undefined) ?? []) : undefined
      },
      classes,
      byId
    );
    // With classes from another project, a candidate's row is its row in the extended table.
    const match = rowOfName ? { ...matched, used: matched.used.map((m) => ({ ...m, row: rowOfName!(m.runName) })) } : matched;
    if (match.used.length === 0) {
      throw new AppError('invalid_input', `${target.store.file} has none of this run's classes (${[...baseNames, ...newNames].slice(0, 5).join(', ')}…).`);
    }
    const usedIds = new Set(match.used.map((m) => m.classId));
    const unknownIds = new Set(match.unknown.map((c) => c.classId));
    const labeled = (only?: 'test' | 'val') => target.store.images(target.store.imageIds({ split: only })).filter((r) => r.labelId !== null && !r.missing);
    // Another project (domain shift) is evaluated on its test split when it has one, else on all its labeled images.
    let pool = labeled(split);
    let tests = pool.filter((r) => usedIds.has(r.labelId!));
    if (on && split === 'test' && tests.length === 0) {
      pool = labeled();
      tests = pool.filter((r) => usedIds.has(r.labelId!));
    }
    if (tests.length === 0) {
      throw new AppError(
        'invalid_input',
        split === 'val'
          ? 'No labeled validation images of these classes. Move some labeled images to the validation split (V on the Images page).'
          : 'No labeled test images to evaluate on. Move some labeled images to the test split.'
      );
    }
    // Images of classes the run does not know are left out, and counted.
    const excluded = new Map<number, number>();
    pool.forEach((r) => unknownIds.has(r.labelId!) && excluded.set(r.labelId!, (excluded.get(r.labelId!) ?? 0) + 1));
    if (!engine || !model) throw new AppError('invalid_input', 'Evaluation needs the model.');
    const scale = runLogitScale(table, run, () => ('logitScale' in engine ? (engine as { logitScale: number }).logitScale : modelLogitScale(model)));
    const features = await target.features(engine, model, tests);
    const stored: StoredPrediction[] = [];
    // CoCoOp: each image's scores come from the text tower on its own prompts, computed per side up front.
    const conditionalScoresOf = async (members: MatchedClass[]): Promise<Map<number, number[]> | undefined> => {
      if (!table.conditional || members.length === 0) return undefined;
      const loaded = text ?? ('textGradients' in engine ? (engine as unknown as OpenVocabularyEngine) : undefined);
      const score = scorer ?? (loaded ? engineScorer(loaded) : undefined);
      if (!score) throw new AppError('internal', 'A CoCoOp run is scored through the text tower: evaluating it needs the model loaded.');
      const ids = members.map((m) => m.classId);
      const images = tests.filter((r) => ids.includes(r.labelId!) && features.has(r.hash));
      const scores = await score(
        table.conditional,
        members.map((m) => rowNames[m.row]!),
        conditionalSpec(run.settings),
        images.map((r) => features.get(r.hash)!)
      );
      return new Map(images.map((r, i) => [r.id, scores[i]!]));
    };
    const evalGroup = (members: MatchedClass[], role: 'base' | 'new' | 'all', conditional?: Map<number, number[]>) => {
      const ids = members.map((m) => m.classId);
      const rowsOfTable = members.map((m) => m.row);
      const rows = tests.filter((r) => ids.includes(r.labelId!) && features.has(r.hash));
      const confusion = ids.map(() => ids.map(() => 0));
      const load = new Array(table.experts).fill(0);
      let agree = 0;
      const perClass = members.map((m) => ({ class: m.name, role, images: 0, correct: 0, accuracy: 0 }));
      rows.forEach((r) => {
        const p = predict(table, features.get(r.hash)!, rowsOfTable, conditional?.get(r.id));
        const truth = ids.indexOf(r.labelId!);
        perClass[truth]!.images++;
        if (p.predicted < 0) return;
        const probabilities = classProbabilities(p.scores, scale);
        stored.push({
          imageId: r.id,
          labelId: r.labelId!,
          predictedClassId: ids[p.predicted]!,
          correct: p.predicted === truth,
          topExperts: p.topExperts,
          topWeights: p.topWeights,
          router: p.router,
          pHard: p.pHard,
          confidence: probabilities[p.predicted]!
        });
        confusion[truth]![p.predicted]!++;
        if (p.predicted === truth) perClass[truth]!.correct++;
        load[p.topExperts[0]!]++;
        if (p.pHard && p.pHard.indexOf(Math.max(...p.pHard)) === p.topExperts[0]) agree++;
      });
      perClass.forEach((c) => (c.accuracy = c.images ? c.correct / c.images : 0));
      const correct = perClass.reduce((n, c) => n + c.correct, 0);
      return {
        accuracy: rows.length ? correct / rows.length : 0,
        images: rows.length,
        perClass,
        confusion: { classes: perClass.map((c) => c.class), counts: confusion },
        load,
        agreeCount: agree,
        agree: table.groupFeatures ? agree / Math.max(1, rows.length) : null
      };
    };
    const b2n = newNames.length > 0;
    const mainMembers = b2n ? match.used.filter((m) => m.role === 'base') : match.used;
    const main = evalGroup(mainMembers, b2n ? 'base' : 'all', await conditionalScoresOf(mainMembers));
    const newMembers = match.used.filter((m) => m.role === 'new');
    const novel = b2n ? evalGroup(newMembers, 'new', await conditionalScoresOf(newMembers)) : null;
    const images = main.images + (novel?.images ?? 0);
    // A side with no images has no accuracy (and then there is no H).
    const baseAccuracy = b2n && main.images ? main.accuracy : null;
    const newAccuracy = novel && novel.images ? novel.accuracy : null;
    const usage = (g: typeof main) => ({ load: g.load, router_agrees_with_p_hard: g.agree });
    const result: EvalResult = {
      run: runId,
      method: run.method,
      accuracy: novel ? (main.accuracy * main.images + novel.accuracy * novel.images) / Math.max(1, images) : main.accuracy,
      base_accuracy: baseAccuracy,
      new_accuracy: newAccuracy,
      h: baseAccuracy !== null && newAccuracy !== null ? harmonicMean(baseAccuracy, newAccuracy) : null,
      images,
      per_class: [...main.perClass, ...(novel?.perClass ?? [])],
      // `classes`/`counts`: the base block (base-to-new) or all classes, as before; `base` and `new`: both blocks.
      confusion: { ...main.confusion, ...(novel ? { base: main.confusion, new: novel.confusion } : {}) },
      expert_usage: {
        load: main.load.map((n, j) => n + (novel?.load[j] ?? 0)),
        // Over every evaluated image; per side under `base` and `new`.
        router_agrees_with_p_hard: table.groupFeatures ? (main.agreeCount + (novel?.agreeCount ?? 0)) / Math.max(1, images) : null,
        ...(novel ? { base: usage(main), new: usage(novel) } : {})
      },
      ...(openVocabulary ? { open_vocabulary: openVocabulary } : {}),
      class_match: {
        run: { used: match.used.map((m) => m.runName), missing: match.missing.map((m) => m.runName) },
        test_project: {
          used: match.used.map((m) => m.name),
          unknown: match.unknown.map((c) => ({ class: c.name, images: excluded.get(c.classId) ?? 0 })),
          excluded_images: [...excluded.values()].reduce((a, b) => a + b, 0)
        }
      }
    };
    if (store && !on && !classesFrom && split === 'test') this.training.savePredictions(runId, stored);
    return result;
  }
}
