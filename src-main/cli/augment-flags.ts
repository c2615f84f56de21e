/**
 * `train --augment fresh|pool|off --views N`: the run's augmentation from the command line (a rerun
 * takes its record's). --views is a pool's views per image; the older --aug-views N means a pool of N.
 */
import { AUGMENT_MODES, type AugmentMode, MAX_POOL_VIEWS, isAugmentMode } from '../contract/augmentation';
import { type ParsedArgs, UsageError, stringFlag } from './args';

export const AUGMENT_FLAGS = ['augment', 'views'] as const;

export const AUGMENT_USAGE = '[--augment fresh|pool|off] [--views N]   augmentation (default: fresh on a GPU, a pool of 8 views per image on the CPU)';

/** The augmentation options of a train command; `recorded`: a rerun's settings, which win. */
export function augmentOptions(args: ParsedArgs, recorded?: Record<string, unknown>): { augment?: AugmentMode; augViews?: number } {
  const mode = stringFlag(args, 'augment');
  if (mode !== undefined && !isAugmentMode(mode)) throw new UsageError(`--augment must be one of ${AUGMENT_MODES.join(', ')} (got "${mode}").`);
  const raw = stringFlag(args, 'views') ?? stringFlag(args, 'aug-views');
  // The older --aug-views 0 meant no augmented views.
  if (stringFlag(args, 'views') === undefined && raw !== undefined && Number(raw) === 0 && mode === undefined)
    return recorded ? augmentOptions({ ...args, flags: new Map() }, recorded) : { augment: 'off' };
  let views: number | undefined;
  if (raw !== undefined) {
    views = Number(raw);
    if (!Number.isInteger(views) || views < 1 || views > MAX_POOL_VIEWS)
      throw new UsageError(`--views must be a whole number from 1 to ${MAX_POOL_VIEWS} (got "${raw}").`);
    if (mode !== undefined && mode !== 'pool') throw new UsageError(`--views sets a pool's views per image; it does not apply to --augment ${mode}.`);
  }
  if (recorded) {
    const recordedViews = typeof recorded.augViews === 'number' ? recorded.augViews : undefined;
    return { augment: isAugmentMode(recorded.augment) ? recorded.augment : recordedViews ? 'pool' : 'off', augViews: recordedViews };
  }
  return {
    ...(mode !== undefined ? { augment: mode } : views !== undefined ? { augment: 'pool' as const } : {}),
    ...(views !== undefined ? { augViews: views } : {})
  };
}
