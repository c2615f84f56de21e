/** The one softmax over class scores, used by evaluation, classify, suggestions and zero-shot. Pure, no Node APIs. */

/**
 * Class probabilities from scores: softmax(scale · score). Scores of −∞ (a linear probe's unseen
 * classes) get probability 0; when no score is finite every probability is 0.
 */
export function classProbabilities(scores: readonly number[], scale: number): number[] {
  const finite = scores.filter(Number.isFinite);
  if (finite.length === 0) return scores.map(() => 0);
  const max = Math.max(...finite);
  const exp = scores.map((s) => (Number.isFinite(s) ? Math.exp(scale * (s - max)) : 0));
  const total = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / total);
}
