import { expect } from 'vitest';

/** max |actual − wanted| over two arrays of the same length (checked). */
export function maxAbsDiff(actual: ArrayLike<number>, wanted: ArrayLike<number>): number {
  expect(actual.length).toBe(wanted.length);
  let max = 0;
  for (let i = 0; i < wanted.length; i++) max = Math.max(max, Math.abs(actual[i]! - wanted[i]!));
  return max;
}
