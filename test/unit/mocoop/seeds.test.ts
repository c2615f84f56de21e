import { describe, expect, it } from 'vitest';
import { meanStd, seedGroupKey, seedGroups, seedSpread } from '../../../src-main/contract/seeds';

describe('seeds: mean ± std over runs of the same settings', () => {
  it('computes the mean and the population standard deviation (numpy np.std, as Dassl reports seeds)', () => {
    const s = meanStd([0.8, 0.85, 0.9])!;
    expect(s.mean).toBeCloseTo(0.85, 12);
    // np.std([0.8, 0.85, 0.9]) = 0.04082482904638628 (ddof 0; the sample deviation would be 0.05).
    expect(s.std).toBeCloseTo(0.04082482904638628, 12);
    expect(meanStd([0.7])).toEqual({ mean: 0.7, std: 0 });
    expect(meanStd([0.7, null])).toBeNull();
    expect(meanStd([])).toBeNull();
    const spread = seedSpread([
      { id: 'a', seed: 1, metrics: { accuracy: 0.5, base_accuracy: 0.6, new_accuracy: 0.4, h: 0.48 } },
      { id: 'b', seed: 2, metrics: { accuracy: 0.7, base_accuracy: 0.8, new_accuracy: 0.6, h: 0.6857 } }
    ]);
    expect(spread.seeds).toEqual([1, 2]);
    expect(spread.mean.accuracy).toBeCloseTo(0.6, 12);
    expect(spread.std.accuracy).toBeCloseTo(0.1, 12);
    expect(spread.std.h).toBeCloseTo(0.10285, 12);
  });

  it('groups finished runs by every setting but the seed and the sampled set; a group needs two seeds', () => {
    const sets = [
      { id: 1, k: 16, newClassIds: [5, 6] },
      { id: 2, k: 16, newClassIds: [5, 6] },
      { id: 3, k: 4, newClassIds: [5, 6] },
      { id: 4, k: null, newClassIds: [] },
      { id: 5, k: null, newClassIds: [] }
    ];
    const run = (id: string, seed: number, setId: number, extra: Record<string, unknown> = {}, accuracy = 0.5) => ({
      id,
      method: 'mocoop',
      settings: { seed, setId, topK: 2, epochs: 25, schedule: 'lasp-25', ...extra },
      accuracy,
      baseAccuracy: accuracy,
      newAccuracy: accuracy,
      h: accuracy
    });
    const runs = [
      run('s1', 1, 1, {}, 0.6),
      run('s2', 2, 2, {}, 0.8), // seed 2 drew its own 16-shot set: the same experiment
      run('k4', 3, 3), // 4 shots: another experiment
      run('lr', 3, 1, { lr: 0.1 }), // another setting
      run('h1', 1, 4),
      run('h2', 2, 4),
      run('h3', 3, 5) // another hand-picked set
    ];
    const groups = seedGroups(runs, sets);
    expect(groups.map((g) => g.runs.map((r) => r.id))).toEqual([
      ['s1', 's2'],
      ['h1', 'h2']
    ]);
    expect(groups[0]!.spread.mean.accuracy).toBeCloseTo(0.7, 12);
    expect(groups[0]!.spread.std.accuracy).toBeCloseTo(0.1, 12);
    expect(seedGroupKey(runs[0]!, sets[0])).toBe(seedGroupKey(runs[1]!, sets[1]));
    expect(seedGroupKey(runs[0]!, sets[0])).not.toBe(seedGroupKey({ ...runs[0]!, method: 'coop' }, sets[0]));
    // The same seed twice is not a spread.
    expect(seedGroups([run('a', 1, 1), run('b', 1, 2)], sets)).toEqual([]);
  });
});
