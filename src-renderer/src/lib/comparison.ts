/**
 * Comparing finished runs on the Evaluate page: which metrics to chart, the best run per metric, and
 * which differences are smaller than the seed spread (runs trained with several seeds vary by about
 * their standard deviation, so a smaller gap says nothing about which is better).
 */
import type { SeedMetric } from '$contract/seeds';

export const COMPARED_METRICS: { key: SeedMetric; field: 'accuracy' | 'baseAccuracy' | 'newAccuracy' | 'h'; label: string }[] = [
  { key: 'accuracy', field: 'accuracy', label: 'Accuracy' },
  { key: 'base_accuracy', field: 'baseAccuracy', label: 'Base' },
  { key: 'new_accuracy', field: 'newAccuracy', label: 'New' },
  { key: 'h', field: 'h', label: 'H' }
];

export interface ComparedRun {
  id: string;
  accuracy: number | null;
  baseAccuracy: number | null;
  newAccuracy: number | null;
  h: number | null;
}

export interface SpreadGroup {
  runs: { id: string }[];
  spread: { std: Record<SeedMetric, number | null> };
}

export interface Mark {
  /** The best value of this metric among the compared runs. */
  best: boolean;
  /** Behind the best by less than the seed spread (the larger std of the two runs' seed groups). */
  withinSpread: boolean;
  /** This run's seed group's standard deviation for the metric (null: no seeds). */
  std: number | null;
}

/** The seed group's std of a metric for a run (the largest, if a run were in several groups). */
export function runStd(runId: string, metric: SeedMetric, groups: SpreadGroup[]): number | null {
  const stds = groups.filter((g) => g.runs.some((r) => r.id === runId)).flatMap((g) => (g.spread.std[metric] === null ? [] : [g.spread.std[metric]!]));
  return stds.length ? Math.max(...stds) : null;
}

/**
 * Per run and metric: whether it is the best, and whether its gap to the best is smaller than the
 * seed spread of either run. A run without seeds (and a best without seeds) marks nothing as within.
 */
export function comparisonMarks(runs: ComparedRun[], groups: SpreadGroup[]): Map<string, Partial<Record<SeedMetric, Mark>>> {
  const marks = new Map<string, Partial<Record<SeedMetric, Mark>>>(runs.map((r) => [r.id, {}]));
  for (const { key, field } of COMPARED_METRICS) {
    const valued = runs.filter((r) => r[field] !== null && Number.isFinite(r[field]));
    if (valued.length === 0) continue;
    const bestValue = Math.max(...valued.map((r) => r[field]!));
    const bestRuns = valued.filter((r) => r[field] === bestValue);
    const bestStd = Math.max(0, ...bestRuns.map((r) => runStd(r.id, key, groups) ?? 0));
    for (const r of valued) {
      const std = runStd(r.id, key, groups);
      const best = r[field] === bestValue;
      const spread = Math.max(std ?? 0, bestStd);
      marks.get(r.id)![key] = { best, withinSpread: !best && spread > 0 && bestValue - r[field]! < spread, std };
    }
  }
  return marks;
}

/** The metrics at least one compared run has (base/new/H only for base-to-new runs). */
export function chartedMetrics(runs: ComparedRun[]): typeof COMPARED_METRICS {
  return COMPARED_METRICS.filter((m) => runs.some((r) => r[m.field] !== null));
}

/** Distinct colours for the compared runs' bars, in the order given (cycled beyond eight). */
export const RUN_COLORS = ['#2f6fde', '#d9480f', '#2b8a3e', '#ae3ec9', '#0b7285', '#c2255c', '#e67700', '#5c940d'];
export const runColor = (i: number): string => RUN_COLORS[i % RUN_COLORS.length]!;
