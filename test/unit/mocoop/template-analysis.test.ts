import { describe, expect, it } from 'vitest';
import { analyzeTemplates } from '../../../src-main/mocoop/template-analysis';

const v = (...xs: number[]) => Float32Array.from(xs);

describe('per-template and per-group analysis', () => {
  it('scores each template alone, each group ensemble, and the hard-prompt gate share', () => {
    // Two classes on x and y. Group 0 has a right and a swapped template; group 1 only right ones
    // tilted towards z, which is where the second image points: the gate picks group 1 for it.
    const text = [
      [
        [v(1, 0, 0), v(0, 1, 0)],
        [v(0, 1, 0), v(1, 0, 0)]
      ],
      [[v(0.8, 0, 0.6), v(0, 0.8, 0.6)]]
    ];
    const images = [v(1, 0, 0), v(0, 0.6, 0.8)];
    const result = analyzeTemplates([['right {}', 'swapped {}'], ['tilted {}']], text, images, [0, 1]);
    expect(result.groups[0]!.templates.map((t) => t.accuracy)).toEqual([1, 0]);
    expect(result.groups[1]!.templates[0]!.accuracy).toBe(1);
    expect(result.groups.map((g) => g.gateShare)).toEqual([0.5, 0.5]);
    expect(result.images).toBe(2);
  });
});
