/**
 * What the Train page's charts draw: for one run, the loss terms its method uses with train accuracy
 * and the learning rate; for several runs, one line per run of one metric. Pure functions over the
 * recorded steps; the chart component only draws what they return.
 */
import { type LossTerm, methodSpec } from '$contract/method-settings';

export interface CurveStep {
  step: number;
  epoch: number;
  loss: number;
  l_ce: number;
  l_gate: number;
  l_text: number;
  l_kg?: number;
  lr: number;
  accuracy: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  key: string;
  label: string;
  /** A colour, or a CSS variable as var(--name) (resolved by the chart for the theme). */
  color: string;
  axis: 'y' | 'y1';
  points: Point[];
  /** Drawn dashed (a second quantity on the right axis). */
  dashed?: boolean;
}

export type Metric = 'loss' | LossTerm | 'accuracy';

export const METRIC_LABELS: Record<Metric, string> = {
  loss: 'total loss',
  l_ce: 'L_ce (classification)',
  l_gate: 'L_gate (gate)',
  l_text: 'L_text (text)',
  l_kg: 'L_kg (KgCoOp)',
  accuracy: 'train accuracy (smoothed)'
};

const TERM_COLORS: Record<LossTerm, string> = { l_ce: '#2f6fde', l_gate: '#d9480f', l_text: '#2b8a3e', l_kg: '#c2255c' };

/** Distinct on light and dark backgrounds; run i of a comparison takes colour i. */
export const RUN_COLORS = ['#3b82f6', '#f97316', '#22c55e', '#ef4444', '#a855f7', '#14b8a6', '#eab308', '#ec4899'];

/** Per-batch accuracy is noisy with small batches: an exponential moving average (0.9 of the past). */
export function smoothed(values: readonly number[], keep = 0.9): number[] {
  const out: number[] = [];
  let s: number | null = null;
  for (const v of values) {
    s = s === null ? v : keep * s + (1 - keep) * v;
    out.push(s);
  }
  return out;
}

/** The loss terms a method's curves show besides the total (a one-term method shows the total only). */
export function termsOf(method: string): readonly LossTerm[] {
  return methodSpec(method)?.terms ?? ['l_ce', 'l_gate', 'l_text'];
}

/** Whether a method's steps have a learning rate and a train accuracy worth drawing. */
export function hasTrainingCurves(method: string): boolean {
  return methodSpec(method)?.trainsPrompts ?? true;
}

function values(steps: readonly CurveStep[], metric: Metric): Point[] {
  if (metric === 'accuracy') {
    const acc = smoothed(steps.map((s) => s.accuracy));
    return steps.map((s, i) => ({ x: s.step, y: acc[i]! }));
  }
  return steps.filter((s) => typeof s[metric] === 'number').map((s) => ({ x: s.step, y: s[metric] as number }));
}

/** One run: its total loss, the terms its method uses, train accuracy and the learning rate (as a share of its peak; right axis). */
export function runSeries(method: string, steps: readonly CurveStep[]): Series[] {
  const series: Series[] = [{ key: 'loss', label: 'loss', color: 'var(--text)', axis: 'y', points: values(steps, 'loss') }];
  for (const term of termsOf(method))
    series.push({ key: term, label: METRIC_LABELS[term].replace(/ \(.*\)$/, ''), color: TERM_COLORS[term], axis: 'y', points: values(steps, term) });
  if (hasTrainingCurves(method)) {
    series.push({ key: 'accuracy', label: METRIC_LABELS.accuracy, color: '#ae3ec9', axis: 'y1', points: values(steps, 'accuracy') });
    // On the 0–1 axis as a share of its peak (a rate of 0.032 would not fit as it is), the peak named in the legend.
    const peak = steps.reduce((m, s) => Math.max(m, s.lr), 0);
    series.push({
      key: 'lr',
      label: `learning rate (÷ peak ${peak > 0 ? Number(peak.toPrecision(3)) : 0})`,
      color: '#868e96',
      axis: 'y1',
      dashed: true,
      points: steps.map((s) => ({ x: s.step, y: peak > 0 ? s.lr / peak : 0 }))
    });
  }
  return series;
}

/** The metrics runs of these methods can be compared on: the total, every term one of them uses, and train accuracy when one trains prompts. */
export function comparableMetrics(methods: readonly string[]): Metric[] {
  const terms = new Set(methods.flatMap((m) => termsOf(m)));
  const order: LossTerm[] = ['l_ce', 'l_gate', 'l_text', 'l_kg'];
  return ['loss', ...order.filter((t) => terms.has(t)), ...(methods.some(hasTrainingCurves) ? (['accuracy'] as const) : [])];
}

/** Several runs on one metric: one line per run that has it, named as the run is named. */
export function compareSeries(runs: readonly { id: string; label: string; method: string; steps: readonly CurveStep[] }[], metric: Metric): Series[] {
  return runs
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => metric === 'loss' || (metric === 'accuracy' ? hasTrainingCurves(r.method) : termsOf(r.method).includes(metric)))
    .map(({ r, i }) => ({ key: r.id, label: r.label, color: RUN_COLORS[i % RUN_COLORS.length]!, axis: 'y' as const, points: values(r.steps, metric) }));
}

/** Point markers for few points (each step visible), none for many (a line only). */
export function pointRadius(points: number): number {
  if (points <= 1) return 4;
  if (points <= 60) return 3;
  if (points <= 150) return 1.5;
  return 0;
}
