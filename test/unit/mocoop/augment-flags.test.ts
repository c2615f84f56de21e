import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../../src-main/cli/args';
import { augmentOptions } from '../../../src-main/cli/augment-flags';

const parse = (...argv: string[]) => parseArgs(argv, new Set());

describe('train --augment and --views', () => {
  it('reads the mode and a pool size, and refuses what is not one', () => {
    expect(augmentOptions(parse())).toEqual({});
    expect(augmentOptions(parse('--augment', 'fresh'))).toEqual({ augment: 'fresh' });
    expect(augmentOptions(parse('--augment', 'pool', '--views', '4'))).toEqual({ augment: 'pool', augViews: 4 });
    expect(augmentOptions(parse('--views', '4'))).toEqual({ augment: 'pool', augViews: 4 });
    expect(augmentOptions(parse('--aug-views', '3'))).toEqual({ augment: 'pool', augViews: 3 });
    expect(augmentOptions(parse('--aug-views', '0'))).toEqual({ augment: 'off' });
    expect(() => augmentOptions(parse('--augment', 'sometimes'))).toThrow('--augment must be one of fresh, pool, off (got "sometimes")');
    expect(() => augmentOptions(parse('--views', '0'))).toThrow('--views must be a whole number from 1 to 32');
    expect(() => augmentOptions(parse('--augment', 'fresh', '--views', '4'))).toThrow('does not apply to --augment fresh');
  });

  it('a rerun takes its record’s augmentation', () => {
    expect(augmentOptions(parse('--augment', 'fresh'), { augment: 'pool', augViews: 6 })).toEqual({ augment: 'pool', augViews: 6 });
    expect(augmentOptions(parse(), { augViews: 0 })).toEqual({ augment: 'off', augViews: 0 });
  });
});
