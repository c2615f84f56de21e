import { TRAIN_METHODS } from './methods';
import { z } from 'zod';
import { SCHEDULE_NAMES } from './schedules';
import { AUGMENT_MODES, MAX_POOL_VIEWS } from './augmentation';

export const Id = z.number().int().positive();
export const Split = z.enum(['train', 'val', 'test']);
export type Split = z.infer<typeof Split>;

export const ClassName = z.string().trim().min(1, 'a class name cannot be empty').max(200, 'a class name can have at most 200 characters');

export const ProjectSummary = z.object({
  path: z.string(),
  name: z.string(),
  schemaVersion: z.number().int(),
  imageCount: z.number().int(),
  labeledCount: z.number().int(),
  classCount: z.number().int(),
  missingCount: z.number().int(),
  splitCounts: z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int() })
});
export type ProjectSummary = z.infer<typeof ProjectSummary>;

export const RecentProject = z.object({
  path: z.string(),
  name: z.string(),
  openedAt: z.string(),
  exists: z.boolean()
});
export type RecentProject = z.infer<typeof RecentProject>;

export const ClassInfo = z.object({
  id: Id,
  name: z.string(),
  position: z.number().int(),
  imageCount: z.number().int()
});
export type ClassInfo = z.infer<typeof ClassInfo>;

export const ImageRow = z.object({
  id: Id,
  path: z.string(),
  fileName: z.string(),
  hash: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  bytes: z.number().int(),
  labelId: Id.nullable(),
  split: Split,
  missing: z.boolean(),
  source: z.string()
});
export type ImageRow = z.infer<typeof ImageRow>;

export const ImageFilter = z.object({
  classId: Id.optional(),
  unlabeled: z.boolean().optional(),
  split: Split.optional(),
  missing: z.boolean().optional(),
  /** Words that must each match the file name, one of its two innermost folders or the class name. */
  search: z.string().max(500).optional(),
  /** Images a run evaluated (its stored predictions), by predicted class, right or wrong, confidence range. */
  prediction: z
    .object({
      runId: z.string().min(1),
      predictedClassId: Id.optional(),
      correct: z.boolean().optional(),
      minConfidence: z.number().min(0).max(1).optional(),
      maxConfidence: z.number().min(0).max(1).optional()
    })
    .optional()
});
export type ImageFilter = z.infer<typeof ImageFilter>;

export const ImportSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('folder'), dir: z.string().min(1, 'choose a folder') }),
  z.object({ kind: z.literal('csv'), file: z.string().min(1, 'choose a CSV file') }),
  z.object({
    kind: z.literal('coopSplit'),
    file: z.string().min(1, 'choose a split JSON file'),
    imageRoot: z.string().min(1, 'choose the image root folder')
  }),
  z.object({ kind: z.literal('paths'), paths: z.array(z.string().min(1)).min(1, 'choose at least one file or folder') }),
  // Label Studio: a JSON export (tasks with data.image and annotations[].result[].value.choices); local-files and upload URLs are read from imageRoot (default: the JSON's folder).
  z.object({ kind: z.literal('labelStudio'), file: z.string().min(1, 'choose a Label Studio JSON export'), imageRoot: z.string().optional() })
]);
export type ImportSource = z.infer<typeof ImportSource>;

/** Split on import: a stratified random hold-out of the new images (per class; unlabeled images are one group). */
export const ImportHoldOut = z.object({
  testPercent: z.number({ error: 'the test share must be a number' }).min(0, 'the test share must be 0% or more').max(90, 'the test share can be at most 90%'),
  valPercent: z
    .number({ error: 'the validation share must be a number' })
    .min(0, 'the validation share must be 0% or more')
    .max(90, 'the validation share can be at most 90%'),
  seed: z.number({ error: 'the seed must be a number' }).int('the seed must be a whole number').min(0, 'the seed must be 0 or more')
});
export type ImportHoldOut = z.infer<typeof ImportHoldOut>;

export const SplitCounts = z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int() });
export type SplitCounts = z.infer<typeof SplitCounts>;

export const SkippedItem = z.object({ path: z.string(), reason: z.string() });
export type SkippedItem = z.infer<typeof SkippedItem>;

export const DuplicateItem = z.object({
  path: z.string(),
  duplicateOf: z.string(),
  /** The source labels the file differently from the image already in the project (whose label is kept). */
  labelDiffers: z.object({ inProject: z.string().nullable(), inSource: z.string() }).optional()
});
export type DuplicateItem = z.infer<typeof DuplicateItem>;

export const ImportSummary = z.object({
  importId: z.string(),
  cancelled: z.boolean(),
  imported: z.number().int(),
  classesCreated: z.array(z.string()),
  duplicates: z.array(DuplicateItem),
  skipped: z.array(SkippedItem),
  seconds: z.number(),
  /** The imported images per split, and per class (name null: unlabeled) in the source's order. */
  splitCounts: SplitCounts.optional(),
  perClass: z.array(SplitCounts.extend({ name: z.string().nullable() })).optional(),
  /** The hold-out applied on import, when one was asked for. */
  holdOut: ImportHoldOut.nullable().optional()
});
export type ImportSummary = z.infer<typeof ImportSummary>;

export const ImportProgress = z.object({
  importId: z.string(),
  phase: z.enum(['scanning', 'reading', 'saving']),
  done: z.number().int(),
  total: z.number().int(),
  skipped: z.number().int(),
  current: z.string().optional()
});
export type ImportProgress = z.infer<typeof ImportProgress>;

export const HistoryState = z.object({ canUndo: z.boolean(), canRedo: z.boolean() });
export type HistoryState = z.infer<typeof HistoryState>;

export const HistoryStep = HistoryState.extend({
  changedImageIds: z.array(Id),
  description: z.string()
});
export type HistoryStep = z.infer<typeof HistoryStep>;

export const ProblemItem = z.object({
  kind: z.enum(['missing', 'skipped']),
  path: z.string(),
  reason: z.string()
});

export const ProjectInfo = z.object({
  project: ProjectSummary,
  classes: z.array(ClassInfo),
  unlabeledCount: z.number().int(),
  problems: z.array(ProblemItem)
});
export type ProjectInfo = z.infer<typeof ProjectInfo>;

export const UploadedFile = z.object({
  name: z.string().min(1).max(500),
  dataBase64: z.string()
});

export const ModelInfo = z.object({
  id: z.string(),
  name: z.string(),
  dir: z.string(),
  source: z.enum(['hub', 'import']),
  repo: z.string().optional(),
  sha256: z.string(),
  bytes: z.number(),
  addedAt: z.string(),
  available: z.boolean(),
  problem: z.string().optional(),
  summary: z.string().optional()
});
export type ModelInfo = z.infer<typeof ModelInfo>;

export const BackendSummary = z.object({
  name: z.string(),
  device: z.string(),
  preference: z.string(),
  skipped: z.array(z.object({ name: z.string(), reason: z.string() })),
  /** Who runs the CLIP towers (encoding and prompt learning's text tower): ONNX Runtime's provider, or tfjs. */
  encoders: z.string().optional(),
  encoderSkipped: z.array(z.object({ name: z.string(), reason: z.string() })).optional()
});
export type BackendSummary = z.infer<typeof BackendSummary>;

export const TemplateLibrary = z.object({
  sets: z.array(
    z.object({ id: z.string(), name: z.string(), description: z.string().optional(), domain: z.string().optional(), templates: z.array(z.string()) })
  ),
  groupings: z.array(z.object({ id: z.string(), name: z.string(), domain: z.string().optional(), groups: z.array(z.array(z.string())) }))
});
export type TemplateLibrary = z.infer<typeof TemplateLibrary>;

export const DownloadProgress = z.object({
  downloadId: z.string(),
  repo: z.string(),
  file: z.string(),
  fileIndex: z.number(),
  fileCount: z.number(),
  bytesDone: z.number(),
  bytesTotal: z.number(),
  bytesPerSecond: z.number(),
  etaSeconds: z.number().nullable()
});
export type DownloadProgress = z.infer<typeof DownloadProgress>;

export const ZeroShotProgress = z.object({
  runId: z.string(),
  phase: z.enum(['features', 'text', 'scoring']),
  done: z.number().int(),
  total: z.number().int()
});
export type ZeroShotProgress = z.infer<typeof ZeroShotProgress>;

export const ZeroShotReport = z.object({
  runId: z.string(),
  model: z.object({ id: z.string(), name: z.string() }),
  backend: z.string(),
  split: z.enum(['train', 'val', 'test', 'all']),
  templates: z.array(z.string()),
  classes: z.array(z.object({ id: Id, name: z.string() })),
  images: z.number().int(),
  accuracy: z.number(),
  perClass: z.array(z.object({ classId: Id, className: z.string(), images: z.number().int(), correct: z.number().int(), accuracy: z.number() })),
  perTemplate: z.array(z.object({ template: z.string(), accuracy: z.number() })),
  predictions: z.array(z.object({ imageId: Id, labelId: Id, predictedId: Id, confidence: z.number(), correct: z.boolean() })),
  skipped: z.array(SkippedItem),
  featuresComputed: z.number().int(),
  featuresCached: z.number().int(),
  seconds: z.number()
});
export type ZeroShotReport = z.infer<typeof ZeroShotReport>;

export const TrainMethodName = z.enum(TRAIN_METHODS);

export const TrainStart = z.object({
  modelId: z.string().min(1, 'choose a model'),
  method: TrainMethodName,
  preset: z.enum(['paper', 'released-code']).optional(),
  /** A published schedule (epochs, warm-up, lr, batch size; lasp-50 also λ2); explicit fields override it. Default: lasp-25 for MoCoOp, coop for CoOp and KgCoOp. */
  schedule: z.enum(SCHEDULE_NAMES).optional(),
  /** Training augmentation: fresh views every step, a pool of augViews views per image, or off. Default: fresh on a GPU provider, pool on the CPU. */
  augment: z.enum(AUGMENT_MODES).optional(),
  /** Views per image of a pool (default 8; 0 keeps the default). */
  augViews: z.number().int().min(0).max(MAX_POOL_VIEWS).optional(),
  setId: Id.optional(),
  topK: z.number().int().min(1).max(64).optional(),
  epochs: z.number().int().min(1).max(1000).optional(),
  batchSize: z.number().int().min(1).max(4096).optional(),
  lr: z.number().positive().max(10).optional(),
  seed: z.number().int().min(0).optional(),
  /** A name for the run (shown instead of its id; can be changed later). */
  name: z.string().trim().max(200, 'a run name can be at most 200 characters').optional(),
  /** A note kept with the run. */
  note: z.string().max(5000, 'a run note can be at most 5,000 characters').optional(),
  loss: z
    .object({
      lambda1: z.number().min(0).max(1000),
      lambda2: z.number().min(0).max(1000),
      lambdaKg: z.number().min(0).max(1000),
      tauCe: z.number().positive().max(10),
      tauGate: z.number().positive().max(10),
      tauText: z.number().positive().max(10)
    })
    .partial()
    .optional()
});

/** Which augmentation a run would take and what it costs (the Train page's note). */
export const AugmentEstimateRequest = z.object({
  modelId: z.string().min(1, 'choose a model'),
  method: TrainMethodName,
  setId: Id.optional(),
  augment: z.enum(AUGMENT_MODES).optional(),
  augViews: z.number().int().min(0).max(MAX_POOL_VIEWS).optional(),
  schedule: z.enum(SCHEDULE_NAMES).optional(),
  epochs: z.number().int().min(1).max(1000).optional(),
  batchSize: z.number().int().min(1).max(4096).optional(),
  seed: z.number().int().min(0).optional(),
  /** Measure the encoding throughput now when it is not known yet (a few seconds in the compute worker; refused while it trains). */
  measure: z.boolean().optional()
});

export const AugmentEstimate = z.object({
  mode: z.enum(AUGMENT_MODES),
  /** True when the mode is the backend's default (none was asked for). */
  isDefault: z.boolean(),
  defaultMode: z.enum(AUGMENT_MODES),
  /** Where the image tower runs: an ONNX Runtime provider (cpu, cuda, webgpu, dml, coreml) or null (tfjs). */
  provider: z.string().nullable(),
  gpu: z.boolean(),
  /** One sentence: why this mode, what it does. */
  reason: z.string(),
  views: z.number().int(),
  images: z.number().int(),
  epochs: z.number().int(),
  batchSize: z.number().int(),
  stepsPerEpoch: z.number().int(),
  cached: z.number().int(),
  viewsToEncode: z.number().int(),
  encodedUpFront: z.number().int(),
  encodedPerStep: z.number().int(),
  imagesPerSecond: z.number().nullable(),
  secondsUpFront: z.number().nullable(),
  secondsPerStep: z.number().nullable(),
  secondsPerEpoch: z.number().nullable(),
  /** One line for the page: the mode and its cost in words. */
  summary: z.string()
});
export type AugmentEstimate = z.infer<typeof AugmentEstimate>;

export const StepProgress = z.object({
  runId: z.string(),
  event: z.literal('step'),
  epoch: z.number(),
  step: z.number(),
  loss: z.number(),
  l_ce: z.number(),
  l_gate: z.number(),
  l_text: z.number(),
  /** KgCoOp's knowledge term (unweighted), for KgCoOp runs only. */
  l_kg: z.number().optional(),
  lr: z.number(),
  accuracy: z.number(),
  images_per_s: z.number(),
  eta_s: z.number()
});

/** One recorded training step of a run, as its curves need it (a step event without the run id). */
export const RunStep = StepProgress.omit({ runId: true, event: true });
export type RunStep = z.infer<typeof RunStep>;

/** A run's step history: every recorded step, or every `stride`-th of a long one (`total`: all of them). */
export const RunSteps = z.object({ runId: z.string(), steps: z.array(RunStep), total: z.number().int(), stride: z.number().int().min(1) });

export const RunSummary = z.object({
  id: z.string(),
  method: z.string(),
  status: z.enum(['running', 'done', 'cancelled', 'failed']),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  error: z.string().nullable(),
  settings: z.record(z.string(), z.unknown()),
  /** The CLIP model the run was trained with (absent in answers from older versions). */
  modelId: z.string().optional(),
  /** The name and note the user gave the run (null: none; absent in answers from older versions). */
  name: z.string().nullable().optional(),
  note: z.string().nullable().optional(),
  accuracy: z.number().nullable(),
  baseAccuracy: z.number().nullable(),
  newAccuracy: z.number().nullable(),
  h: z.number().nullable()
});

export const FewShotSetInfo = z.object({
  id: Id,
  name: z.string(),
  k: z.number().int().nullable(),
  seed: z.number().int().nullable(),
  baseNew: z.boolean(),
  frozen: z.boolean(),
  imageIds: z.array(Id),
  baseClassIds: z.array(Id),
  newClassIds: z.array(Id),
  perClass: z.array(z.object({ classId: Id.nullable(), images: z.number().int() })),
  /** Moves on every edit of the set (not when a run freezes it): fewshot.update/delete refuse an older one. */
  revision: z.number().int()
});

export const ClassSplitCounts = z.object({
  classId: Id,
  name: z.string(),
  train: z.number().int(),
  test: z.number().int(),
  val: z.number().int(),
  missing: z.number().int()
});

/** The revisions of what two windows can both edit; a save naming an older one is refused (stale_revision). */
export const Revisions = z.object({
  templates: z.number().int(),
  classes: z.number().int(),
  settings: z.number().int(),
  /** Per few-shot set, keyed by its id. */
  fewshot: z.record(z.string(), z.number().int())
});
export type Revisions = z.infer<typeof Revisions>;

/** A save's optional revision: the one the window started from (absent: save regardless, as the CLI does). */
export const ExpectedRevision = z.number().int().min(0).optional();

/** The result of templates.analyze, kept in the project per model and templates. */
export const TemplateAnalysis = z.object({
  images: z.number().int(),
  groups: z.array(z.object({ accuracy: z.number(), gateShare: z.number(), templates: z.array(z.object({ template: z.string(), accuracy: z.number() })) })),
  /** When and how long it was measured (absent in answers from older versions). */
  measuredAt: z.string().optional(),
  seconds: z.number().optional(),
  modelId: z.string().optional()
});
export type TemplateAnalysis = z.infer<typeof TemplateAnalysis>;

/** Progress of templates.analyze: the phase's counts and, once the pace is known, the seconds left. */
export const TemplateAnalysisProgress = z.object({
  analysisId: z.string(),
  phase: z.enum(['images', 'templates', 'scoring']),
  done: z.number().int(),
  total: z.number().int(),
  elapsedSeconds: z.number(),
  etaSeconds: z.number().nullable()
});
export type TemplateAnalysisProgress = z.infer<typeof TemplateAnalysisProgress>;

export const TemplateGroupInput = z.object({ name: z.string().max(200), templates: z.array(z.string().max(500)).max(200) });
export const TemplateGroupInfo = TemplateGroupInput.extend({ id: Id });

const ConfusionBlock = z.object({ classes: z.array(z.string()), counts: z.array(z.array(z.number().int())) });
const ExpertUsage = z.object({ load: z.array(z.number()), router_agrees_with_p_hard: z.number().nullable() });

/**
 * The candidate classes of an evaluation or classification: `trained` — the run's own classes; `project`
 * — every class of the (evaluated) project now, those added after training encoded through the run's
 * learned experts into a derived table (open vocabulary; the run's own table and report are unchanged).
 */
export const ClassCandidates = z.enum(['trained', 'project']);
export type ClassCandidates = z.infer<typeof ClassCandidates>;

export const EvalMetrics = z.object({
  run: z.string(),
  method: z.string(),
  accuracy: z.number(),
  base_accuracy: z.number().nullable(),
  new_accuracy: z.number().nullable(),
  h: z.number().nullable(),
  images: z.number().int(),
  per_class: z.array(z.object({ class: z.string(), role: z.string(), images: z.number().int(), correct: z.number().int(), accuracy: z.number() })),
  /** `classes`/`counts`: the base block of a base-to-new run, else all classes; `base` and `new`: both blocks of a base-to-new run. */
  confusion: ConfusionBlock.extend({ base: ConfusionBlock.optional(), new: ConfusionBlock.optional() }),
  /** Over every evaluated image; per side (`base`, `new`) for a base-to-new run. */
  expert_usage: ExpertUsage.extend({ base: ExpertUsage.optional(), new: ExpertUsage.optional() }),
  /** Classes evaluated, per side: run classes used / missing from the test project; test-project classes used / unknown to the run (images left out). */
  class_match: z
    .object({
      run: z.object({ used: z.array(z.string()), missing: z.array(z.string()) }),
      test_project: z.object({
        used: z.array(z.string()),
        unknown: z.array(z.object({ class: z.string(), images: z.number().int() })),
        excluded_images: z.number().int()
      })
    })
    .optional(),
  /** Classes named by the evaluated project: `trained` kept their rows, `added` were encoded through the run's experts (derived table `derived_table`). */
  open_vocabulary: z
    .object({ classes_from: z.string(), trained: z.array(z.string()), added: z.array(z.string()), derived_table: z.string().nullable() })
    .optional()
});

export const RunDetails = z.object({
  run: RunSummary,
  metrics: EvalMetrics.nullable(),
  predictions: z.array(
    z.object({
      imageId: Id,
      labelId: z.number().int(),
      predictedClassId: z.number().int(),
      correct: z.boolean(),
      topExperts: z.array(z.number().int()),
      topWeights: z.array(z.number()),
      router: z.array(z.number()),
      pHard: z.array(z.number()).nullable(),
      confidence: z.number().optional()
    })
  )
});

/** A run's prediction for one image: stored when the run evaluated it, else computed from its cached CLIP features. */
export const ImagePrediction = z.object({
  imageId: Id,
  predictedClassId: Id.nullable(),
  predicted: z.string().nullable(),
  confidence: z.number(),
  /** Null when the image has no label to compare with. */
  correct: z.boolean().nullable(),
  topExperts: z.array(z.number().int()),
  topWeights: z.array(z.number()),
  top: z.array(z.object({ className: z.string(), probability: z.number() })),
  source: z.enum(['evaluated', 'computed'])
});
export type ImagePrediction = z.infer<typeof ImagePrediction>;

export const SplitRequest = z.object({
  testPercent: z.number({ error: 'the test share must be a number' }).min(0, 'the test share must be 0% or more').max(90, 'the test share can be at most 90%'),
  valPercent: z
    .number({ error: 'the validation share must be a number' })
    .min(0, 'the validation share must be 0% or more')
    .max(90, 'the validation share can be at most 90%'),
  seed: z.number({ error: 'the seed must be a number' }).int('the seed must be a whole number').min(0, 'the seed must be 0 or more'),
  /** Unlabeled images are split too (as one group of their own); otherwise they keep their split. */
  includeUnlabeled: z.boolean().optional(),
  /** Images of few-shot sets stay in the train pool (default true: sets take train-pool images only). */
  keepFewShotInTrain: z.boolean().optional(),
  /** Only compute the counts; change nothing. */
  preview: z.boolean().optional()
});

export const SplitResult = z.object({
  moved: z.number().int(),
  applied: z.boolean(),
  total: z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int() }),
  perClass: z.array(z.object({ classId: Id.nullable(), name: z.string(), train: z.number().int(), val: z.number().int(), test: z.number().int() })),
  kept: z.number().int(),
  history: z.object({ canUndo: z.boolean(), canRedo: z.boolean() })
});

export const ExportRequest = z.object({
  format: z.enum(['csv', 'coop', 'labelstudio']),
  includeUnlabeled: z.boolean().optional(),
  /** Also write the export to this full path on the machine running the services. */
  file: z.string().optional()
});

export const ExportResult = z.object({
  fileName: z.string(),
  mime: z.string(),
  content: z.string(),
  images: z.number().int(),
  /** Images left out (unlabeled ones in a CoOp split). */
  left: z.number().int(),
  imageRoot: z.string().nullable(),
  savedTo: z.string().nullable()
});

/** Saves a label export on the machine running the services, as one step; an existing target is replaced only with `overwrite`. */
export const ExportToRequest = z.object({
  format: z.enum(['csv', 'coop', 'labelstudio', 'imagefolder']),
  /** A full path: the file (or a folder to save into under the export's own name); for imagefolder, the folder to create. */
  target: z.string().trim().min(1, 'choose where to save the export').max(4096),
  includeUnlabeled: z.boolean().optional(),
  /** ImageFolder: copy the images (default), or link to them (symbolic or hard links). */
  link: z.enum(['copy', 'symlink', 'hardlink']).optional(),
  /** ImageFolder: train/, val/ and test/ folders, each with one folder per class. */
  bySplit: z.boolean().optional(),
  /** Replace an existing file or non-empty folder (the app asks first). */
  overwrite: z.boolean().optional()
});

export const ExportToResult = z.object({
  format: z.enum(['csv', 'coop', 'labelstudio', 'imagefolder']),
  savedTo: z.string(),
  images: z.number().int(),
  /** Images left out (unlabeled ones in a CoOp split or an ImageFolder). */
  left: z.number().int(),
  imageRoot: z.string().nullable(),
  replaced: z.boolean(),
  /** ImageFolder: files that could not be exported (missing on disk). */
  skipped: z.array(SkippedItem),
  /** ImageFolder: class names that needed another folder name. */
  renamed: z.array(z.object({ name: z.string(), folder: z.string() })),
  /** Label Studio: the labeling config (XML) its tasks need: one Choice per class of the project. */
  labelConfig: z.string().nullable().optional()
});

/* File browser (web mode's path fields) and folder download. */
export const FileFilter = z.enum(['all', 'folders', 'mocoop', 'csv', 'json', 'images']);
export type FileFilter = z.infer<typeof FileFilter>;

export const FileEntry = z.object({
  name: z.string(),
  path: z.string(),
  kind: z.enum(['folder', 'file']),
  /** Bytes (files; what a link points at); null for folders. */
  size: z.number().nullable(),
  modified: z.number().nullable(),
  /** A symbolic link (to a folder or a regular file; others are skipped). */
  link: z.boolean(),
  /** Folders: whether image files sit directly inside (null: not looked, or unreadable). */
  hasImages: z.boolean().nullable()
});
export type FileEntry = z.infer<typeof FileEntry>;

export const FileListing = z.object({
  path: z.string(),
  parent: z.string().nullable(),
  home: z.string(),
  separator: z.string(),
  crumbs: z.array(z.object({ name: z.string(), path: z.string() })),
  entries: z.array(FileEntry),
  /** Entries left out past the cap. */
  truncated: z.number().int(),
  /** Special files (FIFOs, sockets, devices) and dangling links, never listed. */
  skipped: z.number().int(),
  /** Hidden entries left out (when hidden files are not asked for). */
  hidden: z.number().int(),
  /** With `nearest`: the file the typed path named, inside the folder listed. */
  selected: z.string().nullable()
});
export type FileListing = z.infer<typeof FileListing>;

export const ZippedFolder = z.object({ fileName: z.string(), base64: z.string(), files: z.number().int(), bytes: z.number().int() });
export type ZippedFolder = z.infer<typeof ZippedFolder>;
