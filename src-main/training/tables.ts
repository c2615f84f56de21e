/**
 * Per-method builders of a run's `ExpertTable`: zero-shot (the template ensemble as one expert), the
 * linear probe (CoOp's protocol) and the prompt methods (MoCoOp and its ablations, CoOp, KgCoOp, CoCoOp:
 * trained epoch by epoch with checkpoints).
 */
import { type BatchViews, FreshViews, PoolViews, encodePoolViews } from '../clip/augment';
import type { ClipEngine } from '../clip/engine';
import { ensembleClassifier, fillTemplate } from '../clip/zeroshot';
import type { AugmentMode } from '../contract/augmentation';
import type { TrainMethod } from '../contract/methods';
import { AppError } from '../contract/errors';
import { trainCoCoOp } from '../mocoop/cocoop-trainer';
import { sampleFewShot } from '../mocoop/fewshot';
import type { ExpertTable } from '../mocoop/inference';
import { fitLinearProbe } from '../mocoop/linear-probe';
import { type StepEvent, type TrainSettings, trainPrompts } from '../mocoop/trainer';
import type { ModelInfo } from '../models/model-store';
import type { ProjectTraining } from './types';

/** A training image with its label and content hash (its features are looked up by hash). */
export interface LabeledImage {
  id: number;
  hash: string;
  path: string;
  labelId: number;
}

/**
 * The zero-shot class features [A, P] of these names: every template filled with every name, the template
 * ensemble (normalise each template's feature, average, renormalise), row a = class a.
 */
export function ensembleRows(engine: Pick<ClipEngine, 'embedTexts' | 'dim'>, templates: string[], names: string[]): Float32Array {
  const vectors = engine.embedTexts(templates.flatMap((t) => names.map((n) => fillTemplate(t, n))));
  const weights = ensembleClassifier(templates.map((_, t) => names.map((__, a) => vectors[t * names.length + a]!)));
  const flat = new Float32Array(names.length * engine.dim);
  weights.forEach((w, a) => flat.set(w, a * engine.dim));
  return flat;
}

/** Zero-shot as a run: one expert holding the ensemble of every template of every group, CLIP's logit scale. */
export function zeroShotTable(engine: Pick<ClipEngine, 'embedTexts' | 'dim' | 'logitScale'>, groups: string[][], names: string[]): ExpertTable {
  return {
    experts: 1,
    classes: names.length,
    dim: engine.dim,
    features: ensembleRows(engine, groups.flat(), names),
    W: new Float32Array(engine.dim),
    b: new Float32Array(1),
    topK: 1,
    logitScale: engine.logitScale
  };
}

export interface LinearProbeInput {
  /** The training images with features, and each label's class index (base classes). */
  rows: LabeledImage[];
  features: Map<string, Float32Array>;
  classIndex: Map<number, number>;
  baseClasses: number;
  /** New (virtual) classes: rows in the table that the probe never scores. */
  newClasses: number;
  dim: number;
  /** The set's k (null: hand-picked) and the run's seed: how validation images are sampled. */
  k: number | null;
  seed: number;
  /** Labeled, present validation images of the base classes. */
  validationPool: LabeledImage[];
  /** Features of validation images (from the project cache). */
  featuresOf: (rows: LabeledImage[]) => Promise<Map<string, Float32Array>>;
  onIteration?: (iteration: number, loss: number) => void;
}

/**
 * CoOp's linear probe: C searched on the validation split (min(k, 4) images per class, sampled with the
 * seed), else on one held-out training image per class, else scikit-learn's default C = 1; then fitted
 * on every training image. Returns the table, the chosen C and what it was searched on (in words).
 */
export async function linearProbeTable(input: LinearProbeInput): Promise<{ table: ExpertTable; C: number; validation: string }> {
  const { rows: usable, features, classIndex, baseClasses, seed } = input;
  const perClass = Math.min(input.k ?? 4, 4);
  const valRows = sampleFewShot(
    input.validationPool.map((r) => ({ ...r, classId: r.labelId })),
    perClass,
    seed
  );
  let validation: { features: Float32Array[]; labels: number[] } | undefined;
  let searchOn: { features: Float32Array[]; labels: number[] } = {
    features: usable.map((r) => features.get(r.hash)!),
    labels: usable.map((r) => classIndex.get(r.labelId)!)
  };
  let validationText = "nothing (C = 1, scikit-learn's default: no validation images and too few training images to hold one out)";
  if (valRows.length) {
    const valFeatures = await input.featuresOf(valRows);
    const rowsWith = valRows.filter((r) => valFeatures.has(r.hash));
    validation = { features: rowsWith.map((r) => valFeatures.get(r.hash)!), labels: rowsWith.map((r) => classIndex.get(r.labelId)!) };
    validationText = `the validation split (${rowsWith.length} images, up to ${perClass} per class)`;
  } else if ([...classIndex.keys()].every((id) => usable.filter((r) => r.labelId === id).length >= 2)) {
    const held = new Set(
      sampleFewShot(
        usable.map((r) => ({ ...r, classId: r.labelId })),
        1,
        seed
      ).map((r) => r.id)
    );
    const rest = usable.filter((r) => !held.has(r.id));
    const out = usable.filter((r) => held.has(r.id));
    searchOn = { features: rest.map((r) => features.get(r.hash)!), labels: rest.map((r) => classIndex.get(r.labelId)!) };
    validation = { features: out.map((r) => features.get(r.hash)!), labels: out.map((r) => classIndex.get(r.labelId)!) };
    validationText = 'one held-out training image per class (the project has no validation images of these classes)';
  }
  const chosen = validation ? fitLinearProbe(searchOn.features, searchOn.labels, baseClasses, { validation }).search!.C : 1;
  const probe = fitLinearProbe(
    usable.map((r) => features.get(r.hash)!),
    usable.map((r) => classIndex.get(r.labelId)!),
    baseClasses,
    { C: chosen, onIteration: input.onIteration }
  );
  const A = baseClasses + input.newClasses;
  const table: ExpertTable = {
    experts: 1,
    classes: A,
    dim: input.dim,
    features: new Float32Array(A * input.dim),
    W: new Float32Array(input.dim),
    b: new Float32Array(1),
    topK: 1,
    linear: { weights: probe.weights, bias: probe.bias },
    logitScale: 1
  };
  return { table, C: chosen, validation: validationText };
}

export interface PromptTrainingInput {
  runId: string;
  /** CoCoOp trains with its own trainer; the other prompt methods with `trainPrompts`. */
  method: TrainMethod;
  rows: LabeledImage[];
  features: Map<string, Float32Array>;
  classIndex: Map<number, number>;
  classNames: string[];
  virtualNames: string[];
  groups: string[][];
  settings: TrainSettings;
  augment: { mode: AugmentMode; views: number };
  /** The run's last checkpoint when it is resumed. */
  checkpoint?: Buffer;
  onStep: (event: StepEvent) => void;
  shouldStop?: () => boolean;
}

/**
 * Trains a prompt method's table (CoCoOp by its own trainer), with augmented views (a pool cached in the
 * project, or fresh ones per step); each step is recorded and heartbeats the run, each epoch's steps and
 * checkpoint are written. `stopped`: the run was asked to stop (its steps so far are recorded).
 */
export async function promptTable(
  project: Pick<ProjectTraining, 'store' | 'training'>,
  engine: ClipEngine,
  model: ModelInfo,
  input: PromptTrainingInput
): Promise<{ stopped: true } | { stopped: false; table: ExpertTable }> {
  const { store, training } = project;
  const { runId, rows: usable, features, classIndex, settings, augment, shouldStop } = input;
  const steps: { step: number; data: Record<string, unknown> }[] = [];
  let trainRows = usable;
  let views: BatchViews | undefined;
  if (augment.mode === 'pool') {
    // N views per image, encoded once and cached in the project by (seed, view); a step samples one per image.
    const { pool } = await encodePoolViews(engine, usable, settings.seed, augment.views, {
      cached: (key, hashes) => store.cachedFeatures(model.id, hashes, key),
      store: (key, items) => store.storeFeatures(model.id, items, key),
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
  const trainLabels = trainRows.map((r) => classIndex.get(r.labelId)!);
  const result = await (input.method === 'cocoop' ? trainCoCoOp : trainPrompts)(
    engine,
    { classNames: input.classNames, virtualNames: input.virtualNames, groups: input.groups, features: trainFeatures, labels: trainLabels, views },
    settings,
    {
      onStep: (e) => {
        steps.push({ step: e.step, data: { ...e } });
        training.heartbeat(runId);
        input.onStep(e);
      },
      onEpoch: (epoch, state) => {
        training.recordSteps(runId, steps.splice(0));
        training.saveCheckpoint(runId, epoch, state);
      },
      shouldStop
    },
    input.checkpoint
  );
  training.recordSteps(runId, steps);
  return result.stopped ? { stopped: true } : { stopped: false, table: result.table };
}
