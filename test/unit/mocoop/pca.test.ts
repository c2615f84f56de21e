import { describe, expect, it } from 'vitest';
import { pca2d } from '../../../src-main/mocoop/pca';

describe('2-D map of image features', () => {
  it('puts the direction of largest spread on x and the next on y', () => {
    const points = Array.from({ length: 40 }, (_, i) => Float32Array.from([Math.cos(i) * 10, Math.sin(i) * 3, 0.01 * (i % 2)]));
    const map = pca2d(points);
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    expect(spread(map.map((p) => p.x))).toBeGreaterThan(19);
    expect(spread(map.map((p) => p.y))).toBeGreaterThan(5);
    expect(spread(map.map((p) => p.y))).toBeLessThan(7);
    expect(Math.abs(map[0]!.x)).toBeCloseTo(Math.abs(points[0]![0]! - points.reduce((s, p) => s + p[0]!, 0) / 40), 2);
  });
});
