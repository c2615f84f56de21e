import { describe, expect, it } from 'vitest';
import { naturalCompare, naturalSort } from '../../../src-main/data/natural-compare';

const sorted = (names: string[]) => [...names].sort(naturalCompare);

describe('naturalCompare', () => {
  it('orders runs of digits by value: 0, 1, 2, … 10, 11, not 0, 1, 10, 11, 2', () => {
    const names = Array.from({ length: 12 }, (_, i) => `img${i}.jpg`);
    const shuffled = [...names].reverse().sort();
    expect(shuffled.slice(0, 4)).toEqual(['img0.jpg', 'img1.jpg', 'img10.jpg', 'img11.jpg']);
    expect(sorted(shuffled)).toEqual(names);
  });

  it('compares several numbers in a name, and numbers longer than 2^53', () => {
    expect(sorted(['v1.10.2', 'v1.2.10', 'v1.2.9', 'v10.0.0'])).toEqual(['v1.2.9', 'v1.2.10', 'v1.10.2', 'v10.0.0']);
    expect(naturalCompare('a123456789012345678901', 'a123456789012345678902')).toBeLessThan(0);
    expect(naturalCompare('a99999999999999999999', 'a100000000000000000000')).toBeLessThan(0);
  });

  it('equal values: fewer leading zeros first; zero-padded names keep their order', () => {
    expect(sorted(['02', '2', '002', '1', '10'])).toEqual(['1', '2', '02', '002', '10']);
    expect(sorted(['x_010', 'x_002', 'x_001'])).toEqual(['x_001', 'x_002', 'x_010']);
  });

  it('text compares as read (case and accents only break ties), numbers before text', () => {
    expect(sorted(['b', 'A', 'a', 'B'])).toEqual(['a', 'A', 'b', 'B']);
    expect(sorted(['Zebra', 'apple', 'éclair', 'eclair'])).toEqual(['apple', 'eclair', 'éclair', 'Zebra']);
    expect(sorted(['cat', '1cat', 'cat1', 'cat 2'])).toEqual(['1cat', 'cat', 'cat1', 'cat 2']);
    expect(naturalCompare('img', 'img1')).toBeLessThan(0);
  });

  it('is 0 only for identical names, antisymmetric, and a total order (the sort does not depend on input order)', () => {
    const names = ['a1', 'a01', 'A1', 'a1 ', 'a10', 'a2', 'a', 'B', 'b', '10', '9', '', 'ä1', 'a1.jpg', 'a1.JPG'];
    for (const p of names) {
      for (const q of names) {
        const c = naturalCompare(p, q);
        if (p === q) expect(c).toBe(0);
        else {
          expect(c, `${p} vs ${q}`).not.toBe(0);
          expect(Math.sign(naturalCompare(q, p))).toBe(-Math.sign(c));
        }
      }
    }
    const once = sorted(names);
    expect(sorted([...names].reverse())).toEqual(once);
    for (let i = 0; i + 2 < once.length; i++) expect(naturalCompare(once[i]!, once[i + 2]!)).toBeLessThan(0);
  });

  it('naturalSort sorts a copy by a key', () => {
    const items = [{ n: 'f10' }, { n: 'f9' }];
    expect(naturalSort(items, (i) => i.n).map((i) => i.n)).toEqual(['f9', 'f10']);
    expect(items[0]!.n).toBe('f10');
  });
});
