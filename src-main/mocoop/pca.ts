/**
 * The first two principal components of a set of vectors as 2-D points: block power iteration on a
 * row-major n×d matrix (two vectors at once, Gram-Schmidt each round), O(n·d) per round.
 */
export function pca2dFlat(data: Float32Array, n: number, d: number, iterations = 40): { x: Float64Array; y: Float64Array } {
  if (data.length !== n * d) throw new RangeError(`pca2dFlat: ${data.length} values is not ${n}×${d}.`);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  if (n === 0) return { x, y };
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let i = 0, o = r * d; i < d; i++) mean[i]! += data[o + i]!;
  for (let i = 0; i < d; i++) mean[i]! /= n;

  let u = Float64Array.from({ length: d }, (_, i) => Math.sin(i * 12.9898 + 1));
  let v = Float64Array.from({ length: d }, (_, i) => Math.sin(i * 12.9898 + 78.233));
  orthonormalize(u, v);
  for (let it = 0; it < iterations; it++) {
    // (u, v) ← Cᵀ C (u, v) with C the centred data, never materialised.
    project(data, n, d, mean, u, v, x, y);
    const nu = new Float64Array(d);
    const nv = new Float64Array(d);
    for (let r = 0; r < n; r++) {
      const a = x[r]!;
      const b = y[r]!;
      for (let i = 0, o = r * d; i < d; i++) {
        const c = data[o + i]! - mean[i]!;
        nu[i]! += c * a;
        nv[i]! += c * b;
      }
    }
    orthonormalize(nu, nv);
    u = nu;
    v = nv;
  }
  project(data, n, d, mean, u, v, x, y);
  return { x, y };
}

function project(data: Float32Array, n: number, d: number, mean: Float64Array, u: Float64Array, v: Float64Array, x: Float64Array, y: Float64Array): void {
  for (let r = 0; r < n; r++) {
    let a = 0;
    let b = 0;
    for (let i = 0, o = r * d; i < d; i++) {
      const c = data[o + i]! - mean[i]!;
      a += c * u[i]!;
      b += c * v[i]!;
    }
    x[r] = a;
    y[r] = b;
  }
}

/** Normalises u, then makes v orthogonal to u and normalises it (in place). */
function orthonormalize(u: Float64Array, v: Float64Array): void {
  const nu = Math.sqrt(u.reduce((s, a) => s + a * a, 0)) || 1;
  for (let i = 0; i < u.length; i++) u[i]! /= nu;
  const dot = v.reduce((s, a, i) => s + a * u[i]!, 0);
  for (let i = 0; i < v.length; i++) v[i]! -= dot * u[i]!;
  const nv = Math.sqrt(v.reduce((s, a) => s + a * a, 0)) || 1;
  for (let i = 0; i < v.length; i++) v[i]! /= nv;
}

/** Rows stacked into one row-major matrix. */
export function stackRows(vectors: Float32Array[]): { data: Float32Array; n: number; d: number } {
  const n = vectors.length;
  const d = vectors[0]?.length ?? 0;
  const data = new Float32Array(n * d);
  vectors.forEach((row, r) => {
    if (row.length !== d) throw new RangeError(`Row ${r} has ${row.length} values, not ${d} like the first.`);
    data.set(row, r * d);
  });
  return { data, n, d };
}

export function pca2d(vectors: Float32Array[], iterations?: number): { x: number; y: number }[] {
  const { data, n, d } = stackRows(vectors);
  const { x, y } = pca2dFlat(data, n, d, iterations);
  return Array.from({ length: n }, (_, i) => ({ x: x[i]!, y: y[i]! }));
}
