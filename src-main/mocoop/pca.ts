/** The first two principal components of a set of vectors (power iteration with deflation), as 2-D points. */
export function pca2d(vectors: Float32Array[], iterations = 60): { x: number; y: number }[] {
  const n = vectors.length;
  if (n === 0) return [];
  const d = vectors[0]!.length;
  const mean = new Float64Array(d);
  vectors.forEach((v) => v.forEach((x, i) => (mean[i]! += x / n)));
  const centred = vectors.map((v) => Float64Array.from(v, (x, i) => x - mean[i]!));
  const components: Float64Array[] = [];
  for (let c = 0; c < 2; c++) {
    let w = Float64Array.from({ length: d }, (_, i) => Math.sin(i * 12.9898 + c * 78.233));
    for (let it = 0; it < iterations; it++) {
      // w ← Xᵀ X w, minus what earlier components explain.
      const scores = centred.map((row) => row.reduce((s, x, i) => s + x * w[i]!, 0));
      const next = new Float64Array(d);
      centred.forEach((row, r) => row.forEach((x, i) => (next[i]! += x * scores[r]!)));
      for (const prev of components) {
        const proj = next.reduce((s, x, i) => s + x * prev[i]!, 0);
        prev.forEach((p, i) => (next[i]! -= proj * p));
      }
      const norm = Math.hypot(...next) || 1;
      w = next.map((x) => x / norm);
    }
    components.push(w);
  }
  return centred.map((row) => ({
    x: row.reduce((s, x, i) => s + x * components[0]![i]!, 0),
    y: row.reduce((s, x, i) => s + x * components[1]![i]!, 0)
  }));
}
