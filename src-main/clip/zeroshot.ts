/**
 * Zero-shot classification with a template ensemble, on plain arrays (features already L2-normalised).
 * Ensemble weights per class: normalise each template's feature, average, re-normalise.
 */
import { classProbabilities } from '../util/probabilities';

export interface ZeroShotInput {
  /** N image features, each of length dim, L2-normalised. */
  images: Float32Array[];
  /** True class index per image (into the class list). */
  labels: number[];
  /** textFeatures[t][c]: template t filled with class c, L2-normalised. */
  textFeatures: Float32Array[][];
  /** Multiplies cosine similarities before the softmax (CLIP's exp(logit_scale), 100). */
  logitScale: number;
}

export interface ZeroShotResult {
  predictions: number[];
  confidences: number[];
  accuracy: number;
  perClass: { classIndex: number; images: number; correct: number; accuracy: number }[];
  perTemplate: { templateIndex: number; accuracy: number }[];
}

const dot = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

export function normalize(v: Float32Array): Float32Array {
  const n = Math.sqrt(dot(v, v)) || 1;
  return v.map((x) => x / n);
}

/** Class weights of the ensemble: mean of the per-template features, re-normalised. */
export function ensembleClassifier(textFeatures: Float32Array[][]): Float32Array[] {
  const classes = textFeatures[0]?.length ?? 0;
  return Array.from({ length: classes }, (_, c) => {
    const sum = new Float32Array(textFeatures[0]![c]!.length);
    for (const perClass of textFeatures) {
      const f = normalize(perClass[c]!);
      for (let i = 0; i < sum.length; i++) sum[i]! += f[i]!;
    }
    return normalize(sum.map((x) => x / textFeatures.length));
  });
}

function classify(image: Float32Array, weights: Float32Array[], scale: number): { index: number; confidence: number } {
  const logits = weights.map((w) => scale * dot(image, w));
  let best = 0;
  for (let c = 1; c < logits.length; c++) if (logits[c]! > logits[best]!) best = c;
  return { index: best, confidence: classProbabilities(logits, 1)[best]! };
}

export function zeroShot(input: ZeroShotInput): ZeroShotResult {
  const weights = ensembleClassifier(input.textFeatures);
  const classes = weights.length;
  const predictions: number[] = [];
  const confidences: number[] = [];
  const perClass = Array.from({ length: classes }, (_, classIndex) => ({ classIndex, images: 0, correct: 0, accuracy: 0 }));
  input.images.forEach((image, n) => {
    const { index, confidence } = classify(image, weights, input.logitScale);
    predictions.push(index);
    confidences.push(confidence);
    const truth = perClass[input.labels[n]!]!;
    truth.images++;
    if (index === input.labels[n]) truth.correct++;
  });
  perClass.forEach((c) => (c.accuracy = c.images ? c.correct / c.images : 0));
  const correct = predictions.filter((p, n) => p === input.labels[n]).length;
  const perTemplate = input.textFeatures.map((perClassFeatures, templateIndex) => {
    const single = perClassFeatures.map(normalize);
    const hits = input.images.filter((image, n) => classify(image, single, input.logitScale).index === input.labels[n]).length;
    return { templateIndex, accuracy: input.images.length ? hits / input.images.length : 0 };
  });
  return { predictions, confidences, accuracy: input.images.length ? correct / input.images.length : 0, perClass, perTemplate };
}

/** Fills a template's `{}` with a class name (underscores shown as spaces). */
export function fillTemplate(template: string, className: string): string {
  return template.replace('{}', className.replace(/_/g, ' '));
}
