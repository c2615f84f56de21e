import { describe, expect, it } from 'vitest';
import { pca2dFlat, stackRows } from '../../../src-main/mocoop/pca';
import { UMAP_MIN_POINTS, effectiveProjection, project2dFlat, seededRandom } from '../../../src-main/mocoop/projection';

/** Three tight clusters in 16-D, far apart: a map that keeps neighbourhoods keeps them apart. */
function clusters(perCluster: number): { rows: Float32Array[]; cluster: number[] } {
  const random = seededRandom(7);
  const rows: Float32Array[] = [];
  const cluster: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < perCluster; i++) {
      rows.push(Float32Array.from({ length: 16 }, (_, j) => (j % 3 === c ? 5 : 0) + (random() - 0.5) * 0.3));
      cluster.push(c);
    }
  }
  return { rows, cluster };
}

describe('choosing the projection of the routing map', () => {
  it('computes UMAP when asked and there are enough points, PCA otherwise', () => {
    expect(effectiveProjection('pca', 500)).toBe('pca');
    expect(effectiveProjection('umap', 500)).toBe('umap');
    expect(effectiveProjection('umap', UMAP_MIN_POINTS)).toBe('umap');
    expect(effectiveProjection('umap', UMAP_MIN_POINTS - 1)).toBe('pca');
  });

  it('PCA through project2dFlat is the plain PCA map', () => {
    const { rows } = clusters(6);
    const { data, n, d } = stackRows(rows);
    const chosen = project2dFlat(data, n, d, 'pca');
    const plain = pca2dFlat(data, n, d);
    expect(chosen.projection).toBe('pca');
    expect([...chosen.x]).toEqual([...plain.x]);
    expect([...chosen.y]).toEqual([...plain.y]);
  });

  it('a tiny set asked for UMAP gets PCA (no neighbourhoods to keep), and says so', () => {
    const { data, n, d } = stackRows(clusters(1).rows);
    expect(project2dFlat(data, n, d, 'umap').projection).toBe('pca');
  });
});

describe('the UMAP map', () => {
  it('is the same for the same seed (a stable map) and different for another seed', () => {
    const { data, n, d } = stackRows(clusters(12).rows);
    const a = project2dFlat(data, n, d, 'umap', 1);
    const b = project2dFlat(data, n, d, 'umap', 1);
    const c = project2dFlat(data, n, d, 'umap', 2);
    expect(a.projection).toBe('umap');
    expect([...a.x]).toEqual([...b.x]);
    expect([...a.y]).toEqual([...b.y]);
    expect([...a.x]).not.toEqual([...c.x]);
  });

  it('keeps each cluster together: every point is nearer its own cluster centre than any other', () => {
    const { rows, cluster } = clusters(12);
    const { data, n, d } = stackRows(rows);
    const { x, y } = project2dFlat(data, n, d, 'umap', 3);
    expect([...x, ...y].every(Number.isFinite)).toBe(true);
    const centre = [0, 1, 2].map((c) => {
      const members = cluster.flatMap((k, i) => (k === c ? [i] : []));
      return { x: members.reduce((s, i) => s + x[i]!, 0) / members.length, y: members.reduce((s, i) => s + y[i]!, 0) / members.length };
    });
    cluster.forEach((c, i) => {
      const dist = centre.map((m) => Math.hypot(x[i]! - m.x, y[i]! - m.y));
      expect(dist.indexOf(Math.min(...dist))).toBe(c);
    });
  });

  it('runs in the worker thread with the same result as in process', async () => {
    const { pca2dInWorker } = await import('../../../src-main/mocoop/pca-thread');
    const { rows } = clusters(8);
    const inWorker = await pca2dInWorker(rows, 'umap', 5);
    const { data, n, d } = stackRows(rows);
    const inline = project2dFlat(data, n, d, 'umap', 5);
    expect(inWorker.map((p) => p.x)).toEqual([...inline.x]);
    expect(inWorker.map((p) => p.y)).toEqual([...inline.y]);
  });
});

describe('seeded random numbers', () => {
  it('repeat for a seed, stay in [0, 1) and differ between seeds', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(Math.abs(xs.reduce((s, v) => s + v, 0) / 1000 - 0.5)).toBeLessThan(0.05);
    expect(seededRandom(43)()).not.toBe(seededRandom(42)());
  });
});

describe('runs.map in the contract', () => {
  it('takes an optional projection, PCA or UMAP, and nothing else', async () => {
    const { requests } = await import('../../../src-main/contract/index');
    const input = requests['runs.map'].input;
    expect(input.safeParse({ runId: 'r' }).success).toBe(true);
    expect(input.safeParse({ runId: 'r', projection: 'umap' }).success).toBe(true);
    expect(input.safeParse({ runId: 'r', projection: 'pca' }).success).toBe(true);
    expect(input.safeParse({ runId: 'r', projection: 'tsne' }).success).toBe(false);
  });
});
