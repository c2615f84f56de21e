import { describe, expect, it } from 'vitest';
import { chartedMetrics, comparisonMarks, runStd } from '../../../src-renderer/src/lib/comparison';
import { CORRECT_COLORS, expertColor, legendEntries, pointColor, scalePoints } from '../../../src-renderer/src/lib/routing-map';

const run = (id: string, accuracy: number | null, h: number | null = null) => ({
  id,
  accuracy,
  baseAccuracy: h === null ? null : accuracy,
  newAccuracy: h === null ? null : accuracy,
  h
});
const std = (accuracy: number | null, h: number | null = null) => ({ accuracy, base_accuracy: null, new_accuracy: null, h });

describe('marking differences smaller than the seed spread', () => {
  it('marks a run behind the best by less than its seed std, and not one behind by more', () => {
    const runs = [run('a1', 0.8), run('a2', 0.78), run('b', 0.795), run('c', 0.7)];
    const groups = [{ runs: [{ id: 'a1' }, { id: 'a2' }], spread: { std: std(0.01) } }];
    const marks = comparisonMarks(runs, groups);
    expect(marks.get('a1')!.accuracy).toEqual({ best: true, withinSpread: false, std: 0.01 });
    // b has no seeds, but the best does: 0.005 < 0.01.
    expect(marks.get('b')!.accuracy).toMatchObject({ best: false, withinSpread: true, std: null });
    // a2 is 0.02 behind: more than the spread.
    expect(marks.get('a2')!.accuracy).toMatchObject({ best: false, withinSpread: false });
    expect(marks.get('c')!.accuracy!.withinSpread).toBe(false);
  });

  it('marks nothing as within when no run has seeds, and skips metrics a run lacks', () => {
    const marks = comparisonMarks([run('a', 0.8, 0.7), run('b', 0.79)], []);
    expect(marks.get('b')!.accuracy).toEqual({ best: false, withinSpread: false, std: null });
    expect(marks.get('a')!.h).toEqual({ best: true, withinSpread: false, std: null });
    expect(marks.get('b')!.h).toBeUndefined();
  });

  it('uses the larger std when a run is behind a best from another seed group', () => {
    const groups = [
      { runs: [{ id: 'x' }], spread: { std: std(0.002) } },
      { runs: [{ id: 'y' }], spread: { std: std(0.03) } }
    ];
    const marks = comparisonMarks([run('x', 0.9), run('y', 0.88)], groups);
    expect(marks.get('y')!.accuracy!.withinSpread).toBe(true);
    expect(runStd('y', 'accuracy', groups)).toBe(0.03);
    expect(runStd('z', 'accuracy', groups)).toBeNull();
  });

  it('charts only the metrics some run has', () => {
    expect(chartedMetrics([run('a', 0.5)]).map((m) => m.key)).toEqual(['accuracy']);
    expect(chartedMetrics([run('a', 0.5), run('b', 0.6, 0.55)]).map((m) => m.key)).toEqual(['accuracy', 'base_accuracy', 'new_accuracy', 'h']);
  });
});

describe('the routing map', () => {
  const points = [
    { imageId: 1, labelId: 2, correct: true, topExperts: [1, 0] },
    { imageId: 2, labelId: 1, correct: false, topExperts: [0, 1] },
    { imageId: 3, labelId: 2, correct: false, topExperts: [1, 0] }
  ];
  const classColor = (id: number) => `#00000${id}`;
  const names = { className: (id: number) => `class ${id}`, classColor, classOrder: [2, 1], expertName: (j: number) => `expert ${j + 1} · group ${j}` };

  it('colours a point by class, first expert or correctness', () => {
    expect(pointColor(points[0]!, 'class', classColor)).toBe('#000002');
    expect(pointColor(points[0]!, 'expert', classColor)).toBe(expertColor(1));
    expect(pointColor(points[0]!, 'correct', classColor)).toBe(CORRECT_COLORS.right);
    expect(pointColor(points[1]!, 'correct', classColor)).toBe(CORRECT_COLORS.wrong);
  });

  it('has one legend entry per colour on the map, with counts, in a reading order', () => {
    expect(legendEntries(points, 'class', names)).toEqual([
      { key: 'class:2', label: 'class 2', color: '#000002', count: 2 },
      { key: 'class:1', label: 'class 1', color: '#000001', count: 1 }
    ]);
    expect(legendEntries(points, 'expert', names).map((e) => [e.label, e.count])).toEqual([
      ['expert 1 · group 0', 1],
      ['expert 2 · group 1', 2]
    ]);
    expect(legendEntries(points, 'correct', names).map((e) => [e.key, e.count])).toEqual([
      ['right', 1],
      ['wrong', 2]
    ]);
    expect(legendEntries([points[0]!], 'correct', names).map((e) => e.key)).toEqual(['right']);
  });

  it('scales points into the box with a margin, and centres a flat axis', () => {
    const scaled = scalePoints(
      [
        { x: -1, y: 5 },
        { x: 1, y: 5 },
        { x: 0, y: 5 }
      ],
      100,
      50,
      10
    );
    expect(scaled.map((p) => p.sx)).toEqual([10, 90, 50]);
    expect(scaled.every((p) => p.sy === 25)).toBe(true);
    expect(scalePoints([], 100, 50)).toEqual([]);
  });
});
