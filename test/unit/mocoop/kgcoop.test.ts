import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusteredData as clusteredFeatures } from '../../helpers/clustered-data';
import { ClipEngine } from '../../../src-main/clip/engine';
import { type Tensor, type Tensor1D, type Tensor2D, tf } from '../../../src-main/clip/tf';
import { seededRandom } from '../../../src-main/mocoop/fewshot';
import { type LossContext, hardGate, mocoopLoss, releasedGateTarget } from '../../../src-main/mocoop/losses';
import { PAPER_DEFAULTS, type StepEvent, type TrainData, type TrainSettings, lossSettingsFor, trainPrompts } from '../../../src-main/mocoop/trainer';
import { TINY_CLIP } from '../../helpers/fixtures';
import { useBackend } from '../../helpers/tf-backend';

const FIXTURE = TINY_CLIP;
const PRESETS = ['paper', 'released-code'] as const;

function unitRows(random: () => number, rows: number, dim: number): number[][] {
  return Array.from({ length: rows }, () => {
    const v = Array.from({ length: dim }, () => random() - 0.5);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
}

describe.each(PRESETS)('KgCoOp’s knowledge term under the %s preset', (preset) => {
  useBackend('cpu');

  it('is added to the loss (λ_kg · mean(1 − cos(t, h))) and to its gradient', () => {
    const random = seededRandom(7);
    const C = 3;
    const P = 8;
    const B = 4;
    const settings = lossSettingsFor({ ...PAPER_DEFAULTS, method: 'kgcoop', preset, epochs: 1, lr: 0.01 } as TrainSettings, 1, 100);
    expect(settings.lambdaKg).toBe(8);
    const raw = unitRows(random, C, P).map((r) => r.map((x) => 3 * x));
    const hard = unitRows(random, C, P);
    const features = tf.tensor2d(raw) as Tensor2D;
    const images = tf.tensor2d(unitRows(random, B, P)) as Tensor2D;
    const labels = [0, 1, 2, 0];
    const hardT = tf.tensor3d([hard]) as Tensor;
    const groupFeatures = tf.mean(hardT, [0, 1]).reshape([1, P]) as Tensor2D;
    const W = tf.zeros([1, P]) as Tensor2D;
    const b = tf.zeros([1]) as Tensor1D;
    const prototypes = tf.tensor3d([hard]) as Tensor;
    const ctx = (lambdaKg: number): LossContext => ({
      experts: 1,
      classes: C,
      allClasses: C,
      batch: { images, labels },
      targets: { hard: [hardT], groupFeatures },
      topK: tf.ones([B, 1]) as Tensor2D,
      pHard: hardGate(images, groupFeatures, settings.tauGate),
      settings: { ...settings, lambdaKg },
      released: preset === 'released-code' ? { prototypes, gateTarget: releasedGateTarget(images, prototypes, labels) } : undefined
    });
    const withKg = ctx(8);
    const without = ctx(0);

    // The term itself, by hand: 1 − cos between each class's prompt feature and its hand-written prompt.
    const cos = raw.map((t, c) => t.reduce((s, x, p) => s + x * hard[c]![p]!, 0) / Math.hypot(...t));
    const term = cos.reduce((s, x) => s + (1 - x), 0) / C;
    expect(term).toBeGreaterThan(0.1);

    const a = mocoopLoss(features, W, b, withKg);
    const z = mocoopLoss(features, W, b, without);
    expect(a.L.dataSync()[0]! - z.L.dataSync()[0]!).toBeCloseTo(8 * term, 4);
    expect(a.Lce.dataSync()[0]).toBeCloseTo(z.Lce.dataSync()[0]!, 6);
    expect(a.Lkg.dataSync()[0]).toBeCloseTo(term, 5);

    // Its gradient with respect to the prompt features is added too.
    const gradOf = (c: LossContext) => tf.grad((f: Tensor) => mocoopLoss(f as Tensor2D, W, b, c).L)(features);
    const difference = tf.sub(gradOf(withKg), gradOf(without));
    const termGrad = tf.grad((f: Tensor) => {
      const t = tf.div(f, tf.norm(f, 'euclidean', -1, true));
      return tf.mul(tf.mean(tf.sub(1, tf.sum(tf.mul(t, tf.tensor2d(hard)), -1))), 8);
    })(features);
    expect(tf.norm(difference).dataSync()[0]).toBeGreaterThan(0.1);
    expect(tf.max(tf.abs(tf.sub(difference, termGrad))).dataSync()[0]).toBeLessThan(1e-4);
  });
});

/** Clustered features, one template group, no virtual class. */
const clusteredData = (classes: string[], perClass: number, dim: number, seed: number): TrainData =>
  clusteredFeatures(classes, perClass, dim, seed, { virtualNames: [], groups: [['a photo of a {}.']] });

describe('training KgCoOp on the tiny model', () => {
  let engine: ClipEngine;
  useBackend('wasm');
  beforeAll(async () => {
    engine = ClipEngine.load(FIXTURE, { textGradients: true });
  });
  afterAll(() => engine?.dispose());

  it.each(PRESETS)('%s preset: the loss is L_ce plus λ_kg times a knowledge term that grows from 0', async (preset) => {
    const data = clusteredData(['ant', 'bee', 'wasp'], 6, engine.dim, 5);
    const events: StepEvent[] = [];
    const settings: TrainSettings = { ...PAPER_DEFAULTS, method: 'kgcoop', preset, epochs: 3, lr: 0.05, batchSize: 6, warmupEpochs: 1 };
    await trainPrompts(engine, data, settings, { onStep: (e) => events.push(e) });
    // At initialisation the prompt is the hand-written prompt: the term is exactly 0; then it counts.
    expect(events[0]!.loss).toBeCloseTo(events[0]!.l_ce, 5);
    const last = events.at(-1)!;
    expect(last.loss).toBeGreaterThan(last.l_ce + 1e-4);
    // The step events report it (unweighted).
    expect(events[0]!.l_kg).toBeCloseTo(0, 5);
    expect(last.l_kg).toBeGreaterThan(0);
    expect(last.loss).toBeCloseTo(last.l_ce + settings.lambdaKg * last.l_kg!, 4);
  });
});
