/** How many rows of a batch's logits [N, C] (row-major) have their largest value at the label (ties to the lower index). Pure. */
export function countCorrect(logits: Float32Array, labels: readonly number[], classes: number): number {
  let correct = 0;
  labels.forEach((y, n) => {
    const row = logits.subarray(n * classes, (n + 1) * classes);
    let best = 0;
    for (let c = 1; c < classes; c++) if (row[c]! > row[best]!) best = c;
    if (best === y) correct++;
  });
  return correct;
}
