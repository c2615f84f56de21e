import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff } from '../../helpers/arrays';
import { clusteredData as clusteredFeatures } from '../../helpers/clustered-data';
import { ClipEngine } from '../../../src-main/clip/engine';
import { tf } from '../../../src-main/clip/tf';
import { baseNewSplit, harmonicMean, sampleFewShot } from '../../../src-main/mocoop/fewshot';
import { predict } from '../../../src-main/mocoop/inference';
import { fitLinearProbe } from '../../../src-main/mocoop/linear-probe';
import {
  PAPER_DEFAULTS,
  type StepEvent,
  type TrainData,
  type TrainSettings,
  TrainingDivergedError,
  learningRate,
  stepsPerEpoch,
  trainPrompts
} from '../../../src-main/mocoop/trainer';
import { SCHEDULES, SCHEDULE_NAMES, WARMUP_LR, coopEpochs, defaultSchedule, scheduleFor } from '../../../src-main/contract/schedules';
import { TINY_CLIP } from '../../helpers/fixtures';
import { backendForTest, useBackend } from '../../helpers/tf-backend';

const FIXTURE = TINY_CLIP;

/** Clustered features with a virtual class and three template groups. */
const clusteredData = (classes: string[], perClass: number, dim: number, seed: number): TrainData =>
  clusteredFeatures(classes, perClass, dim, seed, {
    virtualNames: ['zebra'],
    groups: [['a photo of a {}.', 'a picture of a {}.'], ['itap of a {}.', 'art of the {}.'], ['a {} in the wild.']]
  });

describe('prompt training on the tiny model', () => {
  let engine: ClipEngine;
  useBackend('wasm');
  beforeAll(async () => {
    engine = ClipEngine.load(FIXTURE, { textGradients: true });
  });
  afterAll(() => engine?.dispose());

  const settings = (over: Partial<TrainSettings> = {}): TrainSettings => ({
    ...PAPER_DEFAULTS,
    method: 'mocoop',
    epochs: 12,
    lr: 0.05,
    batchSize: 8,
    warmupEpochs: 1,
    ...over
  });

  it('MoCoOp: the classification loss falls, training accuracy rises well above chance, and a seed reproduces every number', async () => {
    const data = clusteredData(['ant', 'bee', 'wasp', 'moth'], 8, engine.dim, 3);
    const events: StepEvent[] = [];
    const result = await trainPrompts(engine, data, settings({ lr: 0.01 }), { onStep: (e) => events.push(e) });
    expect(events).toHaveLength(12 * 4);
    const firstEpoch = events.filter((e) => e.epoch === 1);
    const lastEpoch = events.filter((e) => e.epoch === 11);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // The text loss keeps the experts near their hand-written prompts, so it may rise a little while L_ce falls.
    expect(mean(lastEpoch.map((e) => e.l_ce))).toBeLessThan(0.7 * mean(firstEpoch.map((e) => e.l_ce)));
    const hits = data.features.filter((f, n) => predict(result.table, f, [0, 1, 2, 3]).predicted === data.labels[n]).length;
    expect(hits / data.features.length).toBeGreaterThanOrEqual(0.75);
    expect(events[0]!.lr).toBe(1e-5);
    expect(events[4]!.lr).toBeCloseTo(learningRate({ lr: 0.01, epochs: 12, warmupEpochs: 1, warmupLr: 1e-5 }, 1), 10);

    const again: StepEvent[] = [];
    const before = tf.memory().numTensors;
    await trainPrompts(engine, data, settings({ lr: 0.01 }), { onStep: (e) => again.push(e) });
    expect(tf.memory().numTensors).toBe(before);
    expect(again.map((e) => [e.loss, e.l_ce, e.l_gate, e.l_text])).toEqual(events.map((e) => [e.loss, e.l_ce, e.l_gate, e.l_text]));
  });

  it('CoOp and KgCoOp train one expert with the classification loss only', async () => {
    const data = clusteredData(['ant', 'bee', 'wasp'], 6, engine.dim, 5);
    const coop: StepEvent[] = [];
    const r = await trainPrompts(engine, data, settings({ method: 'coop', epochs: 6 }), { onStep: (e) => coop.push(e) });
    expect(r.table.experts).toBe(1);
    expect(coop.every((e) => e.loss === e.l_ce)).toBe(true);
    const kg: StepEvent[] = [];
    await trainPrompts(engine, data, settings({ method: 'kgcoop', epochs: 2 }), { onStep: (e) => kg.push(e) });
    // The knowledge-guided term is exactly 0 at initialisation (prompt = hand-written prompt), then positive.
    expect(kg[0]!.loss).toBeCloseTo(kg[0]!.l_ce, 5);
    expect(kg.at(-1)!.loss).toBeGreaterThan(kg.at(-1)!.l_ce);
  });

  it('without the text loss the virtual classes do not enter the steps, yet the final table has their rows', async () => {
    const data = clusteredData(['ant', 'bee', 'wasp'], 6, engine.dim, 5);
    for (const method of ['coop', 'mocoop-no-text'] as const) {
      const withVirtual: StepEvent[] = [];
      const without: StepEvent[] = [];
      const r = await trainPrompts(engine, data, settings({ method, epochs: 2 }), { onStep: (e) => withVirtual.push(e) });
      const plain = await trainPrompts(engine, { ...data, virtualNames: [] }, settings({ method, epochs: 2 }), { onStep: (e) => without.push(e) });
      expect(withVirtual.map((e) => e.loss)).toEqual(without.map((e) => e.loss));
      expect(r.table.classes).toBe(4);
      expect(plain.table.classes).toBe(3);
      // The real classes' rows are the same; the virtual class's row is a unit vector of its own.
      const P = r.table.dim;
      const rowsOf = (t: typeof r.table, j: number, c: number) => t.features.subarray((j * t.classes + c) * P, (j * t.classes + c + 1) * P);
      for (let j = 0; j < r.table.experts; j++) {
        for (let c = 0; c < 3; c++) expect(maxAbsDiff(rowsOf(r.table, j, c), rowsOf(plain.table, j, c))).toBeLessThan(1e-5);
        expect(Math.hypot(...rowsOf(r.table, j, 3))).toBeCloseTo(1, 5);
      }
    }
  });

  it('a run stopped mid-way resumes from its last checkpoint and ends exactly like an uninterrupted run', async () => {
    const data = clusteredData(['ant', 'bee', 'wasp'], 6, engine.dim, 9);
    const full: StepEvent[] = [];
    const whole = await trainPrompts(engine, data, settings({ epochs: 5 }), { onStep: (e) => full.push(e) });
    let checkpoint: Buffer | undefined;
    let steps = 0;
    const partial = await trainPrompts(engine, data, settings({ epochs: 5 }), {
      onEpoch: (_, c) => (checkpoint = c),
      onStep: () => steps++,
      shouldStop: () => steps >= 7
    });
    expect(partial.stopped).toBe(true);
    // 18 images in batches of 8: two whole batches per epoch (the last 2 images dropped, as Dassl), so
    // the 7th step is the first of epoch 3 and epoch 2 (0-based) is the last checkpoint.
    expect(full).toHaveLength(5 * 2);
    expect(partial.lastEpoch).toBe(2);
    const resumed: StepEvent[] = [];
    const rest = await trainPrompts(engine, data, settings({ epochs: 5 }), { onStep: (e) => resumed.push(e) }, checkpoint);
    expect(resumed.map((e) => e.loss)).toEqual(full.slice(6).map((e) => e.loss));
    expect(Array.from(rest.table.features)).toEqual(Array.from(whole.table.features));
  });

  it('released-code preset: trains, learns the correction vector, and classifies by f·m', async () => {
    const data = clusteredData(['ant', 'bee', 'wasp', 'moth'], 8, engine.dim, 3);
    const events: StepEvent[] = [];
    const result = await trainPrompts(engine, data, settings({ preset: 'released-code', lr: 0.01 }), { onStep: (e) => events.push(e) });
    expect(result.table.mixing).toBe('dot');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(events.filter((e) => e.epoch === 11).map((e) => e.l_ce))).toBeLessThan(0.7 * mean(events.filter((e) => e.epoch === 1).map((e) => e.l_ce)));
    // The gate loss is a cross-entropy against a target that puts almost all mass on two experts: ≥ 0.
    expect(events.every((e) => e.l_gate >= 0 && Number.isFinite(e.l_text))).toBe(true);
    // Logits are CLIP's logit scale × f·m: the first CE is far from the paper preset's (τ = 0.07).
    const paper: StepEvent[] = [];
    await trainPrompts(engine, data, settings({ epochs: 1 }), { onStep: (e) => paper.push(e) });
    expect(events[0]!.l_ce).not.toBeCloseTo(paper[0]!.l_ce, 3);
    const hits = data.features.filter((f, n) => predict(result.table, f, [0, 1, 2, 3]).predicted === data.labels[n]).length;
    expect(hits / data.features.length).toBeGreaterThanOrEqual(0.5); // chance is 0.25
  });

  it("trains the paper schedule (lasp-25) at Dassl's learning rate in every epoch, with whole batches only", async () => {
    // 3 classes × 3 images = 9 in batches of 4: two whole batches per epoch, the 9th image dropped.
    const data = clusteredData(['ant', 'bee', 'wasp'], 3, engine.dim, 13);
    const lasp = scheduleFor('lasp-25', 16);
    const events: StepEvent[] = [];
    await trainPrompts(engine, data, settings({ ...lasp, batchSize: 4, lr: 0.032 }), { onStep: (e) => events.push(e) });
    expect(events).toHaveLength(25 * 2);
    for (let e = 0; e < 25; e++) {
      const expected = e < 3 ? 1e-5 : 0.032 * 0.5 * (1 + Math.cos((Math.PI * (e - 3)) / 25));
      const inEpoch = events.filter((x) => x.epoch === e);
      expect(inEpoch).toHaveLength(2);
      for (const x of inEpoch) expect(x.lr).toBeCloseTo(expected, 14);
    }
    // The first epoch after the warm-up trains at the full rate (the cosine restarts there).
    expect(events.find((x) => x.epoch === 3)!.lr).toBe(0.032);
  });

  it('refuses K larger than the number of groups and an empty group list', async () => {
    const data = clusteredData(['ant', 'bee'], 2, engine.dim, 1);
    await expect(trainPrompts(engine, data, settings({ topK: 4 }))).rejects.toThrow(/between 1 and the number of groups \(3\)/);
    await expect(trainPrompts(engine, { ...data, groups: [] }, settings())).rejects.toThrow(/no template groups/);
    // The tokenisation check at expert build: "bees" is not "bee" + "s".
    await expect(trainPrompts(engine, { ...data, groups: [['a photo of a {}.'], ['many {}s in the wild.']] }, settings({ topK: 1 }))).rejects.toThrow(
      /^Template "many \{\}s in the wild\." with the class "ant" does not tokenise/
    );
  });
});

/**
 * Dassl's scheduler, step by step, as an independent reference: torch's CosineAnnealingLR in its
 * chainable form (each epoch's rate from the optimizer's current one) wrapped in Dassl's
 * ConstantWarmupScheduler, WARMUP_RECOUNT = True, stepped once after every epoch.
 */
function dasslRates(base: number, epochs: number, warmup: number, consLr: number): number[] {
  let groupLr = base;
  // successor = CosineAnnealingLR(optimizer, T_max = epochs): its constructor steps once (last_epoch 0).
  const successor = { lastEpoch: 0, lastLr: base };
  const successorStep = () => {
    successor.lastEpoch++;
    const t = successor.lastEpoch;
    const next =
      (t - 1 - epochs) % (2 * epochs) === 0
        ? groupLr + (base * (1 - Math.cos(Math.PI / epochs))) / 2
        : ((1 + Math.cos((Math.PI * t) / epochs)) / (1 + Math.cos((Math.PI * (t - 1)) / epochs))) * groupLr;
    groupLr = next;
    successor.lastLr = next;
  };
  // ConstantWarmupScheduler(optimizer, successor, warmup, consLr): its constructor steps once too.
  const warm = { lastEpoch: 0 };
  const warmGetLr = () => (warm.lastEpoch >= warmup ? successor.lastLr : consLr);
  groupLr = warmup > 0 ? warmGetLr() : base;
  const rates: number[] = [];
  for (let e = 0; e < epochs; e++) {
    rates.push(groupLr);
    if (warmup > 0 && warm.lastEpoch < warmup) {
      warm.lastEpoch++;
      groupLr = warmGetLr();
    } else successorStep();
  }
  return rates;
}

describe('published schedules', () => {
  it("every schedule's learning rate at every epoch equals Dassl's (lr = base·½(1+cos(π(e−W)/E)) after W warm-up epochs at 1e-5)", () => {
    for (const name of SCHEDULE_NAMES) {
      for (const shots of [1, 4, 16]) {
        const s = scheduleFor(name, shots);
        const reference = dasslRates(s.lr, s.epochs, s.warmupEpochs, WARMUP_LR);
        for (let e = 0; e < s.epochs; e++) {
          const ours = learningRate({ ...s, warmupLr: WARMUP_LR }, e);
          const formula = e < s.warmupEpochs ? WARMUP_LR : s.lr * 0.5 * (1 + Math.cos((Math.PI * (e - s.warmupEpochs)) / s.epochs));
          expect(ours).toBeCloseTo(formula, 15);
          expect(Math.abs(ours - reference[e]!)).toBeLessThan(1e-12 * s.lr);
        }
      }
    }
  });

  it('states the published settings of each schedule and the default per method', () => {
    expect(scheduleFor('lasp-25', 16)).toEqual({ epochs: 25, warmupEpochs: 3, lr: 0.032, batchSize: 32 });
    expect(scheduleFor('lasp-50', 16)).toEqual({ epochs: 50, warmupEpochs: 5, lr: 0.032, batchSize: 32, lambda2: 10 });
    expect(scheduleFor('lasp-300', 16)).toEqual({ epochs: 300, warmupEpochs: 7, lr: 0.032, batchSize: 32 });
    expect(scheduleFor('batch1-10', 16)).toEqual({ epochs: 10, warmupEpochs: 1, lr: 0.002, batchSize: 1 });
    // CoOp: 50 epochs for 1–2 shots, 100 for 4–8, 200 for 16 (hand-picked sets: as 16).
    expect([1, 2, 4, 8, 16, null].map((k) => scheduleFor('coop', k).epochs)).toEqual([50, 50, 100, 100, 200, 200]);
    expect(coopEpochs(2)).toBe(50);
    expect(scheduleFor('coop', 4)).toMatchObject({ lr: 0.002, warmupEpochs: 1, batchSize: 32 });
    expect(defaultSchedule('mocoop')).toBe('lasp-25');
    expect(defaultSchedule('mocoop-no-text')).toBe('lasp-25');
    expect(defaultSchedule('coop')).toBe('coop');
    expect(defaultSchedule('kgcoop')).toBe('kgcoop');
    expect(SCHEDULES.every((s) => s.explanation.length > 10 && !s.explanation.includes('\n'))).toBe(true);
  });

  it('drops the last partial batch unless the set is smaller than one batch', () => {
    expect(stepsPerEpoch(18, 8)).toBe(2);
    expect(stepsPerEpoch(16, 8)).toBe(2);
    expect(stepsPerEpoch(5, 8)).toBe(1);
    expect(stepsPerEpoch(8, 8)).toBe(1);
    expect(stepsPerEpoch(7, 1)).toBe(7);
    expect(stepsPerEpoch(0, 4)).toBe(0);
  });
});

describe('linear probe', () => {
  it('fits separable clusters and cannot score classes it never saw', async () => {
    await backendForTest('cpu');
    const data = clusteredData(['ant', 'bee', 'wasp'], 10, 16, 4);
    const probe = fitLinearProbe(data.features, data.labels, 3, { maxIterations: 200 });
    const table = {
      experts: 1,
      classes: 4,
      dim: 16,
      features: new Float32Array(64),
      W: new Float32Array(16),
      b: new Float32Array(1),
      topK: 1,
      linear: { weights: probe.weights, bias: probe.bias }
    };
    const hits = data.features.filter((f, n) => predict(table, f, [0, 1, 2]).predicted === data.labels[n]).length;
    expect(hits).toBe(30);
    expect(predict(table, data.features[0]!, [3]).predicted).toBe(-1);
  });
});

describe('few-shot protocols', () => {
  const items = Array.from({ length: 30 }, (_, i) => ({ id: i + 1, classId: (i % 3) + 1 }));
  it('samples k per class without replacement, seeded, keeping all when a class has fewer', () => {
    const a = sampleFewShot(items, 4, 1);
    expect(a).toHaveLength(12);
    expect(new Set(a.map((x) => x.id)).size).toBe(12);
    for (const c of [1, 2, 3]) expect(a.filter((x) => x.classId === c)).toHaveLength(4);
    expect(sampleFewShot([...items].reverse(), 4, 1)).toEqual(a);
    expect(sampleFewShot(items, 4, 2)).not.toEqual(a);
    expect(sampleFewShot(items.slice(0, 5), 4, 1).filter((x) => x.classId === 3)).toHaveLength(1);
    // A class's sample does not depend on which other classes are sampled with it.
    const withoutClass1 = sampleFewShot(
      items.filter((x) => x.classId !== 1),
      4,
      1
    );
    expect(withoutClass1).toEqual(a.filter((x) => x.classId !== 1));
  });

  it('splits base and new classes by label order, base taking ceil(n/2)', () => {
    expect(baseNewSplit(['a', 'b', 'c', 'd', 'e'])).toEqual({ base: ['a', 'b', 'c'], new: ['d', 'e'] });
    expect(harmonicMean(0.8, 0.6)).toBeCloseTo(0.6857142857, 8);
  });
});

describe('a diverging run', () => {
  it('stops as soon as the loss or the gradients are not finite, naming the step and the learning rate', async () => {
    await backendForTest('cpu');
    const engine = ClipEngine.load(FIXTURE, { textGradients: true });
    try {
      const data = clusteredData(['ant', 'bee'], 4, engine.dim, 2);
      const settings: TrainSettings = { ...PAPER_DEFAULTS, method: 'mocoop', epochs: 5, lr: 1e12, warmupEpochs: 0, batchSize: 4, topK: 1 };
      const steps: StepEvent[] = [];
      const before = tf.memory().numTensors;
      const error = await trainPrompts(engine, data, settings, { onStep: (e) => steps.push(e) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TrainingDivergedError);
      expect((error as Error).message).toMatch(
        /^Training diverged at step \d+ \(epoch \d+\): the (loss is (NaN|Infinity|-Infinity)|gradients are) not a finite number\. Lower the learning rate \(it is 1000000000000\)/
      );
      expect(steps.length).toBeLessThan(10);
      expect(steps.every((s) => Number.isFinite(s.loss))).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      engine.dispose();
    }
  });
});
