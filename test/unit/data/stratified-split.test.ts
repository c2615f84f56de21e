import { describe, expect, it } from 'vitest';
import { type SplitItem, stratifiedSplit } from '../../../src-main/data/stratified-split';

const items = (perClass: Record<string, number>, unlabeled = 0): SplitItem<number>[] => {
  const out: SplitItem<number>[] = [];
  let id = 1;
  for (const [name, n] of Object.entries(perClass)) for (let i = 0; i < n; i++) out.push({ key: id++, stratum: name });
  for (let i = 0; i < unlabeled; i++) out.push({ key: id++, stratum: null });
  return out;
};
const tally = (list: SplitItem<number>[], splits: string[], stratum: string | null) => {
  const c = { train: 0, val: 0, test: 0 } as Record<string, number>;
  list.forEach((item, i) => item.stratum === stratum && c[splits[i]!]!++);
  return c;
};

describe('stratified hold-out', () => {
  it('holds out round(n·share) of every class for test and validation, and reports the counts per class', () => {
    const list = items({ cat: 10, dog: 20, fox: 7 });
    const { splits, counts } = stratifiedSplit(list, { testFraction: 0.2, valFraction: 0.1, seed: 1 });
    expect(tally(list, splits, 'cat')).toEqual({ train: 7, val: 1, test: 2 });
    expect(tally(list, splits, 'dog')).toEqual({ train: 14, val: 2, test: 4 });
    expect(tally(list, splits, 'fox')).toEqual({ train: 5, val: 1, test: 1 });
    expect(counts).toEqual([
      { stratum: 'cat', train: 7, val: 1, test: 2 },
      { stratum: 'dog', train: 14, val: 2, test: 4 },
      { stratum: 'fox', train: 5, val: 1, test: 1 }
    ]);
  });

  it('is the same for the same seed whatever the input order, and differs for another seed', () => {
    const list = items({ a: 30, b: 30 });
    const one = stratifiedSplit(list, { testFraction: 0.3, valFraction: 0, seed: 7 });
    const reversed = [...list].reverse();
    const two = stratifiedSplit(reversed, { testFraction: 0.3, valFraction: 0, seed: 7 });
    const byKey = (l: SplitItem<number>[], s: string[]) => new Map(l.map((item, i) => [item.key, s[i]]));
    expect(byKey(reversed, two.splits)).toEqual(byKey(list, one.splits));
    const other = stratifiedSplit(list, { testFraction: 0.3, valFraction: 0, seed: 8 });
    expect(other.splits).not.toEqual(one.splits);
  });

  it("a class's result does not depend on the other classes (each class draws from its own stream)", () => {
    const alone = items({ a: 12 });
    const withOthers = [...items({ a: 12 }), ...items({ b: 9 }).map((i) => ({ ...i, key: i.key + 100 }))];
    const x = stratifiedSplit(alone, { testFraction: 0.25, valFraction: 0.25, seed: 3 }).splits;
    const y = stratifiedSplit(withOthers, { testFraction: 0.25, valFraction: 0.25, seed: 3 }).splits.slice(0, 12);
    expect(y).toEqual(x);
  });

  it('keeps at least one image of a class in the train pool; a single image stays there', () => {
    const list = items({ pair: 2, single: 1, three: 3 });
    const { counts } = stratifiedSplit(list, { testFraction: 0.5, valFraction: 0.4, seed: 1 });
    expect(counts.find((c) => c.stratum === 'pair')).toEqual({ stratum: 'pair', train: 1, val: 0, test: 1 });
    expect(counts.find((c) => c.stratum === 'single')).toEqual({ stratum: 'single', train: 1, val: 0, test: 0 });
    expect(counts.find((c) => c.stratum === 'three')).toEqual({ stratum: 'three', train: 1, val: 1, test: 1 });
  });

  it('unlabeled items are a stratum of their own; fixed items keep their split and count toward the shares', () => {
    const list = items({ cat: 10 }, 5);
    list[0] = { ...list[0]!, fixed: 'train' };
    list[1] = { ...list[1]!, fixed: 'test' };
    const { splits, counts } = stratifiedSplit(list, { testFraction: 0.3, valFraction: 0, seed: 2 });
    expect(splits[0]).toBe('train');
    expect(splits[1]).toBe('test');
    expect(tally(list, splits, 'cat')).toEqual({ train: 7, val: 0, test: 3 });
    expect(counts.find((c) => c.stratum === null)).toEqual({ stratum: null, train: 3, val: 0, test: 2 });
  });

  it('refuses shares that leave nothing to train on, and bad seeds', () => {
    expect(() => stratifiedSplit(items({ a: 3 }), { testFraction: 0.6, valFraction: 0.4, seed: 1 })).toThrow(/less than 100%/);
    expect(() => stratifiedSplit(items({ a: 3 }), { testFraction: -0.1, valFraction: 0, seed: 1 })).toThrow(RangeError);
    expect(() => stratifiedSplit(items({ a: 3 }), { testFraction: 0.1, valFraction: 0, seed: 1.5 })).toThrow(/seed/);
  });

  it('string keys (paths, as an importer has them) order the items before the shuffle', () => {
    const list: SplitItem<string>[] = ['b.jpg', 'a.jpg', 'c.jpg', 'd.jpg'].map((key) => ({ key, stratum: 'x' }));
    const sorted = [...list].sort((p, q) => p.key.localeCompare(q.key));
    const a = stratifiedSplit(list, { testFraction: 0.5, valFraction: 0, seed: 4 });
    const b = stratifiedSplit(sorted, { testFraction: 0.5, valFraction: 0, seed: 4 });
    const map = (l: SplitItem<string>[], s: string[]) => Object.fromEntries(l.map((item, i) => [item.key, s[i]]));
    expect(map(list, a.splits)).toEqual(map(sorted, b.splits));
  });
});
