/**
 * How each hand-written template and group does on the labeled images: zero-shot accuracy of every
 * template alone and of each group's ensemble, and the share of images whose hard-prompt gate
 * (argmax_j cos(f, g_j), g_j the mean of the group's prompt features over classes and templates)
 * picks each group.
 */
import { ensembleClassifier, normalize } from '../clip/zeroshot';

export interface TemplateAnalysis {
  groups: { accuracy: number; gateShare: number; templates: { template: string; accuracy: number }[] }[];
  images: number;
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

function accuracy(images: Float32Array[], labels: number[], classWeights: Float32Array[]): number {
  if (images.length === 0) return 0;
  let hits = 0;
  images.forEach((f, n) => {
    let best = 0;
    classWeights.forEach((w, c) => (dot(f, w) > dot(f, classWeights[best]!) ? (best = c) : 0));
    if (best === labels[n]) hits++;
  });
  return hits / images.length;
}

/** `text[j][i][c]`: feature of template i of group j filled with class c (normalised). */
export function analyzeTemplates(groups: string[][], text: Float32Array[][][], images: Float32Array[], labels: number[]): TemplateAnalysis {
  const prototypes = text.map((perTemplate) => {
    const sum = new Float32Array(perTemplate[0]![0]!.length);
    perTemplate.forEach((perClass) => perClass.forEach((v) => v.forEach((x, d) => (sum[d]! += x))));
    return normalize(sum);
  });
  const gate = new Array(groups.length).fill(0);
  images.forEach((f) => {
    let best = 0;
    prototypes.forEach((g, j) => (dot(f, g) > dot(f, prototypes[best]!) ? (best = j) : 0));
    gate[best]++;
  });
  return {
    images: images.length,
    groups: groups.map((templates, j) => ({
      accuracy: accuracy(images, labels, ensembleClassifier(text[j]!)),
      gateShare: images.length ? gate[j]! / images.length : 0,
      templates: templates.map((template, i) => ({ template, accuracy: accuracy(images, labels, text[j]![i]!.map(normalize)) }))
    }))
  };
}
