import { describe, expect, it } from 'vitest';
import { setComposition, strayImages } from '../../../src-renderer/src/lib/fewshot';

const classes = [
  { classId: 1, name: 'ant', train: 5 },
  { classId: 2, name: 'bee', train: 2 },
  { classId: 3, name: 'wasp', train: 4 },
  { classId: 4, name: 'moth', train: 0 }
];

describe('a few-shot set against the project classes', () => {
  it('gives every class its role and images, warning below k with the train-pool size', () => {
    const rows = setComposition(
      {
        k: 3,
        baseClassIds: [1, 2],
        newClassIds: [3],
        perClass: [
          { classId: 1, images: 3 },
          { classId: 2, images: 2 }
        ]
      },
      classes
    );
    expect(rows.map((r) => [r.name, r.role, r.images])).toEqual([
      ['ant', 'base', 3],
      ['bee', 'base', 2],
      ['wasp', 'new', 0],
      ['moth', 'none', 0]
    ]);
    expect(rows.map((r) => r.warning)).toEqual([null, 'fewer than 3 (the train pool has 2)', null, null]);
  });

  it('measures a hand-picked set against its fullest class, and flags images relabeled since', () => {
    const set = {
      k: null,
      baseClassIds: [1, 2],
      newClassIds: [],
      perClass: [
        { classId: null, images: 1 },
        { classId: 1, images: 4 },
        { classId: 2, images: 1 },
        { classId: 3, images: 2 }
      ]
    };
    const rows = setComposition(set, classes);
    expect(rows[1]!.warning).toBe('fewer than the fullest class (4)');
    expect(rows[0]!.warning).toBeNull();
    expect(rows[2]!.warning).toBe('2 image(s) now labeled wasp are in the set but do not train');
    expect(strayImages(set)).toBe(3);
  });

  it('says when a base class has no image left in the set', () => {
    const rows = setComposition({ k: 2, baseClassIds: [1, 2], newClassIds: [], perClass: [{ classId: 1, images: 2 }] }, classes);
    expect(rows[1]!.warning).toMatch(/no images in the set/);
  });
});
