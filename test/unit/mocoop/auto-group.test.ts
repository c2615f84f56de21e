import { describe, expect, it } from 'vitest';
import { autoGroup, kMeans, silhouette } from '../../../src-main/mocoop/auto-group';

const around = (centre: number[], jitter: number[]) => Float32Array.from(centre.map((x, i) => x + jitter[i]!));

describe('automatic template grouping', () => {
  // Three tight bundles of directions: the grouping must find them and suggest G = 3.
  const templates = [
    'a photo of a {}.',
    'a good photo of a {}.',
    'a bright photo of a {}.',
    'a sketch of a {}.',
    'a drawing of a {}.',
    'a painting of a {}.',
    'a {} in a video game.',
    'a {} toy.'
  ];
  const features = [
    around([1, 0, 0], [0, 0.05, 0]),
    around([1, 0, 0], [0, 0, 0.05]),
    around([1, 0, 0], [0, -0.05, 0]),
    around([0, 1, 0], [0.05, 0, 0]),
    around([0, 1, 0], [0, 0, 0.05]),
    around([0, 1, 0], [0, 0, -0.05]),
    around([0, 0, 1], [0.05, 0, 0]),
    around([0, 0, 1], [0, 0.05, 0])
  ];

  it('finds the bundles, suggests their number and puts the most central template first', () => {
    const result = autoGroup(templates, features);
    expect(result.suggested).toBe(3);
    const sets = result.groups.map((g) => [...g].sort());
    expect(sets).toContainEqual(['a bright photo of a {}.', 'a good photo of a {}.', 'a photo of a {}.'].sort());
    expect(sets).toContainEqual(['a drawing of a {}.', 'a painting of a {}.', 'a sketch of a {}.'].sort());
    expect(sets).toContainEqual(['a toy.'.replace('a toy.', 'a {} toy.'), 'a {} in a video game.'].sort());
    const photos = result.groups.find((g) => g.includes('a photo of a {}.'))!;
    expect(photos[0]).toBe('a good photo of a {}.');
  });

  it('honours a chosen number of groups and is deterministic', () => {
    expect(autoGroup(templates, features, 2).groups).toHaveLength(2);
    expect(kMeans(features, 3, 7)).toEqual(kMeans(features, 3, 7));
    expect(silhouette(features, kMeans(features, 3, 1))).toBeGreaterThan(silhouette(features, kMeans(features, 2, 1)));
  });
});
