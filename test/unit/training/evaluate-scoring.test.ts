import { describe, expect, it } from 'vitest';
import type { CoCoOpWeights } from '../../../src-main/mocoop/cocoop';
import { type MatchedClass, matchRunClasses } from '../../../src-main/mocoop/class-match';
import type { ExpertTable } from '../../../src-main/mocoop/inference';
import { type ScoredImage, classMatchSummary, scoreImages } from '../../../src-main/training/evaluate';

/**
 * A hand-made table whose answers can be worked out on paper. P = 5: axes 0–3 are the classes cat, dog
 * (base) and owl, fox (new); axis 4 steers the router. Expert 0 holds the right class features (class a
 * = axis a); expert 1 holds them swapped within each side (cat↔dog, owl↔fox), so an image it is routed to
 * is predicted as the other class of its side. Router: logit_0 = 5·x4, logit_1 = −5·x4 (top-1, so the
 * chosen expert's weight is 1). Group prototypes for p_hard: g_0 = axis 4, g_1 = axis 1.
 */
const P = 5;
const e = (axis: number) => Array.from({ length: P }, (_, p) => (p === axis ? 1 : 0));
const table: ExpertTable = {
  experts: 2,
  classes: 4,
  dim: P,
  features: Float32Array.from([...[0, 1, 2, 3].map(e).flat(), ...[1, 0, 3, 2].map(e).flat()]),
  W: Float32Array.from([...[0, 0, 0, 0, 5], ...[0, 0, 0, 0, -5]]),
  b: new Float32Array(2),
  topK: 1,
  groupFeatures: Float32Array.from([...e(4), ...e(1)]),
  tauGate: 0.07,
  mixing: 'cosine',
  logitScale: 10
};

// Test-project class ids: cat 11, dog 12 (base), owl 13, fox 14 (new); 99 is a class the run does not know.
const classes: MatchedClass[] = [
  { row: 0, role: 'base', runName: 'cat', classId: 11, name: 'cat' },
  { row: 1, role: 'base', runName: 'dog', classId: 12, name: 'dog' },
  { row: 2, role: 'new', runName: 'owl', classId: 13, name: 'owl' },
  { row: 3, role: 'new', runName: 'fox', classId: 14, name: 'fox' }
];

const image = (id: number, labelId: number, x: number[]): ScoredImage => ({ id, labelId, features: Float32Array.from(x) });
const images = [
  // cat, routed to expert 0 (right): cat. p_hard: g_0 (1) > g_1 (0.2), agrees.
  image(1, 11, [1, 0.2, 0, 0, 1]),
  // dog, expert 0: dog. p_hard agrees (1 > 0.9).
  image(2, 12, [0.1, 0.9, 0, 0, 1]),
  // dog, expert 1 (swapped): its "cat" row is the dog axis (1 > 0.1), so: cat, wrong. p_hard: g_1 (1) > g_0 (−1), agrees.
  image(3, 12, [0.1, 1, 0, 0, -1]),
  // owl, expert 0: owl (1 > 0.3) among owl and fox only (axis 1 is a base class). p_hard: g_1 (2) > g_0 (1), disagrees.
  image(4, 13, [0, 2, 1, 0.3, 1]),
  // fox, expert 1: its "owl" row is the fox axis (1 > 0.2), so: owl, wrong. p_hard: g_1 (0) > g_0 (−1), agrees.
  image(5, 14, [0, 0, 0.2, 1, -1]),
  // A class the run does not know: never scored.
  image(6, 99, [1, 1, 1, 1, 1])
];

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe('scoring a run’s table (training/evaluate: scoreImages)', () => {
  const scored = scoreImages({ table, images, classes, baseToNew: true, scale: 10 });

  it('scores base images among base classes and new among new: accuracies and H', () => {
    expect(scored.images).toBe(5);
    expect(scored.base_accuracy).toBeCloseTo(2 / 3, 12);
    expect(scored.new_accuracy).toBe(0.5);
    // H = 2·(2/3)·(1/2) / (2/3 + 1/2) = 4/7; overall 3 of 5.
    expect(scored.h).toBeCloseTo(4 / 7, 12);
    expect(scored.accuracy).toBeCloseTo(3 / 5, 12);
    expect(scored.per_class).toEqual([
      { class: 'cat', role: 'base', images: 1, correct: 1, accuracy: 1 },
      { class: 'dog', role: 'base', images: 2, correct: 1, accuracy: 0.5 },
      { class: 'owl', role: 'new', images: 1, correct: 1, accuracy: 1 },
      { class: 'fox', role: 'new', images: 1, correct: 0, accuracy: 0 }
    ]);
  });

  it('counts confusion per block, counts[true][predicted]; the top-level block is the base one', () => {
    const base = {
      classes: ['cat', 'dog'],
      counts: [
        [1, 0],
        [1, 1]
      ]
    };
    const novel = {
      classes: ['owl', 'fox'],
      counts: [
        [1, 0],
        [1, 0]
      ]
    };
    expect(scored.confusion).toEqual({ ...base, base, new: novel });
  });

  it('counts expert usage (router top-1) and agreement with p_hard, overall and per side', () => {
    expect(scored.expert_usage).toEqual({
      load: [3, 2],
      router_agrees_with_p_hard: 4 / 5,
      base: { load: [2, 1], router_agrees_with_p_hard: 1 },
      new: { load: [1, 1], router_agrees_with_p_hard: 0.5 }
    });
  });

  it('predicts every image of a known class, base side first, with its confidence under the scale', () => {
    expect(scored.predictions.map((p) => [p.imageId, p.labelId, p.predictedClassId, p.correct])).toEqual([
      [1, 11, 11, true],
      [2, 12, 12, true],
      [3, 12, 11, false],
      [4, 13, 13, true],
      [5, 14, 13, false]
    ]);
    const [first, , third] = scored.predictions;
    expect(first!.topExperts).toEqual([0]);
    expect(first!.topWeights).toEqual([1]);
    expect(first!.router[0]).toBeCloseTo(sigmoid(10), 12);
    expect(third!.topExperts).toEqual([1]);
    // Scores 1 and 0.2 (cosines with unit rows) at scale 10: softmax gives the cat sigmoid(8).
    expect(first!.confidence).toBeCloseTo(sigmoid(8), 6);
    expect(third!.confidence).toBeCloseTo(sigmoid(9), 6);
    expect(first!.pHard!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(scored.predictions.some((p) => p.imageId === 6)).toBe(false);
  });

  it('without base-to-new, scores every image among every class (role all) and has no blocks per side and no H', () => {
    const all = classes.map((c) => ({ ...c, role: 'base' as const }));
    const plain = scoreImages({ table, images: images.slice(0, 3), classes: all.slice(0, 2), baseToNew: false, scale: 10 });
    expect(plain).toMatchObject({ accuracy: 2 / 3, base_accuracy: null, new_accuracy: null, h: null, images: 3 });
    expect(plain.per_class.map((c) => c.role)).toEqual(['all', 'all']);
    expect(plain.confusion).toEqual({
      classes: ['cat', 'dog'],
      counts: [
        [1, 0],
        [1, 1]
      ]
    });
    expect(plain.expert_usage).toEqual({ load: [2, 1], router_agrees_with_p_hard: 1 });
  });

  it('gives a side without images no accuracy, and then no H; no group prototypes, no agreement', () => {
    const noGate = { ...table, groupFeatures: undefined };
    const baseOnly = scoreImages({ table: noGate, images: images.slice(0, 3), classes, baseToNew: true, scale: 10 });
    expect(baseOnly).toMatchObject({ base_accuracy: 2 / 3, new_accuracy: null, h: null, images: 3, accuracy: 2 / 3 });
    expect(baseOnly.confusion.new).toEqual({
      classes: ['owl', 'fox'],
      counts: [
        [0, 0],
        [0, 0]
      ]
    });
    expect(baseOnly.expert_usage.router_agrees_with_p_hard).toBeNull();
    expect(baseOnly.expert_usage.new).toEqual({ load: [0, 0], router_agrees_with_p_hard: null });
    expect(baseOnly.predictions.every((p) => p.pHard === null)).toBe(true);
  });

  it('counts an image no class can score (a linear probe on new classes) but predicts nothing for it', () => {
    const probe: ExpertTable = {
      experts: 1,
      classes: 4,
      dim: P,
      features: new Float32Array(4 * P),
      W: new Float32Array(P),
      b: new Float32Array(1),
      topK: 1,
      // Weights for the two base classes only: the new classes score −∞.
      linear: { weights: Float32Array.from([...e(0), ...e(1)]), bias: Float32Array.from([0, 0]) },
      logitScale: 1
    };
    const result = scoreImages({ table: probe, images, classes, baseToNew: true, scale: 1 });
    // The probe reads the class axes directly, so image 3 (dog) is right here.
    expect(result.base_accuracy).toBe(1);
    expect(result.new_accuracy).toBe(0);
    expect(result.h).toBe(0);
    expect(result.per_class.slice(2)).toEqual([
      { class: 'owl', role: 'new', images: 1, correct: 0, accuracy: 0 },
      { class: 'fox', role: 'new', images: 1, correct: 0, accuracy: 0 }
    ]);
    expect(result.confusion.new!.counts).toEqual([
      [0, 0],
      [0, 0]
    ]);
    expect(result.predictions.map((p) => [p.imageId, p.predictedClassId])).toEqual([
      [1, 11],
      [2, 12],
      [3, 12]
    ]);
    expect(result.expert_usage.new).toEqual({ load: [0], router_agrees_with_p_hard: null });
  });

  it('takes a CoCoOp table’s scores from the conditional scores given per image', () => {
    const cocoop: ExpertTable = {
      ...table,
      experts: 1,
      W: new Float32Array(P),
      b: new Float32Array(1),
      groupFeatures: undefined,
      conditional: {} as CoCoOpWeights
    };
    // Per image, its scores among its side's classes: the opposite of what the features say for image 1.
    const conditional = new Map<number, number[]>([
      [1, [0.1, 0.3]],
      [2, [0.1, 0.3]],
      [3, [0.3, 0.1]],
      [4, [0.3, 0.1]],
      [5, [0.1, 0.3]]
    ]);
    const result = scoreImages({ table: cocoop, images, classes, baseToNew: true, conditional, scale: 100 });
    expect(result.predictions.map((p) => p.predictedClassId)).toEqual([12, 12, 11, 13, 14]);
    expect(result.base_accuracy).toBeCloseTo(1 / 3, 12);
    expect(result.new_accuracy).toBe(1);
    expect(result.predictions[0]!.confidence).toBeCloseTo(sigmoid(20), 9);
    expect(() => scoreImages({ table: cocoop, images, classes, baseToNew: true, scale: 100 })).toThrow(/text tower/);
  });
});

describe('which classes an evaluation used (training/evaluate: classMatchSummary)', () => {
  it('names used, missing and unknown classes per side and counts the images left out', () => {
    const match = matchRunClasses(
      { base: ['cat', 'dog'], new: ['owl', 'yak'] },
      [
        { id: 11, name: 'cat' },
        { id: 12, name: 'dog' },
        { id: 13, name: 'owl' },
        { id: 99, name: 'emu' },
        { id: 98, name: 'gnu' }
      ],
      false
    );
    // Labels of the labeled images in the evaluated pool: three emus, no gnu.
    expect(classMatchSummary(match, [11, 12, 99, 13, 99, 99])).toEqual({
      run: { used: ['cat', 'dog', 'owl'], missing: ['yak'] },
      test_project: {
        used: ['cat', 'dog', 'owl'],
        unknown: [
          { class: 'emu', images: 3 },
          { class: 'gnu', images: 0 }
        ],
        excluded_images: 3
      }
    });
  });
});
