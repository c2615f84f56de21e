/** S_x: the indices of the K largest of `values[offset … offset + count)`, largest first, ties to the lower index. */
export function topKIndices(values: ArrayLike<number>, k: number, offset = 0, count = values.length - offset): number[] {
  return Array.from({ length: count }, (_, j) => j)
    .sort((a, c) => values[offset + c]! - values[offset + a]! || a - c)
    .slice(0, Math.min(k, count));
}
