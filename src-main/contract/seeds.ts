/**
 * Runs of the same settings trained with different seeds: their mean ± standard deviation per metric.
 * The deviation is numpy's np.std (population, ddof = 0), as Dassl's parse_test_res.py reports seeds.
 * Plain functions, shared by the CLI (`train --seeds`) and the Evaluate page.
 */

export const SEED_METRICS = ['accuracy', 'base_accuracy', 'new_accuracy', 'h'] as const;
export type SeedMetric = (typeof SEED_METRICS)[number];

export interface SeedRun {
  id: string;
  seed: number | null;
  metrics: Record<SeedMetric, number | null>;
}

export interface SeedSpread {
  seeds: (number | null)[];
  runs: string[];
  /** Per metric; null where some run has no value (e.g. H of a run without new classes). */
  mean: Record<SeedMetric, number | null>;
  std: Record<SeedMetric, number | null>;
}

/** Mean and population standard deviation; null when a value is missing or there is none. */
export function meanStd(values: (number | null | undefined)[]): { mean: number; std: number } | null {
  if (values.length === 0 || values.some((v) => v === null || v === undefined || !Number.isFinite(v))) return null;
  const xs = values as number[];
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length;
  return { mean, std: Math.sqrt(variance) };
}

export function seedSpread(runs: SeedRun[]): SeedSpread {
  const mean = {} as Record<SeedMetric, number | null>;
  const std = {} as Record<SeedMetric, number | null>;
  for (const metric of SEED_METRICS) {
    const s = meanStd(runs.map((r) => r.metrics[metric]));
    mean[metric] = s ? s.mean : null;
    std[metric] = s ? s.std : null;
  }
  return { seeds: runs.map((r) => r.seed), runs: runs.map((r) => r.id), mean, std };
}

/** Settings that tell a seed apart, not the experiment: the seed and which sampled set it drew. */
const PER_SEED = new Set(['seed', 'setId']);

/**
 * What runs of "the same settings" share: the method and every recorded setting but the seed, and the
 * few-shot set's protocol — k per class and base-to-new for sampled sets (each seed draws its own
 * sample), the set itself for a hand-picked one.
 */
export function seedGroupKey(
  run: { method: string; settings: Record<string, unknown> },
  set: { id: number; k: number | null; newClassIds: number[] } | undefined
): string {
  const rest = Object.keys(run.settings)
    .filter((k) => !PER_SEED.has(k))
    .sort()
    .map((k) => [k, run.settings[k]]);
  const protocol = set ? (set.k !== null ? { k: set.k, baseNew: set.newClassIds.length > 0 } : { set: set.id }) : { set: run.settings.setId ?? null };
  return JSON.stringify([run.method, protocol, rest]);
}

/** Groups of finished runs with the same settings and at least two different seeds, with their spread. */
export function seedGroups<
  R extends {
    id: string;
    method: string;
    settings: Record<string, unknown>;
    accuracy: number | null;
    baseAccuracy: number | null;
    newAccuracy: number | null;
    h: number | null;
  }
>(runs: R[], sets: { id: number; k: number | null; newClassIds: number[] }[]): { key: string; runs: R[]; spread: SeedSpread }[] {
  const groups = new Map<string, R[]>();
  for (const r of runs) {
    const key = seedGroupKey(
      r,
      sets.find((s) => s.id === r.settings.setId)
    );
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.entries()]
    .filter(([, members]) => new Set(members.map((m) => m.settings.seed)).size >= 2)
    .map(([key, members]) => ({
      key,
      runs: members,
      spread: seedSpread(
        members.map((m) => ({
          id: m.id,
          seed: typeof m.settings.seed === 'number' ? m.settings.seed : null,
          metrics: { accuracy: m.accuracy, base_accuracy: m.baseAccuracy, new_accuracy: m.newAccuracy, h: m.h }
        }))
      )
    }));
}
