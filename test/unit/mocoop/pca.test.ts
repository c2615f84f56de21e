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

describe('the PCA map in a worker thread', () => {
  it('matches the in-process map and leaves the event loop free', async () => {
    const { pca2dInWorker } = await import('../../../src-main/mocoop/pca-thread');
    const rows = Array.from({ length: 3000 }, (_, i) =>
      Float32Array.from({ length: 64 }, (_, j) => Math.sin(i * 0.37 + j * 1.3) * (j === 0 ? 8 : 1) + Math.cos(i * j))
    );
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const inWorker = await pca2dInWorker(rows);
    clearInterval(timer);
    const inline = pca2d(rows);
    expect(inWorker).toHaveLength(3000);
    for (let i = 0; i < 3000; i += 97) {
      expect(inWorker[i]!.x).toBeCloseTo(inline[i]!.x, 6);
      expect(inWorker[i]!.y).toBeCloseTo(inline[i]!.y, 6);
    }
    expect(ticks).toBeGreaterThan(0);
    expect(() => pca2d([Float32Array.of(1, 2), Float32Array.of(1)])).toThrow(/Row 1 has 1 values, not 2/);
  });
});
