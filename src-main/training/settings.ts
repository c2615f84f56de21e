/**
 * A run's settings: from the options asked for, the named or default schedule, the data set the project
 * is recognised as, the baselines' published prompts and the augmentation; what is recorded with the run;
 * and the checks made before a run is recorded.
 */
import type { ClipEngine } from '../clip/engine';
import { probeWebGpu } from '../clip/onnx/webgpu-probe';
import { AUGMENT_MODES, type AugmentMode, DEFAULT_POOL_VIEWS, MAX_POOL_VIEWS, defaultAugmentMode, isAugmentMode } from '../contract/augmentation';
import { AppError } from '../contract/errors';
import type { TrainMethod } from '../contract/methods';
import { SCHEDULE_NAMES, type ScheduleName, WARMUP_LR, defaultSchedule, isScheduleName, scheduleFor } from '../contract/schedules';
import { COOP_BASE_TO_NEW_PROMPT, coopPrompt, deviations, kgcoopTemplate } from '../mocoop/baselines';
import { COCOOP_PROMPT } from '../mocoop/cocoop-trainer';
import { PromptLayoutError, checkExpertsTokens, classTokenIds, expertTemplate } from '../mocoop/experts';
import { type LossOverrides, PAPER_DEFAULTS, type PromptMethod, type TrainSettings, groupsFor } from '../mocoop/trainer';
import type { FewShotSet, RunRecord, TrainingStore } from '../store/training-store';
import { type TemplateLibrary, loadTemplateLibrary } from '../templates/library';
import type { TrainOptions } from './types';

const DEFAULT_GROUPING = 'mocoop-ImageNet';

/** The project's template groups, or the built-in general groups when it has none. */
export function templateGroups(training: Pick<TrainingStore, 'templateGroups'>): string[][] {
  const own = training.templateGroups();
  if (own.length) return own.map((g) => g.templates);
  const builtIn = loadTemplateLibrary().groupings.find((g) => g.id === DEFAULT_GROUPING) ?? loadTemplateLibrary().groupings[0]!;
  return builtIn.groups;
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

/** Loss weights and temperatures asked for: finite, not negative, temperatures above 0; else refused naming the flag. */
export function checkLossOverrides(loss: LossOverrides | undefined): void {
  const lossNames: Record<string, string> = {
    lambda1: 'λ1, the gate loss weight (--lambda1)',
    lambda2: 'λ2, the text loss weight (--lambda2)',
    lambdaKg: 'the KgCoOp weight (--lambda-kg)',
    tauCe: 'The classification temperature (--tau-ce)',
    tauGate: 'The gate temperature (--tau-gate)',
    tauText: 'The text temperature (--tau-text)'
  };
  for (const [key, value] of Object.entries(loss ?? {})) {
    const temperature = key.startsWith('tau');
    if (!Number.isFinite(value) || value < 0 || (temperature && value === 0)) {
      const name = lossNames[key] ?? key;
      throw new AppError(
        'invalid_input',
        `${name[0]!.toUpperCase()}${name.slice(1)} must be ${temperature ? 'above 0 (the paper uses 0.07)' : 'at least 0'}; it is ${value}.`
      );
    }
  }
}

/** Zero-shot and the linear probe train no prompts (no schedule, no augmentation, no tokenisation check). */
export const trainsPrompts = (method: TrainMethod): boolean => method !== 'zeroshot' && method !== 'linear-probe';

export interface SettingsInput {
  options: TrainOptions;
  /** The run being resumed: its record decides (method, settings, augmentation). */
  resumed: Pick<RunRecord, 'method' | 'settings'> | null;
  set: Pick<FewShotSet, 'k' | 'seed' | 'newClassIds'>;
  /** The data set the project is recognised as (`recogniseDataset`), or null. */
  recognised: string | null;
  library: TemplateLibrary;
  /** CLIP's logit scale: the baselines' logits use it (τ_ce = 1/scale). */
  logitScale: number;
  /** The backend's default augmentation; asked only for a new prompt run that names none. */
  defaultAugment: () => Promise<AugmentMode>;
}

export interface ResolvedSettings {
  method: TrainMethod;
  /** The named schedule the settings started from (the method's default when none was named). */
  scheduleName: ScheduleName;
  settings: TrainSettings;
  augment: { mode: AugmentMode; views: number };
  /** KgCoOp's hand-written prompt's source, for the record. */
  baseline: { dataset: string | null; kgTemplateSource?: string };
}

/**
 * The settings a run trains with. A named schedule (published settings) gives epochs, warm-up, lr, batch
 * size and, for lasp-50, λ2; options the user sets override it; none named: the method's stated default.
 * A resumed run keeps its record's. Unknown schedules and augmentation modes are refused.
 */
export async function resolveSettings(input: SettingsInput): Promise<ResolvedSettings> {
  const { options, resumed, set, recognised, library, logitScale } = input;
  const method = (resumed?.method as TrainMethod | undefined) ?? options.method;
  if (options.schedule !== undefined && !isScheduleName(options.schedule)) {
    throw new AppError('invalid_input', `Unknown schedule "${String(options.schedule)}"; choose one of ${SCHEDULE_NAMES.join(', ')}.`);
  }
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
    : !trainsPrompts(method)
      ? { mode: 'off', views: 0 }
      : resolveAugment(options.augment ?? (await input.defaultAugment()), options.augViews);
  // The baselines as published (mocoop/baselines): CoOp's and KgCoOp's prompt layouts, CLIP's logit
  // scale (100) for their logits, KgCoOp's hand-written prompt of the data set the project is.
  let baseline: { dataset: string | null; kgTemplateSource?: string } = { dataset: null };
  if (!resumed && method === 'cocoop') {
    // CoCoOp: CoOp's base-to-new prompt, shifted per image; its logits use CLIP's scale.
    settings.promptTemplate = COCOOP_PROMPT;
    settings.tauCe = 1 / logitScale;
  }
  if (!resumed && (method === 'coop' || method === 'kgcoop')) {
    settings.promptTemplate = method === 'coop' ? coopPrompt(set.newClassIds.length > 0) : COOP_BASE_TO_NEW_PROMPT;
    if (options.loss?.tauCe === undefined) settings.tauCe = 1 / logitScale;
    const dataset = recognised;
    baseline = { dataset };
    if (method === 'kgcoop') {
      const kg = kgcoopTemplate(library, dataset);
      settings.kgTemplate = kg.template;
      baseline.kgTemplateSource = kg.source;
    }
  }
  return { method, scheduleName, settings, augment, baseline };
}

/** What a new run records as its settings: the resolved ones, where they came from, its groups, set and classes. */
export function runRecord(
  resolved: ResolvedSettings,
  context: {
    recognised: string | null;
    groups: string[][];
    set: Pick<FewShotSet, 'id' | 'newClassIds'>;
    base: { id: number; name: string }[];
    virtual: { id: number; name: string }[];
  }
): Record<string, unknown> {
  const { method, scheduleName, settings, augment, baseline } = resolved;
  const { recognised, groups, set, base, virtual } = context;
  return {
    ...settings,
    method,
    // The named schedule the settings started from (zero-shot and the linear probe train no prompts).
    schedule: trainsPrompts(method) ? scheduleName : null,
    // Augmentation: the mode and, for a pool, its views per image.
    augment: augment.mode,
    augViews: augment.views,
    ...(recognised ? { dataset: recognised } : {}),
    ...(baseline.kgTemplateSource ? { kgTemplateSource: baseline.kgTemplateSource } : {}),
    // What still departs from the method's paper, for the report's settings.
    deviations: deviations({
      method,
      preset: settings.preset,
      schedule: trainsPrompts(method) ? scheduleName : null,
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
}

/** The tokenisation check of every expert a run would build (see `checkExpertTokens`), as a refusal in words. */
export function checkPromptTokens(
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
