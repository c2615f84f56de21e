/**
 * Few-shot protocols: seeded k-per-class sampling (as Dassl does it: per class, k images without
 * replacement, all of them when the class has fewer) and the base-to-new class split.
 */
import { coopEpochs } from '../contract/schedules';
import { seededRandom } from '../util/seeded-random';

/** The seeded PRNG now lives in util/seeded-random (shared with augmentation and the data tools); re-exported for existing callers. */
export { seededRandom };

/**
 * Samples k items per class. Each class draws from its own stream seeded by (seed, class id), over
 * its items in id order: a class's sample depends only on the seed and that class's pool, so adding,
 * removing or re-adding other classes never changes it (a base-to-new set shares its base images with
 * the all-classes set of the same seed).
 */
export function sampleFewShot<T extends { id: number; classId: number }>(items: T[], k: number, seed: number): T[] {
  if (!Number.isInteger(k) || k < 1) throw new RangeError('k must be a whole number of images per class, at least 1.');
  const byClass = new Map<number, T[]>();
  for (const item of [...items].sort((a, b) => a.id - b.id)) {
    if (!byClass.has(item.classId)) byClass.set(item.classId, []);
    byClass.get(item.classId)!.push(item);
  }
  const chosen: T[] = [];
  for (const classId of [...byClass.keys()].sort((a, b) => a - b)) {
    const random = seededRandom(Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(classId, 0x85ebca77));
    const pool = [...byClass.get(classId)!];
    if (pool.length <= k) {
      chosen.push(...pool);
      continue;
    }
    // Partial Fisher-Yates: the first k positions become a uniform sample without replacement.
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(random() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    chosen.push(...pool.slice(0, k));
  }
  return chosen;
}

/** Base-to-new: classes in label order, the first ceil(n/2) are base, the rest new. */
export function baseNewSplit<T>(classesInLabelOrder: T[]): { base: T[]; new: T[] } {
  const cut = Math.ceil(classesInLabelOrder.length / 2);
  return { base: classesInLabelOrder.slice(0, cut), new: classesInLabelOrder.slice(cut) };
}

/** CoOp's published learning rate and epochs per shot count (batch 32, SGD, cosine schedule): 50 epochs for 1–2 shots, 100 for 4–8, 200 for 16. */
export function coopSchedule(k: number): { lr: number; epochs: number } {
  return { lr: 0.002, epochs: coopEpochs(k) };
}

export function harmonicMean(a: number, b: number): number {
  return a + b === 0 ? 0 : (2 * a * b) / (a + b);
}
