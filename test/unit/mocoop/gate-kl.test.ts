import { describe, expect, it } from 'vitest';
import { tf } from '../../../src-main/clip/tf';
import { gateKl, hardGate } from '../../../src-main/mocoop/losses';
import { useBackend } from '../../helpers/tf-backend';

describe('L_gate = KL(p_hard ‖ router)', () => {
  useBackend('cpu');

  it('equals Σ p (log p − log r) for an ordinary gate', () => {
    const p = [0.7, 0.2, 0.1];
    const logits = [0.3, -0.1, 0.5];
    const z = Math.log(logits.reduce((s, l) => s + Math.exp(l), 0));
    const expected = p.reduce((s, pj, j) => s + pj * (Math.log(pj) - (logits[j]! - z)), 0);
    const value = tf.tidy(() => gateKl(tf.tensor2d([p]), tf.tensor2d([logits])).dataSync()[0]!);
    expect(value).toBeCloseTo(expected, 6);
  });

  it('stays finite when a tiny τ_gate makes p_hard entries underflow to 0', () => {
    const value = tf.tidy(() => {
      const images = tf.tensor2d([[1, 0]]);
      // cosines 0.30, 0.20, 0.25 at τ_gate = 0.0005: exp(−200) underflows in float32.
      const groups = tf.tensor2d([
        [0.3, Math.sqrt(1 - 0.09)],
        [0.2, Math.sqrt(1 - 0.04)],
        [0.25, Math.sqrt(1 - 0.0625)]
      ]);
      const pHard = hardGate(images, groups, 0.0005);
      expect(Array.from(pHard.dataSync()).some((x) => x === 0)).toBe(true);
      return gateKl(pHard, tf.tensor2d([[0, 0, 0]])).dataSync()[0]!;
    });
    expect(Number.isFinite(value)).toBe(true);
    // p_hard is one-hot on the first group: KL = −log r_1 = log 3.
    expect(value).toBeCloseTo(Math.log(3), 5);
  });
});
