import { describe, expect, it } from 'vitest';
import { methodName, runDescription, seedGroupDescription } from '../../../src-renderer/src/lib/methods';

describe('naming runs for people', () => {
  it('shortens method labels and keeps unknown ids', () => {
    expect(methodName('mocoop')).toBe('MoCoOp');
    expect(methodName('zeroshot')).toBe('Zero-shot CLIP');
    expect(methodName('mocoop-no-gate')).toBe('MoCoOp without the gate loss');
    expect(methodName('imported-x')).toBe('imported-x');
  });

  it('describes a run by its set and the settings that matter for its method', () => {
    const sets = [{ id: 3, name: 'three-shot' }];
    expect(runDescription({ method: 'mocoop', settings: { setId: 3, topK: 2, epochs: 60, seed: 1 } }, sets)).toBe('three-shot · K 2 · 60 epochs · seed 1');
    expect(runDescription({ method: 'coop', settings: { setId: 3, topK: 2, epochs: 60, seed: 1 } }, sets)).toBe('three-shot · 60 epochs · seed 1');
    expect(runDescription({ method: 'zeroshot', settings: { setId: 9, epochs: 1 } }, sets)).toBe('set #9');
    expect(runDescription({ method: 'mocoop', settings: {} }, sets)).toBe('imported');
    // The named schedule a run started from is part of what tells runs apart.
    expect(runDescription({ method: 'mocoop', settings: { setId: 3, topK: 2, schedule: 'lasp-50', epochs: 50, seed: 2 } }, sets)).toBe(
      'three-shot · K 2 · schedule lasp-50 · 50 epochs · seed 2'
    );
    expect(runDescription({ method: 'zeroshot', settings: { setId: 3, schedule: null } }, sets)).toBe('three-shot');
    // Runs of different seeds are described by what they share: the set's protocol, not the set or the seed.
    const sampled = [
      { id: 3, name: '16-shot seed 1 base-to-new', k: 16, newClassIds: [7] },
      { id: 4, name: 'picked', k: null, newClassIds: [] }
    ];
    expect(seedGroupDescription({ method: 'mocoop', settings: { setId: 3, topK: 2, schedule: 'lasp-25', epochs: 25, seed: 1 } }, sampled)).toBe(
      'MoCoOp · 16-shot base-to-new · K 2 · schedule lasp-25 · 25 epochs'
    );
    expect(seedGroupDescription({ method: 'coop', settings: { setId: 4, epochs: 50, seed: 2 } }, sampled)).toBe('CoOp · picked · 50 epochs');
  });
});
