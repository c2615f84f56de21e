import { describe, expect, it } from 'vitest';
import { METHOD_SPECS, TRAIN_SETTING_KEYS, keepApplying, settingApplies, settingsNotApplying } from '../../../src-main/contract/method-settings';
import { TrainMethodName } from '../../../src-main/contract/schemas';
import { comparableMetrics, compareSeries, pointRadius, runSeries, smoothed } from '../../../src-renderer/src/lib/curves';
import { type StepTime, describeEta, estimateEta, formatSeconds, plannedTotalSteps, stepsPerEpoch } from '../../../src-renderer/src/lib/eta';
import { queuedDescription, runLabel } from '../../../src-renderer/src/lib/methods';

/** Arrivals: the first step after `first` ms (compilation, features), then one every `each` ms. */
const arrivals = (n: number, first: number, each: number, from = 1): StepTime[] =>
  Array.from({ length: n }, (_, i) => ({ step: from + i, at: first + i * each }));

describe('time left from measured step times', () => {
  it('says "estimating" until steps after the warm-up are measured, never extrapolating the first step', () => {
    // The first step took 30 s (compiling, encoding); the others 0.5 s. A 100-step run.
    const times = arrivals(6, 30_000, 500);
    expect(estimateEta(times.slice(0, 1), 100)).toEqual({ kind: 'estimating' });
    expect(estimateEta(times.slice(0, 5), 100)).toEqual({ kind: 'estimating' });
    const eta = estimateEta(times, 100);
    expect(eta.kind).toBe('eta');
    // 94 steps left at 0.5 s: 47 s — not 94 × (30 s + 2.5 s) / 6 as an average from the start would say.
    expect(eta).toMatchObject({ seconds: 47, secondsPerStep: 0.5 });
  });

  it('follows the recent rate (window) and counts down within the step in progress, never below the next step', () => {
    const slow = arrivals(20, 0, 1000);
    const fast = arrivals(60, 20_000, 100, 21);
    const eta = estimateEta([...slow, ...fast], 200, undefined, { window: 50 });
    expect(eta.kind === 'eta' && eta.secondsPerStep).toBeCloseTo(0.1, 5);
    const last = fast.at(-1)!;
    const now = estimateEta([...slow, ...fast], 200, last.at + 50);
    expect(now.kind === 'eta' && now.seconds).toBeCloseTo((200 - 80) * 0.1 - 0.05, 5);
    // A step that takes much longer than usual counts down one step's worth only.
    const late = estimateEta([...slow, ...fast], 200, last.at + 60_000);
    expect(late.kind === 'eta' && late.seconds).toBeCloseTo((200 - 80) * 0.1 - 0.1, 5);
  });

  it('is unknown without a total, and 0 s at the last step', () => {
    expect(estimateEta(arrivals(10, 0, 100), null)).toEqual({ kind: 'unknown' });
    expect(estimateEta(arrivals(10, 0, 100), 10)).toMatchObject({ kind: 'eta', seconds: 0 });
    expect(describeEta({ kind: 'estimating' })).toBe('estimating time left…');
    expect(describeEta({ kind: 'eta', seconds: 65.2, secondsPerStep: 1 })).toBe('about 1 min 06 s left');
    expect(formatSeconds(3725)).toBe('1 h 02 min');
  });

  it('a reloaded page measures the steps it sees arrive, with the same warm-up', () => {
    // Steps 301… arrive after the reload: the first arrivals are not measured either.
    const times = arrivals(4, 0, 200, 301);
    expect(estimateEta(times, 500).kind).toBe('estimating');
    expect(estimateEta(arrivals(7, 0, 200, 301), 500)).toMatchObject({ kind: 'eta', secondsPerStep: 0.2 });
  });
});

describe('the steps of a whole run', () => {
  it('uses whole batches (the last partial one dropped), one step for a set smaller than a batch', () => {
    expect(stepsPerEpoch(100, 32)).toBe(3);
    expect(stepsPerEpoch(20, 32)).toBe(1);
    expect(stepsPerEpoch(0, 32)).toBe(0);
  });

  it('estimates from the set, then knows exactly once an epoch ended', () => {
    expect(plannedTotalSteps({ epochs: 25, batchSize: 32, images: 384, seen: [] })).toBe(300);
    expect(plannedTotalSteps({ epochs: 25, batchSize: 32, images: null, seen: [] })).toBeNull();
    // 3 images missing: 11 steps an epoch, not 12. The last step of epoch 0 and the first of epoch 1 tell.
    const seen = [...Array.from({ length: 11 }, (_, i) => ({ step: i + 1, epoch: 0 })), { step: 12, epoch: 1 }];
    expect(plannedTotalSteps({ epochs: 25, batchSize: 32, images: 384, seen })).toBe(275);
    expect(plannedTotalSteps({ epochs: 25, batchSize: 32, images: null, seen })).toBe(275);
    // Seen steps beyond the estimate raise it.
    expect(plannedTotalSteps({ epochs: 10, batchSize: 32, images: 64, seen: [{ step: 5, epoch: 0 }] })).toBe(50);
    expect(plannedTotalSteps({ epochs: null, batchSize: 32, images: 64, seen: [] })).toBeNull();
  });
});

describe('which setting applies to which method', () => {
  it('covers every method of the contract', () => {
    for (const method of TrainMethodName.options) expect(METHOD_SPECS[method], method).toBeDefined();
  });

  it('hides K, the preset and the gate and text weights for CoOp; everything for zero-shot; prompt settings for the linear probe', () => {
    expect(settingApplies('coop', 'topK')).toBe(false);
    expect(settingApplies('coop', 'preset')).toBe(false);
    expect(settingApplies('coop', 'lambda1')).toBe(false);
    expect(settingApplies('coop', 'lambda2')).toBe(false);
    expect(settingApplies('coop', 'epochs')).toBe(true);
    expect(settingApplies('kgcoop', 'lambdaKg')).toBe(true);
    expect(settingApplies('mocoop', 'lambdaKg')).toBe(false);
    expect(settingApplies('mocoop-no-gate', 'lambda1')).toBe(false);
    expect(settingApplies('mocoop-no-text', 'lambda2')).toBe(false);
    expect(TRAIN_SETTING_KEYS.filter((k) => settingApplies('zeroshot', k))).toEqual([]);
    expect(TRAIN_SETTING_KEYS.filter((k) => settingApplies('linear-probe', k))).toEqual([]);
    // A method the table does not know hides nothing.
    expect(settingApplies('some-new-baseline', 'topK')).toBe(true);
  });

  it('names what does not apply, and keeps only what does', () => {
    expect(settingsNotApplying('coop', { topK: 2, epochs: 5, loss: { lambda1: 1, tauCe: 0.05 } })).toEqual(['topK', 'lambda1']);
    expect(settingsNotApplying('mocoop', { topK: 2, loss: { lambda1: 1 } })).toEqual([]);
    expect(settingsNotApplying('coop', { topK: undefined, preset: undefined })).toEqual([]);
    expect(keepApplying('coop', { modelId: 'm', method: 'coop', topK: 2, preset: 'paper' as const, epochs: 5, loss: { lambda1: 1, tauCe: 0.05 } })).toEqual({
      modelId: 'm',
      method: 'coop',
      epochs: 5,
      loss: { tauCe: 0.05 }
    });
    expect(keepApplying('zeroshot', { modelId: 'm', method: 'zeroshot', setId: 3, seed: 1, loss: { lambda1: 1 } })).toEqual({
      modelId: 'm',
      method: 'zeroshot',
      setId: 3
    });
  });
});

describe('what the charts draw', () => {
  const steps = Array.from({ length: 5 }, (_, i) => ({
    step: i + 1,
    epoch: 0,
    loss: 2 - i * 0.1,
    l_ce: 1,
    l_gate: 0.5,
    l_text: 0.4,
    l_kg: 0.3,
    lr: 0.01,
    accuracy: i % 2
  }));

  it('plots only the loss terms the method uses', () => {
    expect(runSeries('mocoop', steps).map((s) => s.key)).toEqual(['loss', 'l_ce', 'l_gate', 'l_text', 'accuracy', 'lr']);
    expect(runSeries('mocoop-no-gate', steps).map((s) => s.key)).toEqual(['loss', 'l_ce', 'l_text', 'accuracy', 'lr']);
    expect(runSeries('coop', steps).map((s) => s.key)).toEqual(['loss', 'accuracy', 'lr']);
    expect(runSeries('kgcoop', steps).map((s) => s.key)).toEqual(['loss', 'l_ce', 'l_kg', 'accuracy', 'lr']);
    expect(runSeries('linear-probe', steps).map((s) => s.key)).toEqual(['loss']);
    expect(runSeries('mocoop', steps).find((s) => s.key === 'lr')!.points[0]).toEqual({ x: 1, y: 1 });
  });

  it('compares runs on one metric, one line per run named as the run', () => {
    const runs = [
      { id: 'a', label: 'baseline', method: 'mocoop', steps },
      { id: 'b', label: 'b', method: 'coop', steps }
    ];
    expect(comparableMetrics(['mocoop', 'coop'])).toEqual(['loss', 'l_ce', 'l_gate', 'l_text', 'accuracy']);
    expect(comparableMetrics(['coop', 'linear-probe'])).toEqual(['loss', 'accuracy']);
    expect(compareSeries(runs, 'loss').map((s) => s.label)).toEqual(['baseline', 'b']);
    // CoOp has no gate loss: only the MoCoOp run has that line; colours stay with the run.
    const gate = compareSeries(runs, 'l_gate');
    expect(gate.map((s) => s.label)).toEqual(['baseline']);
    expect(compareSeries(runs, 'loss')[1]!.color).not.toBe(gate[0]!.color);
  });

  it('smooths accuracy with a moving average and marks few points', () => {
    const s = smoothed([0, 1, 1]);
    expect(s[0]).toBe(0);
    expect(s[1]).toBeCloseTo(0.1, 12);
    expect(s[2]).toBeCloseTo(0.19, 12);
    expect(pointRadius(8)).toBeGreaterThan(0);
    expect(pointRadius(5000)).toBe(0);
  });
});

describe('runs for people', () => {
  it('calls a run by its name, else its id; the queue says set and seed', () => {
    expect(runLabel({ id: 'mocoop-1', name: 'K=2' })).toBe('K=2');
    expect(runLabel({ id: 'mocoop-1', name: '  ' })).toBe('mocoop-1');
    const sets = [{ id: 3, name: '16-shot' }];
    expect(queuedDescription({ method: 'mocoop', setId: 3, seed: 2, topK: 2, name: 'try' }, sets)).toBe('MoCoOp · "try" · 16-shot · K 2 · seed 2');
    expect(queuedDescription({ method: 'zeroshot', setId: 3, seed: 2 }, sets)).toBe('Zero-shot CLIP · 16-shot');
  });
});
