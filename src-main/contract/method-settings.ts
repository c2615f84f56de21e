/**
 * Which training setting applies to which method, and which loss terms a method's curves have: one
 * table for the Train page (it shows only what applies), the services (they refuse what does not) and
 * the chart (it plots only the terms the method uses). Plain data.
 */
import type { TrainMethod } from './methods';

/** Every setting a TrainStart request may carry besides the model, the method and the set. */
export const TRAIN_SETTING_KEYS = [
  'preset',
  'schedule',
  'topK',
  'epochs',
  'batchSize',
  'lr',
  'seed',
  'augment',
  'augViews',
  'lambda1',
  'lambda2',
  'lambdaKg',
  'tauCe',
  'tauGate',
  'tauText'
] as const;
export type TrainSettingKey = (typeof TRAIN_SETTING_KEYS)[number];

/** The loss weights and temperatures (TrainStart.loss), a subset of the settings. */
export const LOSS_SETTING_KEYS = ['lambda1', 'lambda2', 'lambdaKg', 'tauCe', 'tauGate', 'tauText'] as const satisfies readonly TrainSettingKey[];
export type LossSettingKey = (typeof LOSS_SETTING_KEYS)[number];

/** The per-step loss terms a run records (besides the total `loss`). */
export type LossTerm = 'l_ce' | 'l_gate' | 'l_text' | 'l_kg';

export interface MethodSpec {
  /** The settings that change what the method does. */
  settings: readonly TrainSettingKey[];
  /** The loss terms its total is made of (a single-term method plots the total only). */
  terms: readonly LossTerm[];
  /** Whether it trains prompts step by step (learning rate, train accuracy, epochs). */
  trainsPrompts: boolean;
}

/** What every prompt-learning method shares: the schedule and the optimiser, the seed, the augmentation (mode and pool views), the classification temperature. */
const PROMPT_SETTINGS = ['schedule', 'epochs', 'batchSize', 'lr', 'seed', 'augment', 'augViews', 'tauCe'] as const satisfies readonly TrainSettingKey[];

export const METHOD_SPECS: Readonly<Record<TrainMethod, MethodSpec>> = {
  mocoop: {
    settings: [...PROMPT_SETTINGS, 'preset', 'topK', 'lambda1', 'lambda2', 'tauGate', 'tauText'],
    terms: ['l_ce', 'l_gate', 'l_text'],
    trainsPrompts: true
  },
  // The ablations train with λ1 = 0 (no gate loss) or λ2 = 0 (no text loss): that weight and its temperature do nothing.
  'mocoop-no-gate': { settings: [...PROMPT_SETTINGS, 'preset', 'topK', 'lambda2', 'tauText'], terms: ['l_ce', 'l_text'], trainsPrompts: true },
  'mocoop-no-text': { settings: [...PROMPT_SETTINGS, 'preset', 'topK', 'lambda1', 'tauGate'], terms: ['l_ce', 'l_gate'], trainsPrompts: true },
  // The paper's Table 2 rows by name: experts and router with L_ce only; + the gate loss; + the text loss (the full method).
  'mocoop-moe': { settings: [...PROMPT_SETTINGS, 'preset', 'topK'], terms: [], trainsPrompts: true },
  'mocoop-gate': { settings: [...PROMPT_SETTINGS, 'preset', 'topK', 'lambda1', 'tauGate'], terms: ['l_ce', 'l_gate'], trainsPrompts: true },
  'mocoop-text': {
    settings: [...PROMPT_SETTINGS, 'preset', 'topK', 'lambda1', 'lambda2', 'tauGate', 'tauText'],
    terms: ['l_ce', 'l_gate', 'l_text'],
    trainsPrompts: true
  },
  // One learned prompt: no experts (K), no gate, no text loss, no released-code variant.
  coop: { settings: PROMPT_SETTINGS, terms: [], trainsPrompts: true },
  kgcoop: { settings: [...PROMPT_SETTINGS, 'lambdaKg'], terms: ['l_ce', 'l_kg'], trainsPrompts: true },
  // CoOp's prompt shifted per image by a meta-network; its logits use CLIP's own scale (no τ_ce).
  cocoop: { settings: PROMPT_SETTINGS.filter((k) => k !== 'tauCe'), terms: [], trainsPrompts: true },
  // No training: the hand-written prompts classify.
  zeroshot: { settings: [], terms: [], trainsPrompts: false },
  // Logistic regression on the image features, fixed iterations: no prompt, schedule or loss setting.
  'linear-probe': { settings: [], terms: [], trainsPrompts: false }
};

/** The spec of a method, or null for a method this table does not know (then nothing is hidden or refused). */
export function methodSpec(method: string): MethodSpec | null {
  return Object.prototype.hasOwnProperty.call(METHOD_SPECS, method) ? METHOD_SPECS[method as TrainMethod] : null;
}

/** Whether a setting applies to a method (true for a method the table does not know). */
export function settingApplies(method: string, key: TrainSettingKey): boolean {
  const spec = methodSpec(method);
  return spec === null || spec.settings.includes(key);
}

/** Readable names for messages: "K (experts per image)", "λ1 (gate loss weight)", … */
export const SETTING_LABELS: Readonly<Record<TrainSettingKey, string>> = {
  preset: 'the preset',
  schedule: 'the schedule',
  topK: 'K (experts per image)',
  epochs: 'epochs',
  batchSize: 'the batch size',
  lr: 'the learning rate',
  seed: 'the training seed',
  augment: 'the augmentation mode',
  augViews: 'views per image',
  lambda1: 'λ1 (gate loss weight)',
  lambda2: 'λ2 (text loss weight)',
  lambdaKg: 'λ (KgCoOp weight)',
  tauCe: 'τ (classification temperature)',
  tauGate: 'τ (gate temperature)',
  tauText: 'τ (text temperature)'
};

/**
 * The settings of a request that do not apply to its method (top-level fields and `loss` fields),
 * in table order; empty when all apply or the method is unknown.
 */
export function settingsNotApplying(
  method: string,
  request: Partial<Record<TrainSettingKey, unknown>> & { loss?: Partial<Record<LossSettingKey, unknown>> | undefined }
): TrainSettingKey[] {
  const spec = methodSpec(method);
  if (!spec) return [];
  const given = new Set<string>([
    ...Object.entries(request)
      .filter(([k, v]) => k !== 'loss' && v !== undefined && v !== null)
      .map(([k]) => k),
    ...Object.entries(request.loss ?? {})
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k]) => k)
  ]);
  return TRAIN_SETTING_KEYS.filter((key) => given.has(key) && !spec.settings.includes(key));
}

/** The request with only the settings that apply to its method (what the Train page sends). */
export function keepApplying<T extends Partial<Record<TrainSettingKey, unknown>> & { loss?: Partial<Record<LossSettingKey, unknown>> }>(
  method: string,
  request: T
): T {
  const spec = methodSpec(method);
  if (!spec) return request;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(request)) {
    if (k === 'loss' || !(TRAIN_SETTING_KEYS as readonly string[]).includes(k) || spec.settings.includes(k as TrainSettingKey)) out[k] = v;
  }
  if (request.loss) {
    const loss = Object.fromEntries(Object.entries(request.loss).filter(([k]) => spec.settings.includes(k as TrainSettingKey)));
    if (Object.keys(loss).length) out.loss = loss;
    else delete out.loss;
  }
  return out as T;
}
