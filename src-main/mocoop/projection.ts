/**
 * The 2-D map of image features behind the Routing page: PCA (the first two principal components,
 * linear and exact) or UMAP (neighbourhoods kept, clusters pulled apart; seeded, so the same features
 * give the same map every time).
 */
import { UMAP } from 'umap-js';
import { pca2dFlat } from './pca';

export const PROJECTIONS = ['pca', 'umap'] as const;
export type Projection = (typeof PROJECTIONS)[number];

/** Below this many points UMAP has no neighbourhoods to keep; the map falls back to PCA. */
export const UMAP_MIN_POINTS = 5;

/** A small seeded generator (mulberry32): uniform in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The projection actually computed for `n` points: UMAP needs a few neighbours per point. */
export function effectiveProjection(requested: Projection, n: number): Projection {
  return requested === 'umap' && n >= UMAP_MIN_POINTS ? 'umap' : 'pca';
}

/** UMAP of a row-major n×d matrix: cosine distance (CLIP features are compared by angle), 15 neighbours at most. */
export function umap2dFlat(data: Float32Array, n: number, d: number, seed = 1): { x: Float64Array; y: Float64Array } {
  if (data.length !== n * d) throw new RangeError(`umap2dFlat: ${data.length} values is not ${n}×${d}.`);
  const rows = Array.from({ length: n }, (_, r) => Array.from(data.subarray(r * d, (r + 1) * d)));
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.max(2, Math.min(15, n - 1)), minDist: 0.1, random: seededRandom(seed), distanceFn: cosineDistance });
  const embedding = umap.fit(rows);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  embedding.forEach((p, i) => {
    x[i] = Number.isFinite(p[0]) ? p[0]! : 0;
    y[i] = Number.isFinite(p[1]) ? p[1]! : 0;
  });
  return { x, y };
}

function cosineDistance(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  const norm = Math.sqrt(na * nb);
  return norm === 0 ? 1 : 1 - dot / norm;
}

/** The map of a feature matrix by the chosen projection (UMAP falls back to PCA below UMAP_MIN_POINTS points). */
export function project2dFlat(
  data: Float32Array,
  n: number,
  d: number,
  projection: Projection,
  seed = 1
): { x: Float64Array; y: Float64Array; projection: Projection } {
  const used = effectiveProjection(projection, n);
  return { ...(used === 'umap' ? umap2dFlat(data, n, d, seed) : pca2dFlat(data, n, d)), projection: used };
}
