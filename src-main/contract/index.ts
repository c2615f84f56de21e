/**
 * The one contract between the renderer and the services. Every request, response and event is named
 * here once; both transports (Electron IPC and web mode) and the typed client are generic over it.
 */
import { z } from 'zod';
import {
  ClassCandidates,
  BackendSummary,
  ClassInfo,
  DownloadProgress,
  ClassName,
  HistoryState,
  HistoryStep,
  Id,
  ImageFilter,
  ImageRow,
  ImportProgress,
  ImportSource,
  ImportSummary,
  ImportHoldOut,
  ModelInfo,
  ProjectInfo,
  ProjectSummary,
  RecentProject,
  Split,
  TemplateLibrary,
  UploadedFile,
  ZeroShotProgress,
  ZeroShotReport,
  Revisions, // several windows
  ExpectedRevision, // several windows
  TemplateAnalysis, // several windows
  TemplateAnalysisProgress, // several windows
  TrainStart,
  AugmentEstimate, // augmentation estimate
  AugmentEstimateRequest, // augmentation estimate
  StepProgress,
  RunSummary,
  ClassSplitCounts,
  FewShotSetInfo,
  TemplateGroupInput,
  TemplateGroupInfo,
  RunDetails,
  RunSteps, // run history
  EvalMetrics,
  ImagePrediction,
  SplitRequest,
  SplitResult,
  ExportRequest,
  ExportResult,
  ExportToRequest,
  ExportToResult,
  FileFilter, // file browser
  FileListing, // file browser
  ZippedFolder // file browser
} from './schemas';

export * from './schemas';

const none = z.undefined();
const request = <I extends z.ZodType, O extends z.ZodType>(input: I, output: O) => ({ input, output });

export const requests = {
  'app.info': request(none, z.object({ version: z.string(), mode: z.enum(['electron', 'web']), platform: z.string(), defaultProjectDir: z.string() })),
  'app.pickPath': request(z.object({ kind: z.enum(['folder', 'file', 'save']), title: z.string().optional() }), z.object({ path: z.string().nullable() })),

  // createFolder: the project's folder may be created (the app asks first); without it a missing folder is refused in words.
  'project.create': request(
    z.object({ path: z.string().min(1, 'choose where to save the project'), name: z.string().optional(), createFolder: z.boolean().optional() }),
    ProjectSummary
  ),
  /** Where project.create would write: the file, its folder, whether they exist, and whether creating the folder needs a yes first. */
  'project.checkLocation': request(
    z.object({ path: z.string().min(1, 'choose where to save the project') }),
    z.object({ file: z.string(), folder: z.string(), folderExists: z.boolean(), fileExists: z.boolean(), confirmFolder: z.boolean() })
  ),
  'project.open': request(z.object({ path: z.string().min(1, 'choose a project file') }), ProjectSummary),
  'project.current': request(none, ProjectSummary.nullable()),
  'project.info': request(none, ProjectInfo),
  'project.rename': request(
    z.object({ name: z.string().trim().min(1, 'a project name cannot be empty').max(200), expectedRevision: ExpectedRevision }),
    ProjectSummary
  ),
  /** Read before the data it guards: a save naming an older revision is refused (stale_revision), never silently applied. */
  'project.revisions': request(none, Revisions),
  'project.close': request(none, z.null()),
  'project.recent': request(none, z.array(RecentProject)),
  'project.forgetRecent': request(z.object({ path: z.string() }), z.array(RecentProject)),

  'classes.list': request(none, z.array(ClassInfo)),
  'classes.create': request(z.object({ name: ClassName }), ClassInfo),
  'classes.rename': request(z.object({ id: Id, name: ClassName, expectedRevision: ExpectedRevision }), ClassInfo),
  'classes.merge': request(
    z.object({ sourceIds: z.array(Id).min(1), targetId: Id, expectedRevision: ExpectedRevision }),
    z.object({ moved: z.number().int() })
  ),
  'classes.delete': request(z.object({ id: Id, expectedRevision: ExpectedRevision }), z.object({ unlabeled: z.number().int() })),
  'classes.reorder': request(z.object({ ids: z.array(Id), expectedRevision: ExpectedRevision }), z.array(ClassInfo)),

  'images.ids': request(z.object({ filter: ImageFilter }), z.object({ ids: z.array(Id) })),
  'images.get': request(z.object({ ids: z.array(Id).max(5000) }), z.array(ImageRow)),
  'images.checkMissing': request(none, z.object({ checked: z.number().int(), missing: z.number().int() })),
  'images.relink': request(
    z.object({ dir: z.string().min(1, 'choose the folder the files moved to') }),
    z.object({ relinked: z.number().int(), stillMissing: z.number().int() })
  ),

  'labels.assign': request(z.object({ imageIds: z.array(Id).min(1), classId: Id.nullable() }), HistoryState),
  'labels.setSplit': request(z.object({ imageIds: z.array(Id).min(1), split: Split }), HistoryState),
  'labels.undo': request(none, HistoryStep),
  'labels.redo': request(none, HistoryStep),
  'labels.history': request(none, HistoryState),
  'labels.autoSplit': request(SplitRequest, SplitResult),
  'labels.export': request(ExportRequest, ExportResult),
  'labels.exportTo': request(ExportToRequest, ExportToResult),
  'images.predictions': request(
    z.object({ runId: z.string().optional(), imageIds: z.array(Id).max(500) }),
    z.object({ runId: z.string().nullable(), items: z.array(ImagePrediction) })
  ),

  'import.run': request(z.object({ importId: z.string().min(1).max(100), source: ImportSource, holdOut: ImportHoldOut.optional() }), ImportSummary),
  'import.upload': request(
    z.object({ importId: z.string().min(1).max(100), files: z.array(UploadedFile).min(1).max(2000), holdOut: ImportHoldOut.optional() }),
    ImportSummary
  ),
  'import.cancel': request(z.object({ importId: z.string() }), z.object({ cancelled: z.boolean() })),

  'models.list': request(none, z.array(ModelInfo)),
  'models.import': request(z.object({ dir: z.string().min(1, 'choose a model folder'), name: z.string().optional() }), ModelInfo),
  'models.download': request(
    z.object({ downloadId: z.string().min(1).max(100), repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'a HuggingFace repository looks like owner/name') }),
    ModelInfo
  ),
  'models.cancelDownload': request(z.object({ downloadId: z.string() }), z.object({ cancelled: z.boolean() })),
  'models.remove': request(z.object({ id: z.string() }), z.array(ModelInfo)),
  'models.backend': request(none, BackendSummary),
  'models.setBackend': request(z.object({ preference: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']) }), BackendSummary),
  'templates.library': request(none, TemplateLibrary),
  'zeroshot.run': request(
    z.object({
      runId: z.string().min(1).max(100),
      modelId: z.string().min(1, 'choose a model'),
      templates: z.array(z.string()).min(1, 'choose at least one template').max(500),
      split: Split.optional()
    }),
    ZeroShotReport
  ),
  'zeroshot.cancel': request(z.object({ runId: z.string() }), z.object({ cancelled: z.boolean() })),

  'templates.groups': request(none, z.array(TemplateGroupInfo)),
  'templates.analyze': request(
    // analysisId: names this measurement's templates.progress events.
    z.object({
      modelId: z.string().min(1, 'choose a model'),
      groups: z.array(z.array(z.string()).max(200)).min(1).max(100),
      analysisId: z.string().min(1).max(100).optional()
    }),
    TemplateAnalysis
  ),
  /** The last measurement of these templates (with this model, else with any), kept in the project; null when never measured. */
  'templates.measurement': request(
    z.object({ modelId: z.string().optional(), groups: z.array(z.array(z.string()).max(200)).max(100) }),
    TemplateAnalysis.nullable()
  ),
  'templates.autoGroup': request(
    z.object({
      modelId: z.string().min(1, 'choose a model'),
      templates: z.array(z.string()).min(1).max(500),
      groups: z.number().int().min(1).max(64).optional()
    }),
    z.object({
      groups: z.array(z.array(z.string())),
      suggested: z.number().int(),
      scores: z.array(z.object({ groups: z.number().int(), silhouette: z.number() }))
    })
  ),
  'templates.setGroups': request(z.object({ groups: z.array(TemplateGroupInput).max(100), expectedRevision: ExpectedRevision }), z.array(TemplateGroupInfo)),
  'fewshot.create': request(
    z.object({
      k: z
        .number({ error: 'images per class (k) must be a number' })
        .int('images per class (k) must be a whole number')
        .min(1, 'images per class (k) must be at least 1')
        .max(10000, 'images per class (k) can be at most 10,000'),
      seed: z.number({ error: 'the seed must be a number' }).int('the seed must be a whole number').min(0, 'the seed must be 0 or more'),
      baseNew: z.boolean(),
      name: z.string().trim().min(1).max(200).optional()
    }),
    FewShotSetInfo
  ),
  'fewshot.list': request(none, z.array(FewShotSetInfo)),
  'fewshot.createManual': request(
    z.object({ name: z.string().trim().min(1).max(200), imageIds: z.array(Id).min(2).max(100000), newClassIds: z.array(Id).optional() }),
    FewShotSetInfo
  ),
  'fewshot.update': request(
    z.object({
      setId: Id,
      name: z.string().trim().min(1, 'a set name cannot be empty').max(200).optional(),
      imageIds: z.array(Id).min(2).max(100000).optional(),
      newClassIds: z.array(Id).optional(),
      classIds: z.array(Id).optional(),
      expectedRevision: ExpectedRevision
    }),
    z.object({ set: FewShotSetInfo, copiedFrom: Id.nullable() })
  ),
  'fewshot.delete': request(z.object({ setId: Id, expectedRevision: ExpectedRevision }), z.array(FewShotSetInfo)),
  'fewshot.classCounts': request(none, z.array(ClassSplitCounts)),
  'train.start': request(TrainStart, z.object({ runId: z.string() })),
  'train.estimate': request(AugmentEstimateRequest, AugmentEstimate), // augmentation estimate: which mode will run and what it costs
  'train.resume': request(z.object({ runId: z.string() }), z.object({ runId: z.string() })),
  'train.cancel': request(z.object({ runId: z.string() }), z.object({ cancelled: z.boolean() })),
  'runs.list': request(none, z.array(RunSummary)),
  'runs.details': request(z.object({ runId: z.string() }), RunDetails),
  'suggest.uncertain': request(
    z.object({ runId: z.string().optional(), by: z.enum(['margin', 'entropy']).optional(), limit: z.number().int().min(1).max(20000).optional() }),
    z.object({
      runId: z.string(),
      by: z.enum(['margin', 'entropy']),
      items: z.array(z.object({ imageId: Id, uncertainty: z.number(), predicted: z.string().nullable(), confidence: z.number() }))
    })
  ),
  'classify.files': request(
    z.object({ runId: z.string(), files: z.array(UploadedFile).min(1).max(500), classes: ClassCandidates.optional() }),
    z.array(
      z.object({
        name: z.string(),
        predicted: z.string().nullable(),
        confidence: z.number(),
        scores: z.array(z.object({ className: z.string(), probability: z.number() })),
        topExperts: z.array(z.number().int()),
        topWeights: z.array(z.number()),
        error: z.string().optional()
      })
    )
  ),
  'runs.delete': request(z.object({ runId: z.string() }), z.array(RunSummary)),
  // run history: a run's step curves (recorded, plus the live steps of the run training now), its name and note.
  'runs.steps': request(z.object({ runId: z.string() }), RunSteps), // run history
  'runs.rename': request(z.object({ runId: z.string(), name: z.string().max(200, 'a run name can be at most 200 characters') }), RunSummary), // run history
  'runs.annotate': request(z.object({ runId: z.string(), note: z.string().max(5000, 'a run note can be at most 5,000 characters') }), RunSummary), // run history
  'runs.evaluate': request(
    z.object({
      runId: z.string(),
      split: z.enum(['test', 'val']).optional(),
      otherProject: z.string().min(1, 'choose a .mocoop project file').optional(),
      classes: ClassCandidates.optional()
    }),
    EvalMetrics
  ),
  /** Which of the project's classes a finished run was trained with, which it lacks, and whether those can be added (encoded through its experts). */
  'runs.classCoverage': request(
    z.object({ runId: z.string() }),
    z.object({ trained: z.array(z.string()), notInRun: z.array(z.string()), canAdd: z.boolean(), reason: z.string().nullable() })
  ),
  /** The 2-D map of the run's test images: `projection` PCA (default) or UMAP (seeded: the same map every time). */
  'runs.map': request(
    z.object({ runId: z.string(), projection: z.enum(['pca', 'umap']).optional() }),
    z.array(z.object({ imageId: Id, x: z.number(), y: z.number() }))
  ),
  'runs.report': request(
    z.object({ runId: z.string(), dir: z.string().min(1, 'choose a folder for the report') }),
    z.object({ html: z.string(), json: z.string(), csv: z.string() })
  ),

  // file browser: one folder of the server machine (web mode's path fields), and a folder as a zip download.
  'files.list': request(
    z.object({ path: z.string().max(4096).optional(), filter: FileFilter.optional(), hidden: z.boolean().optional(), nearest: z.boolean().optional() }),
    FileListing
  ), // file browser
  'files.zip': request(z.object({ path: z.string().min(1, 'choose a folder to download').max(4096) }), ZippedFolder) // file browser
} as const;

export const events = {
  'import.progress': ImportProgress,
  // reason: what changed ('labels', 'classes', 'templates', 'fewshot', 'settings', 'import', 'runs', …);
  // origin: the client (window) whose request made the change; imageIds: the images it changed, when known.
  'project.changed': z.object({ reason: z.string(), origin: z.string().optional(), imageIds: z.array(Id).optional() }),
  'templates.progress': TemplateAnalysisProgress,
  'models.downloadProgress': DownloadProgress,
  'zeroshot.progress': ZeroShotProgress,
  'train.progress': StepProgress,
  // interrupted: stopped by the compute worker's death (killed, out of memory, crashed), not by the user.
  'train.finished': z.object({
    runId: z.string(),
    status: z.enum(['done', 'cancelled', 'failed']),
    interrupted: z.boolean().optional(),
    error: z.string().optional()
  })
} as const;

export type Requests = typeof requests;
export type RequestName = keyof Requests;
export type Input<K extends RequestName> = z.input<Requests[K]['input']>;
export type ParsedInput<K extends RequestName> = z.output<Requests[K]['input']>;
export type Output<K extends RequestName> = z.output<Requests[K]['output']>;
export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.output<Events[E]>;

export const requestNames = Object.keys(requests) as RequestName[];
export const eventNames = Object.keys(events) as EventName[];

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(requests, name);
}
export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(events, name);
}

/** What a transport returns for every request: never a thrown exception across the boundary. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
