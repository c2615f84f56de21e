/**
 * Training progress for people: how many steps a run has in all, and how long the rest will take,
 * estimated from measured step times only (pure functions; the Train page feeds them arrival times).
 */

/** When a step arrived (ms, any monotonic clock). */
export interface StepTime {
  step: number;
  at: number;
}

export type Eta =
  /** Not enough measured steps yet (the first ones include compiling the graph and encoding images). */
  | { kind: 'estimating' }
  /** The total is unknown: counts only. */
  | { kind: 'unknown' }
  | { kind: 'eta'; seconds: number; secondsPerStep: number };

export interface EtaOptions {
  /** Arrivals left out at the start of a session: the first step's time includes compilation and feature extraction, the next few warm up. */
  warmupSteps?: number;
  /** Measured step intervals needed after the warm-up before an estimate is given. */
  minIntervals?: number;
  /** Most recent intervals averaged (the rate follows the run when it speeds up or slows down). */
  window?: number;
}

/**
 * The time left for `totalSteps`, from the arrival times of this session's steps (in order). The
 * first `warmupSteps` arrivals are not measured; until `minIntervals` intervals are, it says
 * "estimating". With `now`, the time already spent on the step in progress is counted down (at most
 * one step's worth, so a slow step never shows 0 s).
 */
export function estimateEta(times: readonly StepTime[], totalSteps: number | null, now?: number, options: EtaOptions = {}): Eta {
  const warmup = options.warmupSteps ?? 2;
  const minIntervals = options.minIntervals ?? 3;
  const window = options.window ?? 50;
  if (totalSteps === null || !Number.isFinite(totalSteps)) return { kind: 'unknown' };
  const measured = times.slice(warmup);
  if (measured.length < minIntervals + 1) return { kind: 'estimating' };
  const last = measured[measured.length - 1]!;
  const first = measured[Math.max(0, measured.length - 1 - window)]!;
  const steps = last.step - first.step;
  const seconds = (last.at - first.at) / 1000;
  if (steps <= 0 || !(seconds >= 0)) return { kind: 'estimating' };
  const secondsPerStep = seconds / steps;
  const left = Math.max(0, totalSteps - last.step) * secondsPerStep;
  const spent = now === undefined ? 0 : Math.min(Math.max(0, (now - last.at) / 1000), secondsPerStep);
  return { kind: 'eta', seconds: Math.max(0, left - (left > 0 ? spent : 0)), secondsPerStep };
}

/** Steps per epoch: whole batches only, the last partial batch dropped (as Dassl); a set smaller than one batch is one step. */
export function stepsPerEpoch(images: number, batchSize: number): number {
  if (images <= 0 || batchSize <= 0) return 0;
  return images >= batchSize ? Math.floor(images / batchSize) : 1;
}

/**
 * The steps of a whole run: `epochs` × steps per epoch. Steps per epoch come from the steps seen
 * (step s of epoch e says e·P < s ≤ (e+1)·P: exact once an epoch's end has been seen), else from the
 * set's image count and the batch size, kept inside what the steps seen allow. Null when neither
 * tells (no image count, and no epoch's end seen yet).
 */
export function plannedTotalSteps(input: {
  epochs: number | null | undefined;
  batchSize: number | null | undefined;
  images: number | null;
  seen: readonly { step: number; epoch: number }[];
}): number | null {
  const { epochs, batchSize, images, seen } = input;
  if (!epochs || epochs < 1) return null;
  let lower = 1;
  let upper = Infinity;
  for (const { step, epoch } of seen) {
    lower = Math.max(lower, Math.ceil(step / (epoch + 1)));
    if (epoch >= 1) upper = Math.min(upper, Math.floor((step - 1) / epoch));
  }
  let perEpoch: number | null = null;
  if (lower === upper) perEpoch = lower;
  else if (images !== null && batchSize) perEpoch = Math.min(upper, Math.max(lower, stepsPerEpoch(images, batchSize)));
  return perEpoch === null ? null : perEpoch * epochs;
}

/** "45 s", "3 min 05 s", "2 h 10 min". */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** What the progress line says about the time left. */
export function describeEta(eta: Eta): string {
  if (eta.kind === 'estimating') return 'estimating time left…';
  if (eta.kind === 'unknown') return '';
  return eta.seconds < 1 ? 'finishing' : `about ${formatSeconds(eta.seconds)} left`;
}
