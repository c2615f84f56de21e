import { describe, expect, it } from 'vitest';
import { countCorrect } from '../../../src-main/mocoop/batch-accuracy';

describe('countCorrect: a batch step’s accuracy', () => {
  it('counts rows whose largest logit is at the label, ties going to the lower class', () => {
    // 3 images × 3 classes: argmax 2, 0 (a tie between 0 and 1), 1.
    const logits = new Float32Array([0.1, 0.2, 0.9, 0.5, 0.5, 0.1, -1, 3, 2]);
    expect(countCorrect(logits, [2, 0, 1], 3)).toBe(3);
    expect(countCorrect(logits, [2, 1, 0], 3)).toBe(1);
    expect(countCorrect(new Float32Array(0), [], 3)).toBe(0);
  });
});
