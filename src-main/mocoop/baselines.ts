/**
 * The baselines as their papers publish them, and what still departs from them (listed with each run,
 * so the report's settings say it):
 * - CoOp: CLIP's logit scale (100); base-to-new: 4 vectors from "a photo of a", the class, a fixed ".";
 *   few-shot: 16 random vectors (N(0, 0.02²)), the class, a fixed "."; its own schedule.
 * - KgCoOp: CoOp's base-to-new prompt, W = 8 against the data set's own hand-written template (CoOp's
 *   table; "a photo of a {}." otherwise), 100 epochs, batch 128, logit scale 100.
 * - CoCoOp: CoOp's base-to-new prompt shifted per image by a meta-network (P → P/16 → width), CLIP's
 *   logit scale, its own schedule (10 epochs, batch 1, lr 0.002); the text tower runs per image.
 * - MoCoOp's Table 2 rows by name (see trainer.METHODS).
 */
import type { AugmentMode } from '../contract/augmentation';

/** CoOp's layouts (see experts.expertTemplate): base-to-new (CoCoOp's CoOp row) and few-shot (CoOp's main results). */
export const COOP_BASE_TO_NEW_PROMPT = 'a photo of a {}||.';
export const COOP_FEW_SHOT_PROMPT = '{ctx:16} {}||.';
export const GENERIC_TEMPLATE = 'a photo of a {}.';

/** The learned prompt CoOp starts from: "a photo of a" (4 vectors) for base-to-new, 16 random vectors for few-shot. */
export function coopPrompt(baseToNew: boolean): string {
  return baseToNew ? COOP_BASE_TO_NEW_PROMPT : COOP_FEW_SHOT_PROMPT;
}

interface Library {
  sets: { id: string; templates: string[] }[];
  groupings: { id: string; groups: string[][] }[];
}

const same = (a: string[][], b: string[][]) => a.length === b.length && a.every((g, i) => g.length === b[i]!.length && g.every((t, k) => t === b[i]![k]));

/**
 * Which of CoOp's 11 data sets a project is, when it says: a name given (e.g. by `reproduce`), else its
 * template groups being the MoCoOp authors' groups for one data set. Null when it is not recognised.
 */
export function recogniseDataset(library: Library, groups: string[][], named?: string | null, importSources: string[] = []): string | null {
  const known = library.sets.filter((s) => s.id.startsWith('coop-')).map((s) => s.id.slice(5));
  // Named (reproduce passes it), or imported from CoOp's own split file (split_zhou_<DataSet>.json).
  const fromSplit = importSources.map((s) => /split_zhou_([A-Za-z0-9]+)\.json$/.exec(s)?.[1]).find((d) => d !== undefined);
  for (const name of [named, fromSplit]) {
    const match = name ? known.find((d) => d.toLowerCase() === name.toLowerCase()) : undefined;
    if (match) return match;
  }
  const grouping = library.groupings.find((g) => g.id.startsWith('mocoop-') && same(g.groups, groups));
  const dataset = grouping?.id.slice(7);
  return dataset && known.includes(dataset) ? dataset : null;
}

/** KgCoOp's hand-written prompt: the data set's own (CoOp's table) or the generic one. */
export function kgcoopTemplate(library: Library, dataset: string | null): { template: string; source: string } {
  const own = dataset ? library.sets.find((s) => s.id === `coop-${dataset}`)?.templates[0] : undefined;
  return own
    ? { template: own, source: `${dataset} (CoOp's template table)` }
    : { template: GENERIC_TEMPLATE, source: 'generic (the project is not recognised as one of CoOp’s data sets)' };
}

export interface DeviationInput {
  method: string;
  preset?: string;
  schedule?: string | null;
  batchSize?: number;
  augment?: AugmentMode;
  augViews?: number;
  kgTemplateSource?: string;
  baseToNew: boolean;
  linearProbe?: { validation: string };
}

/** What a run still does differently from its method's paper, in words (empty when nothing is known to differ). */
export function deviations(d: DeviationInput): string[] {
  const out: string[] = [];
  const prompts = d.method !== 'zeroshot' && d.method !== 'linear-probe';
  if (prompts && d.augment === 'pool')
    out.push(
      `Augmentation from a cached pool of ${d.augViews} random crop + flip views per image, one sampled per step; the papers draw a fresh view every step.`
    );
  if (prompts && d.augment === 'off') out.push('No augmentation; the papers train on a random resized crop + flip of every image at every step.');
  if (d.method === 'coop') {
    if (d.schedule !== 'coop') out.push(`Schedule ${d.schedule ?? 'custom'} instead of CoOp's own (lr 0.002, batch 32, 50/100/200 epochs by shots).`);
    if (!d.baseToNew) out.push("The 16 random context vectors come from this app's seeded generator (N(0, 0.02²)), not PyTorch's.");
  }
  if (d.method === 'kgcoop') {
    if (d.schedule !== 'kgcoop') out.push(`Schedule ${d.schedule ?? 'custom'} instead of KgCoOp's own (100 epochs, batch 128, lr 0.002).`);
    if (d.kgTemplateSource?.startsWith('generic'))
      out.push(
        'The knowledge term uses the generic "a photo of a {}." because the project is not recognised as one of CoOp\'s 11 data sets (KgCoOp uses each data set\'s own template).'
      );
  }
  if (d.method === 'cocoop') {
    if (d.schedule !== 'cocoop') out.push(`Schedule ${d.schedule ?? 'custom'} instead of CoCoOp's own (10 epochs, batch 1, lr 0.002).`);
    out.push("The meta-network starts from this app's seeded generator (PyTorch's nn.Linear bounds, not its random numbers).");
  }
  if (d.method.startsWith('mocoop')) {
    if (d.preset === 'released-code')
      out.push("The released code also tunes the image tower's LayerNorms at lr × 0.1; here the image tower stays frozen (its features are cached).");
    if (d.schedule && !['lasp-25', 'lasp-50', 'lasp-300', 'batch1-10'].includes(d.schedule))
      out.push(`Schedule ${d.schedule} is not one of the authors' released per-data-set schedules.`);
  }
  if (d.method === 'linear-probe' && d.linearProbe)
    out.push(`C was searched on ${d.linearProbe.validation}; CoOp searches it on the data set's few-shot validation split (min(k, 4) images per class).`);
  return out;
}
