/**
 * A stratified random hold-out: within each stratum (a class; unlabeled images form one stratum of
 * their own) a seeded share of the items goes to test and to validation, the rest to the train pool.
 * Pure, so the Images page ("split later") and an importer ("split on import") give the same answer
 * for the same items, percentages and seed.
 */
import { seededRandom } from '../mocoop/fewshot';

export type SplitName = 'train' | 'val' | 'test';

export interface SplitItem<K extends string | number = string | number> {
  /** Orders the items of a stratum before the shuffle, so the result does not depend on input order (an id or a path). */
  key: K;
  /** The class (name or id); null for unlabeled items, which are one stratum of their own. */
  stratum: string | number | null;
  /** The item must keep this split (e.g. images of a few-shot set stay in the train pool); it still counts toward its stratum's shares. */
  fixed?: SplitName;
}

export interface SplitOptions {
  /** Share of each stratum held out for testing, 0 ≤ test < 1. */
  testFraction: number;
  /** Share of each stratum held out for validation, 0 ≤ val, test + val < 1. */
  valFraction: number;
  seed: number;
}

export interface StratumCounts {
  stratum: string | number | null;
  train: number;
  val: number;
  test: number;
}

/** FNV-1a over the stratum's text: each stratum draws from its own stream, unaffected by the others. */
function stratumHash(stratum: string | number | null): number {
  const text = stratum === null ? '\u0000unlabeled' : `${typeof stratum}:${stratum}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const compareKeys = (a: string | number, b: string | number) =>
  typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;

export function checkSplitOptions(options: SplitOptions): void {
  const { testFraction: t, valFraction: v, seed } = options;
  if (!Number.isFinite(t) || !Number.isFinite(v) || t < 0 || v < 0) throw new RangeError('test and validation shares must be 0 or more');
  if (t + v >= 1) throw new RangeError('test and validation together must leave part of every class in the train pool (less than 100%)');
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError('the seed must be a whole number, 0 or more');
}

/**
 * Assigns a split to every item; returns them in input order, with the counts per stratum.
 * Per stratum of n items: round(n·test) go to test and round(n·val) to validation, chosen uniformly
 * at random (a seeded Fisher-Yates shuffle of the stratum's items in key order) among the items that
 * are not fixed; a stratum of two or more items always keeps at least one in the train pool.
 */
export function stratifiedSplit<K extends string | number>(
  items: readonly SplitItem<K>[],
  options: SplitOptions
): { splits: SplitName[]; counts: StratumCounts[] } {
  checkSplitOptions(options);
  const byStratum = new Map<string | number | null, number[]>();
  items.forEach((item, index) => {
    const list = byStratum.get(item.stratum);
    if (list) list.push(index);
    else byStratum.set(item.stratum, [index]);
  });
  const splits: SplitName[] = items.map((item) => item.fixed ?? 'train');
  const counts: StratumCounts[] = [];
  for (const [stratum, indices] of byStratum) {
    const n = indices.length;
    let wantTest = Math.round(n * options.testFraction + 1e-9);
    let wantVal = Math.round(n * options.valFraction + 1e-9);
    // At least one image of a class stays in the train pool (a class with no training image cannot be learned).
    const maxHeldOut = n >= 2 ? n - 1 : 0;
    while (wantTest + wantVal > maxHeldOut) {
      if (wantVal >= wantTest && wantVal > 0) wantVal--;
      else wantTest--;
    }
    const fixed = { train: 0, val: 0, test: 0 };
    const free: number[] = [];
    for (const i of indices) {
      const f = items[i]!.fixed;
      if (f) fixed[f]++;
      else free.push(i);
    }
    free.sort((a, b) => compareKeys(items[a]!.key, items[b]!.key) || a - b);
    const random = seededRandom(Math.imul(options.seed >>> 0, 0x9e3779b1) ^ stratumHash(stratum));
    for (let i = free.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [free[i], free[j]] = [free[j]!, free[i]!];
    }
    const test = Math.min(free.length, Math.max(0, wantTest - fixed.test));
    const val = Math.min(free.length - test, Math.max(0, wantVal - fixed.val));
    free.forEach((index, k) => (splits[index] = k < test ? 'test' : k < test + val ? 'val' : 'train'));
    counts.push({ stratum, train: fixed.train + free.length - test - val, val: fixed.val + val, test: fixed.test + test });
  }
  return { splits, counts };
}
