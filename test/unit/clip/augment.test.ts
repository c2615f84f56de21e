import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { augmentedPixels, randomResizedCrop, viewSeed } from '../../../src-main/clip/augment';
import { makeImage } from '../../helpers/images';
import { tempDir } from '../../helpers/temp';

describe('training augmentation views', () => {
  let tmp: ReturnType<typeof tempDir>;
  let file: string;
  beforeAll(async () => {
    tmp = tempDir();
    file = await makeImage(path.join(tmp.dir, 'a.png'), 42, { width: 120, height: 90 });
  });
  afterAll(() => tmp.cleanup());

  it('random resized crops stay inside the image, cover 8–100 % of it, and depend only on the seed', () => {
    for (let s = 0; s < 200; s++) {
      const c = randomResizedCrop(120, 90, s);
      expect(c.left).toBeGreaterThanOrEqual(0);
      expect(c.top).toBeGreaterThanOrEqual(0);
      expect(c.left + c.width).toBeLessThanOrEqual(120);
      expect(c.top + c.height).toBeLessThanOrEqual(90);
      expect((c.width * c.height) / (120 * 90)).toBeGreaterThan(0.06);
      expect(randomResizedCrop(120, 90, s)).toEqual(c);
    }
    const flips = Array.from({ length: 200 }, (_, s) => randomResizedCrop(120, 90, s).flip).filter(Boolean).length;
    expect(flips).toBeGreaterThan(60);
    expect(flips).toBeLessThan(140);
    expect(viewSeed('abc', 1)).not.toBe(viewSeed('abc', 2));
  });

  it('gives the same pixels for the same view and different pixels for another view', async () => {
    const a = await augmentedPixels(file, 32, 'hash', 1);
    const b = await augmentedPixels(file, 32, 'hash', 1);
    const c = await augmentedPixels(file, 32, 'hash', 2);
    expect(a).toHaveLength(3 * 32 * 32);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
});
