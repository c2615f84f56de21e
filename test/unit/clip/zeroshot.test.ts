import { describe, expect, it } from 'vitest';
import { ensembleClassifier, fillTemplate, normalize, zeroShot } from '../../../src-main/clip/zeroshot';

const v = (...xs: number[]) => normalize(Float32Array.from(xs));

describe('zero-shot template ensemble', () => {
  it('averages normalised template features and re-normalises', () => {
    const [w] = ensembleClassifier([[v(1, 0)], [v(0, 1)]]);
    expect(w![0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(w![1]).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('predicts the most similar class and scores accuracy overall, per class and per template', () => {
    // Two classes along x and y; template 0 is right, template 1 swaps the classes.
    const text = [
      [v(1, 0.1), v(0.1, 1)],
      [v(0.2, 1), v(1, 0.3)]
    ];
    const images = [v(1, 0), v(0.9, 0.2), v(0, 1), v(0.3, 1)];
    const labels = [0, 0, 1, 0];
    const result = zeroShot({ images, labels, textFeatures: text, logitScale: 100 });
    // The ensemble of both templates still separates x from y slightly in favour of template 0.
    expect(result.predictions).toEqual([0, 0, 1, 1]);
    expect(result.accuracy).toBe(0.75);
    expect(result.perClass).toEqual([
      { classIndex: 0, images: 3, correct: 2, accuracy: 2 / 3 },
      { classIndex: 1, images: 1, correct: 1, accuracy: 1 }
    ]);
    expect(result.perTemplate.map((t) => t.accuracy)).toEqual([0.75, 0.25]);
    expect(result.confidences.every((c) => c > 0.5 && c <= 1)).toBe(true);
  });

  it('fills templates with class names, underscores as spaces', () => {
    expect(fillTemplate('a photo of a {}.', 'sea_lion')).toBe('a photo of a sea lion.');
  });
});
