/**
 * Evaluating a run: on its project's test (or validation) split, on another project's images (domain
 * shift, classes matched by name), or among another project's class names (open vocabulary). The scoring
 * itself is a pure function of the table, the images' features and the matched classes (`scoreImages`);
 * `evaluate` gathers those inputs from the projects.
 */
import path from 'node:path';
import type { ClipEngine } from '../clip/engine';
import { SafetensorsFile } from '../clip/safetensors';
import { AppError } from '../contract/errors';
import { type ConditionalSpec, conditionalScoresWith } from '../mocoop/cocoop';
import { COCOOP_PROMPT } from '../mocoop/cocoop-trainer';
import { type ClassMatch, type MatchedClass, matchRunClasses } from '../mocoop/class-match';
import { harmonicMean } from '../mocoop/fewshot';
import { type ExpertTable, classProbabilities, predict, runLogitScale } from '../mocoop/inference';
import { decodeTable } from '../mocoop/table-codec';
import type { ModelInfo } from '../models/model-store';
import type { StoredPrediction } from '../store/training-store';
import { extendClasses, runClassNames } from './class-extension';
import type { ConditionalScorer, EvalResult, ExpertUsage, ImageEmbedder, OpenVocabularyEngine, ProjectTraining } from './types';

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

/** One evaluated image: its id, its class in the test project, its image feature. */
export interface ScoredImage {
  id: number;
  labelId: number;
  features: Float32Array;
}

export interface ScoringInput {
  table: ExpertTable;
  /** The images to score (those with a feature); an image of a class not in `classes` is not scored. */
  images: ScoredImage[];
  /** The run's classes the test project has (the candidates), in the run's order: table row, role, test-project class. */
  classes: MatchedClass[];
  /**
   * Base-to-new: base images are scored among the base classes only and new images among the new classes
   * only; else every image among every class (role `all`).
   */
  baseToNew: boolean;
  /** CoCoOp: each image's scores against the classes of its side (by image id), from the text tower. */
  conditional?: ReadonlyMap<number, readonly number[]>;
  /** The run's logit scale: a prediction's confidence is softmax(scale · scores) of the predicted class. */
  scale: number;
}

/** The scored fields of an `EvalResult`, and the per-image predictions (as stored with the run). */
export type Scoring = Pick<EvalResult, 'accuracy' | 'base_accuracy' | 'new_accuracy' | 'h' | 'images' | 'per_class' | 'confusion' | 'expert_usage'> & {
  predictions: StoredPrediction[];
};

interface SideScore {
  accuracy: number;
  images: number;
  perClass: EvalResult['per_class'];
  confusion: { classes: string[]; counts: number[][] };
  load: number[];
  agreeCount: number;
  agree: number | null;
}

/** One side's images among that side's classes (`role` labels its per-class rows); predictions go to `out`. */
function scoreSide(input: ScoringInput, members: MatchedClass[], role: 'base' | 'new' | 'all', out: StoredPrediction[]): SideScore {
  const { table, conditional, scale } = input;
  const ids = members.map((m) => m.classId);
  const rowsOfTable = members.map((m) => m.row);
  const rows = input.images.filter((r) => ids.includes(r.labelId));
  const confusion = ids.map(() => ids.map(() => 0));
  const load = new Array<number>(table.experts).fill(0);
  let agree = 0;
  const perClass = members.map((m) => ({ class: m.name, role, images: 0, correct: 0, accuracy: 0 }));
  rows.forEach((r) => {
    const p = predict(table, r.features, rowsOfTable, conditional?.get(r.id));
    const truth = ids.indexOf(r.labelId);
    perClass[truth]!.images++;
    if (p.predicted < 0) return;
    const probabilities = classProbabilities(p.scores, scale);
    out.push({
      imageId: r.id,
      labelId: r.labelId,
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
    load[p.topExperts[0]!]!++;
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
}

/**
 * Scores the images through the table: accuracy (per side and H for base-to-new), per-class counts,
 * confusion blocks, expert usage (router top-1 load, agreement with the hard-prompt gate) and the
 * predictions. Pure: the same inputs give the same numbers.
 */
export function scoreImages(input: ScoringInput): Scoring {
  const { table, classes, baseToNew: b2n } = input;
  const predictions: StoredPrediction[] = [];
  const main = scoreSide(input, b2n ? classes.filter((m) => m.role === 'base') : classes, b2n ? 'base' : 'all', predictions);
  const novel = b2n
    ? scoreSide(
        input,
        classes.filter((m) => m.role === 'new'),
        'new',
        predictions
      )
    : null;
  const images = main.images + (novel?.images ?? 0);
  // A side with no images has no accuracy (and then there is no H).
  const baseAccuracy = b2n && main.images ? main.accuracy : null;
  const newAccuracy = novel && novel.images ? novel.accuracy : null;
  const usage = (g: SideScore): ExpertUsage => ({ load: g.load, router_agrees_with_p_hard: g.agree });
  return {
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
    predictions
  };
}

/**
 * Which classes were evaluated, per side (`EvalResult.class_match`): the run's used and missing classes,
 * the test project's used and unknown ones, with the images of unknown classes in `pool` (their labels)
 * counted as left out.
 */
export function classMatchSummary(match: ClassMatch, pool: readonly number[]): NonNullable<EvalResult['class_match']> {
  const unknownIds = new Set(match.unknown.map((c) => c.classId));
  const excluded = new Map<number, number>();
  pool.forEach((label) => unknownIds.has(label) && excluded.set(label, (excluded.get(label) ?? 0) + 1));
  return {
    run: { used: match.used.map((m) => m.runName), missing: match.missing.map((m) => m.runName) },
    test_project: {
      used: match.used.map((m) => m.name),
      unknown: match.unknown.map((c) => ({ class: c.name, images: excluded.get(c.classId) ?? 0 })),
      excluded_images: [...excluded.values()].reduce((a, b) => a + b, 0)
    }
  };
}

export interface EvaluateOptions {
  /** Another project to evaluate on (domain shift): its classes are matched by name. */
  on?: ProjectTraining;
  split?: 'test' | 'val';
  /** Store the predictions with the run (the evaluation at the end of training only). */
  store?: boolean;
  /** Score exactly this project's class names (cross-dataset, or classes added after training); names the run lacks are encoded through its experts. */
  classesFrom?: Pick<ProjectTraining, 'store'>;
  /** The text tower for `classesFrom`: needed only when no derived table holds its names yet. */
  text?: OpenVocabularyEngine;
  /** CoCoOp runs: how images are scored through the text tower (default: `text`'s or `engine`'s model, when loaded here). */
  scorer?: ConditionalScorer;
}

/**
 * Evaluates a run on this project's test split (or `split`), or on another project's images (`on`).
 * Only the evaluation at the end of training stores its predictions (`store`), beside the metrics
 * recorded with the run, so the two never disagree; every later evaluation just reports.
 */
export async function evaluate(
  project: ProjectTraining,
  runId: string,
  engine: ImageEmbedder | null,
  model: ModelInfo | null,
  { on, split = 'test', store = false, classesFrom, text, scorer }: EvaluateOptions = {}
): Promise<EvalResult> {
  const run = project.training.run(runId);
  if (run.metrics && !engine && !on && !classesFrom && split === 'test') return run.metrics as unknown as EvalResult;
  const bytes = project.training.expertTable(runId);
  if (!bytes) throw new AppError('invalid_input', `Run ${runId} has no trained experts (status: ${run.status}).`);
  let table = decodeTable(bytes);
  // In its own project a run's classes are its class ids (renames do not matter); in another project
  // (domain shift) they are matched by name. Only classes both sides have are candidates.
  const target = on ?? project;
  const classes = target.store.listClasses();
  let baseNames = (run.settings.classes as string[] | undefined) ?? [];
  let newNames = (run.settings.virtualClasses as string[] | undefined) ?? [];
  let rowOfName: ((name: string) => number) | null = null;
  // The class name of each row of the table (the run's own, then any added after training).
  let rowNames = runClassNames(project, runId);
  let openVocabulary: EvalResult['open_vocabulary'];
  if (classesFrom) {
    // Open vocabulary: the candidates are the other project's class names, matched by name; the
    // run's classes keep their trained rows and the others are encoded through its experts.
    const names = classesFrom.store.listClasses().map((c) => c.name);
    if (names.length < 2) throw new AppError('invalid_input', `${classesFrom.store.file} has ${names.length} class(es); scoring needs at least two.`);
    const extended = await extendClasses(project, runId, text, names, classesFrom.store.file);
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
  if (!engine || !model) throw new AppError('invalid_input', 'Evaluation needs the model.');
  const scale = runLogitScale(table, run, () => ('logitScale' in engine ? (engine as { logitScale: number }).logitScale : modelLogitScale(model)));
  const features = await target.features(engine, model, tests);
  // Images that could not be read have no feature and are not scored.
  const images = tests.filter((r) => features.has(r.hash)).map((r) => ({ id: r.id, labelId: r.labelId!, features: features.get(r.hash)! }));
  // CoCoOp: each image's scores come from the text tower on its own prompts, computed per side up front.
  const conditionalScoresOf = async (members: MatchedClass[]): Promise<[number, number[]][]> => {
    if (!table.conditional || members.length === 0) return [];
    const loaded = text ?? ('textGradients' in engine ? (engine as unknown as OpenVocabularyEngine) : undefined);
    const score = scorer ?? (loaded ? engineScorer(loaded) : undefined);
    if (!score) throw new AppError('internal', 'A CoCoOp run is scored through the text tower: evaluating it needs the model loaded.');
    const ids = members.map((m) => m.classId);
    const side = images.filter((r) => ids.includes(r.labelId));
    const scores = await score(
      table.conditional,
      members.map((m) => rowNames[m.row]!),
      conditionalSpec(run.settings),
      side.map((r) => r.features)
    );
    return side.map((r, i) => [r.id, scores[i]!]);
  };
  const b2n = newNames.length > 0;
  const conditional = table.conditional
    ? new Map([
        ...(await conditionalScoresOf(b2n ? match.used.filter((m) => m.role === 'base') : match.used)),
        ...(b2n ? await conditionalScoresOf(match.used.filter((m) => m.role === 'new')) : [])
      ])
    : undefined;
  const { predictions, ...scored } = scoreImages({ table, images, classes: match.used, baseToNew: b2n, conditional, scale });
  const result: EvalResult = {
    run: runId,
    method: run.method,
    ...scored,
    ...(openVocabulary ? { open_vocabulary: openVocabulary } : {}),
    // Images of classes the run does not know are left out, and counted.
    class_match: classMatchSummary(
      match,
      pool.map((r) => r.labelId!)
    )
  };
  if (store && !on && !classesFrom && split === 'test') project.training.savePredictions(runId, predictions);
  return result;
}
