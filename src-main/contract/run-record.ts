/**
 * A training run as stored in its project (`runs`): its settings and evaluation metrics are JSON
 * columns, read and checked once here into typed records. Every key the app writes is typed and
 * optional; keys this version does not know (older or newer records, imported runs) are kept as they
 * are. A stored value of the wrong type, or text that is not JSON, is refused naming the run and field.
 */
import { z } from 'zod';
import { AppError } from './errors';

const strings = z.array(z.string());
const ids = z.array(z.number());
/** Metric values: a NaN or infinity was stored by JSON as null. */
const metric = z.number().nullable();

/** `runs.settings`: what the run trained with (`TrainSettings`, its schedule, augmentation, classes…). */
export const RunSettingsSchema = z.looseObject({
  method: z.string().optional(),
  preset: z.string().optional(),
  topK: z.number().optional(),
  epochs: z.number().optional(),
  batchSize: z.number().optional(),
  lr: z.number().optional(),
  momentum: z.number().optional(),
  weightDecay: z.number().optional(),
  warmupEpochs: z.number().optional(),
  warmupLr: z.number().optional(),
  seed: z.number().optional(),
  tauCe: z.number().optional(),
  tauGate: z.number().optional(),
  tauText: z.number().optional(),
  lambda1: z.number().optional(),
  lambda2: z.number().optional(),
  lambdaKg: z.number().optional(),
  underscoresAsSpaces: z.boolean().optional(),
  promptTemplate: z.string().optional(),
  kgTemplate: z.string().optional(),
  /** The named schedule (null: zero-shot and the linear probe train no prompts). */
  schedule: z.string().nullable().optional(),
  augment: z.string().optional(),
  augViews: z.number().optional(),
  dataset: z.string().optional(),
  kgTemplateSource: z.string().optional(),
  deviations: strings.optional(),
  groups: z.array(strings).optional(),
  setId: z.number().nullable().optional(),
  classes: strings.optional(),
  virtualClasses: strings.optional(),
  classIds: ids.optional(),
  virtualClassIds: ids.optional(),
  linearProbeC: z.number().optional(),
  linearProbeValidation: z.string().optional(),
  reproduce: z.boolean().optional(),
  importedFrom: z.string().optional()
});
export type RunSettings = z.infer<typeof RunSettingsSchema>;

const ConfusionBlockSchema = z.looseObject({ classes: strings.optional(), counts: z.array(z.array(z.number())).optional() });
const ExpertUsageSchema = z.looseObject({ load: ids.optional(), router_agrees_with_p_hard: metric.optional() });

/** `runs.metrics`: the run's evaluation on its test split (`EvalResult`). */
export const RunMetricsSchema = z.looseObject({
  run: z.string().optional(),
  method: z.string().optional(),
  accuracy: metric.optional(),
  base_accuracy: metric.optional(),
  new_accuracy: metric.optional(),
  h: metric.optional(),
  images: z.number().optional(),
  per_class: z
    .array(
      z.looseObject({
        class: z.string().optional(),
        role: z.string().optional(),
        images: z.number().optional(),
        correct: z.number().optional(),
        accuracy: metric.optional()
      })
    )
    .optional(),
  confusion: ConfusionBlockSchema.extend({ base: ConfusionBlockSchema.optional(), new: ConfusionBlockSchema.optional() }).optional(),
  expert_usage: ExpertUsageSchema.extend({ base: ExpertUsageSchema.optional(), new: ExpertUsageSchema.optional() }).optional(),
  class_match: z.looseObject({}).optional(),
  open_vocabulary: z.looseObject({}).optional()
});
export type RunMetrics = z.infer<typeof RunMetricsSchema>;

export type RunStatus = 'running' | 'done' | 'cancelled' | 'failed';

export interface RunRecord {
  id: string;
  method: string;
  status: RunStatus;
  settings: RunSettings;
  backend: string;
  modelId: string;
  setId: number | null;
  metrics: RunMetrics | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
  /** A name the user gave the run (null: none; the id names it). */
  name: string | null;
  /** The user's note on the run (null: none). */
  note: string | null;
}

function issues(error: z.ZodError, field: string): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${[field, ...issue.path.map(String)].join('.')}: ${issue.message}`)
    .join('; ');
}

/** Checks a run's settings or metrics object; the value itself is kept (key order and all). */
function check<S extends z.ZodType>(
  schema: S,
  runId: string,
  field: 'settings' | 'metrics',
  value: unknown,
  code: 'bad_project' | 'invalid_input'
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return value as z.infer<S>;
  const why = issues(result.error, field);
  throw new AppError(
    code,
    code === 'bad_project'
      ? `Run ${runId}: its stored ${field} cannot be read (${why}). The project file was changed outside the app or is damaged; delete this run (Train page, or \`mocoop runs delete\`) to go on.`
      : `Run ${runId}: ${why}.`
  );
}

function parseJson(runId: string, field: 'settings' | 'metrics', text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError(
      'bad_project',
      `Run ${runId}: its stored ${field} are not valid JSON (${(error as Error).message}). The project file was changed outside the app or is damaged; delete this run (Train page, or \`mocoop runs delete\`) to go on.`
    );
  }
}

/** A run's stored settings (the `runs.settings` text), parsed and checked. */
export function parseRunSettings(runId: string, text: string): RunSettings {
  return check(RunSettingsSchema, runId, 'settings', parseJson(runId, 'settings', text), 'bad_project');
}

/** A run's stored metrics (the `runs.metrics` text; null or empty: not evaluated), parsed and checked. */
export function parseRunMetrics(runId: string, text: string | null): RunMetrics | null {
  if (!text) return null;
  const value = parseJson(runId, 'metrics', text);
  return value === null ? null : check(RunMetricsSchema, runId, 'metrics', value, 'bad_project');
}

/**
 * Settings about to be stored with a run (as their JSON, so as they will read back): refused naming the
 * field when they could not be read back (e.g. an imported manifest's `"seed": "one"`).
 */
export function checkRunSettings(runId: string, settings: Record<string, unknown>): void {
  check(RunSettingsSchema, runId, 'settings', JSON.parse(JSON.stringify(settings)), 'invalid_input');
}

/** The four headline numbers of a run's evaluation (null: not evaluated, or not a base-to-new run). */
export interface RunMetricsSummary {
  accuracy: number | null;
  base_accuracy: number | null;
  new_accuracy: number | null;
  h: number | null;
}

/** A run's accuracy, base and new accuracy and H from its stored metrics (every one null when it has none). */
export function runMetricsSummary(run: Pick<RunRecord, 'metrics'>): RunMetricsSummary {
  const m = run.metrics;
  return { accuracy: m?.accuracy ?? null, base_accuracy: m?.base_accuracy ?? null, new_accuracy: m?.new_accuracy ?? null, h: m?.h ?? null };
}
