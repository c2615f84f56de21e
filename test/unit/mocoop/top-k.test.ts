import { describe, expect, it } from 'vitest';
import { topKIndices } from '../../../src-main/mocoop/top-k';

describe('top-K experts', () => {
  it('takes the K largest, largest first, ties to the lower index', () => {
    expect(topKIndices([0.1, 0.4, 0.4, 0.1], 2)).toEqual([1, 2]);
    expect(topKIndices([0.3, 0.3, 0.3], 1)).toEqual([0]);
    expect(topKIndices([0.2, 0.5, 0.3], 5)).toEqual([1, 2, 0]);
  });
  it('reads one row of a flat [B, G] array', () => {
    expect(topKIndices([0.9, 0.1, 0, 0.2, 0.7, 0.1], 2, 3, 3)).toEqual([1, 0]);
  });
});
