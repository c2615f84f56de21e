/**
 * Prediction without the text encoder: the trained experts' class features are a fixed table
 * [G, A, P]; an image is classified by the router, its top-K experts and a K-way mix.
 */
import type { CoCoOpWeights } from './cocoop';
import { topKIndices } from './top-k';
import { classProbabilities } from '../util/probabilities';

/** `predict`'s scores as class probabilities (see util/probabilities.ts). */
export { classProbabilities };

export interface ExpertTable {
  experts: number;
  classes: number;
  dim: number;
  /** [G, A, P] L2-normalised t_j(a). */
  features: Float32Array;
  W: Float32Array;
  b: Float32Array;
  topK: number;
  /** [G, P] group prototypes for p_hard (optional). */
  groupFeatures?: Float32Array;
  tauGate?: number;
  /** 'cosine' (paper): cos(f, m); 'dot' (released code): f·m with the mixture m not renormalised. */
  mixing?: 'cosine' | 'dot';
  /** A linear probe instead of prompts: scores are W·x + b per class ([A, P] and [A]). */
  linear?: { weights: Float32Array; bias: Float32Array };
  /**
   * What multiplies `predict`'s scores into the run's logits: 1/τ_ce (paper preset), CLIP's logit scale
   * (released-code preset, zero-shot), 1 (linear probe: its scores are logits). Absent in tables stored
   * before it was recorded: `runLogitScale` derives it from the run's settings then.
   */
  logitScale?: number;
  /**
   * CoCoOp: no fixed class features — the prompts depend on the image, so scoring runs the text tower
   * (`cocoop.conditionalScores`); `predict` refuses such a table.
   */
  conditional?: CoCoOpWeights;
}

export interface Prediction {
  /** Index into the evaluated class list, or -1 when no class could be scored. */
  predicted: number;
  scores: number[];
  router: number[];
  topExperts: number[];
  topWeights: number[];
  pHard: number[] | null;
}

const softmax = (x: number[]) => classProbabilities(x, 1);

/**
 * The scale a run's scores are multiplied by before the softmax: the one stored with its table, else
 * the one its recorded method and settings imply (linear probe 1; zero-shot and the released-code preset
 * CLIP's logit scale, `modelLogitScale`; the paper preset 1/τ_ce, 1/0.07 by default).
 */
export function runLogitScale(
  table: Pick<ExpertTable, 'logitScale' | 'linear' | 'mixing'>,
  run: { method: string; settings: Record<string, unknown> },
  modelLogitScale?: () => number | undefined
): number {
  if (table.logitScale !== undefined && Number.isFinite(table.logitScale) && table.logitScale > 0) return table.logitScale;
  if (table.linear || run.method === 'linear-probe') return 1;
  if (run.method === 'zeroshot' || run.settings.preset === 'released-code' || table.mixing === 'dot') {
    const scale = modelLogitScale?.();
    return scale !== undefined && Number.isFinite(scale) && scale > 0 ? scale : 100;
  }
  const tau = Number(run.settings.tauCe);
  return 1 / (Number.isFinite(tau) && tau > 0 ? tau : 0.07);
}

/**
 * `conditional`: a CoCoOp table's scores of `classIndices` for this image (`cocoop.conditionalScores`:
 * the text tower ran on the image's own prompts); required for such a table, ignored otherwise.
 */
export function predict(table: ExpertTable, image: Float32Array, classIndices: number[], conditional?: readonly number[]): Prediction {
  const { experts: G, classes: A, dim: P, features } = table;
  if (table.conditional && conditional?.length !== classIndices.length)
    throw new Error("A CoCoOp run's class prompts depend on the image: its scores come from the text tower (conditionalScores), not a fixed table.");
  const logits = Array.from({ length: G }, (_, j) => {
    let s = table.b[j]!;
    for (let p = 0; p < P; p++) s += table.W[j * P + p]! * image[p]!;
    return s;
  });
  const router = softmax(logits);
  const topExperts = topKIndices(router, table.topK);
  const total = topExperts.reduce((s, j) => s + router[j]!, 0);
  const topWeights = topExperts.map((j) => router[j]! / total);
  const linear = table.linear;
  const scores = classIndices.map((a, i) => {
    if (table.conditional) return conditional![i]!;
    if (linear) {
      let s = linear.bias[a] ?? -Infinity;
      for (let p = 0; p < P; p++) s += linear.weights[a * P + p]! * image[p]!;
      return a < linear.bias.length ? s : -Infinity;
    }
    const mixed = new Float32Array(P);
    topExperts.forEach((j, k) => {
      const off = (j * A + a) * P;
      for (let p = 0; p < P; p++) mixed[p]! += topWeights[k]! * features[off + p]!;
    });
    let dot = 0;
    let norm = 0;
    for (let p = 0; p < P; p++) {
      dot += mixed[p]! * image[p]!;
      norm += mixed[p]! * mixed[p]!;
    }
    return table.mixing === 'dot' ? dot : dot / Math.sqrt(norm);
  });
  // -1 when no class can be scored (a linear probe has no weights for classes it never saw).
  let predicted = scores.some(Number.isFinite) ? 0 : -1;
  scores.forEach((s, i) => (predicted >= 0 && s > scores[predicted]! ? (predicted = i) : 0));
  let pHard: number[] | null = null;
  if (table.groupFeatures) {
    const g = table.groupFeatures;
    pHard = softmax(
      Array.from({ length: G }, (_, j) => {
        let dot = 0;
        let norm = 0;
        for (let p = 0; p < P; p++) {
          dot += g[j * P + p]! * image[p]!;
          norm += g[j * P + p]! ** 2;
        }
        return dot / Math.sqrt(norm) / (table.tauGate ?? 0.07);
      })
    );
  }
  return { predicted, scores, router, topExperts, topWeights, pHard };
}
