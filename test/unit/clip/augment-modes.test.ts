import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BatchViews,
  FreshViews,
  PoolViews,
  ViewRenderer,
  augmentRgb,
  cropParams,
  encodePoolViews,
  poolPicks,
  poolViewKey,
  viewCrop
} from '../../../src-main/clip/augment';
import { ClipEngine } from '../../../src-main/clip/engine';
import { augmentCost, defaultAugmentMode } from '../../../src-main/contract/augmentation';
import { PAPER_DEFAULTS, trainPrompts } from '../../../src-main/mocoop/trainer';
import { recordedAugment, resolveAugment } from '../../../src-main/training/settings';
import { seededRandom } from '../../../src-main/util/seeded-random';
import { makeImage } from '../../helpers/images';
import { tempDir } from '../../helpers/temp';
import { TINY_CLIP } from '../../helpers/fixtures';
import { backendForTest } from '../../helpers/tf-backend';

const FIXTURE = TINY_CLIP;

/** An encoder that needs no model: a view's "feature" is a few sums of its pixels (different pixels, different feature). */
const fakeEncoder = (size: number) => {
  const calls: number[] = [];
  return {
    calls,
    imageSize: size,
    async embedPixels(pixels: Float32Array, count: number) {
      calls.push(count);
      const plane = pixels.length / count;
      return Array.from({ length: count }, (_, k) => {
        const v = pixels.subarray(k * plane, (k + 1) * plane);
        let a = 0;
        let b = 0;
        for (let i = 0; i < v.length; i++) {
          a += v[i]!;
          b += v[i]! * ((i % 97) + 1);
        }
        return Float32Array.of(a, b);
      });
    }
  };
};

describe('augmentation views: seeded crops, fresh and pooled views', () => {
  let tmp: ReturnType<typeof tempDir>;
  const images: { path: string; hash: string }[] = [];
  beforeAll(async () => {
    tmp = tempDir();
    for (let i = 0; i < 4; i++)
      images.push({ path: await makeImage(path.join(tmp.dir, `i${i}.png`), 10 + i, { width: 80 + 10 * i, height: 60 }), hash: `hash-${i}` });
  });
  afterAll(() => tmp.cleanup());

  it('crops as torchvision draws them (inside the image, 8–100 % of it, aspect 3/4–4/3) and the flip is a fair coin', () => {
    const random = seededRandom(7);
    let flips = 0;
    for (let i = 0; i < 500; i++) {
      const c = cropParams(200, 150, random);
      expect(c.left + c.width).toBeLessThanOrEqual(200);
      expect(c.top + c.height).toBeLessThanOrEqual(150);
      const area = (c.width * c.height) / (200 * 150);
      expect(area).toBeGreaterThan(0.07);
      expect(area).toBeLessThanOrEqual(1);
      expect(c.width / c.height).toBeGreaterThan(0.7);
      expect(c.width / c.height).toBeLessThan(1.4);
      if (c.flip) flips++;
    }
    expect(flips).toBeGreaterThan(200);
    expect(flips).toBeLessThan(300);
  });

  it('the same seed gives the same crops; another seed, image or key gives others', () => {
    const a = Array.from({ length: 20 }, (_, n) => viewCrop(1, 'h', `fresh:0:${n}`, 120, 90));
    expect(Array.from({ length: 20 }, (_, n) => viewCrop(1, 'h', `fresh:0:${n}`, 120, 90))).toEqual(a);
    const otherSeed = Array.from({ length: 20 }, (_, n) => viewCrop(2, 'h', `fresh:0:${n}`, 120, 90));
    expect(otherSeed).not.toEqual(a);
    expect(otherSeed.filter((c, n) => JSON.stringify(c) === JSON.stringify(a[n])).length).toBeLessThan(3);
    expect(Array.from({ length: 20 }, (_, n) => viewCrop(1, 'h2', `fresh:0:${n}`, 120, 90))).not.toEqual(a);
    expect(Array.from({ length: 20 }, (_, n) => viewCrop(1, 'h', `fresh:1:${n}`, 120, 90))).not.toEqual(a);
  });

  it('a flipped view is the mirror image of the unflipped one', () => {
    const w = 12;
    const h = 10;
    const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);
    const crop = { left: 2, top: 1, width: 8, height: 8, flip: false };
    const plain = augmentRgb(rgb, w, h, crop, 8);
    const flipped = augmentRgb(rgb, w, h, { ...crop, flip: true }, 8);
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) for (let c = 0; c < 3; c++) expect(flipped[(y * 8 + x) * 3 + c]).toBe(plain[(y * 8 + 7 - x) * 3 + c]);
    // Same size, no flip: the crop itself.
    expect(Array.from(plain.subarray(0, 3))).toEqual(Array.from(rgb.subarray((1 * w + 2) * 3, (1 * w + 2) * 3 + 3)));
  });

  it('renders the same pixels for the same seed and key, others for another seed', async () => {
    const one = new ViewRenderer(32, 1);
    const a = await one.pixels([{ image: images[0]!, key: 'pool:0' }]);
    const b = await new ViewRenderer(32, 1).pixels([{ image: images[0]!, key: 'pool:0' }]);
    const c = await new ViewRenderer(32, 2).pixels([{ image: images[0]!, key: 'pool:0' }]);
    expect(a).toHaveLength(3 * 32 * 32);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('fresh mode encodes a new view of each image in every step (same seed, same features)', async () => {
    const enc = fakeEncoder(16);
    const fresh = new FreshViews(enc, images, 3);
    const e0 = await fresh.features(0, [0, 1], { epoch: 0, indices: [2, 3] });
    const e0b = await fresh.features(0, [2, 3]);
    const e1 = await fresh.features(1, [0, 1]);
    expect(enc.calls).toEqual([2, 2, 2]);
    expect(Array.from(e1[0]!)).not.toEqual(Array.from(e0[0]!));
    const again = new FreshViews(fakeEncoder(16), images, 3);
    expect((await again.features(0, [0, 1])).map((f) => Array.from(f))).toEqual(e0.map((f) => Array.from(f)));
    expect((await again.features(0, [2, 3])).map((f) => Array.from(f))).toEqual(e0b.map((f) => Array.from(f)));
    const otherSeed = new FreshViews(fakeEncoder(16), images, 4);
    expect((await otherSeed.features(0, [0, 1])).map((f) => Array.from(f))).not.toEqual(e0.map((f) => Array.from(f)));
  });

  it('a pool is encoded once per (seed, view), cached, and read back for the same seed', async () => {
    const cache = new Map<number, Map<string, Float32Array>>();
    const io = {
      cached: (key: number, hashes: string[]) => new Map(hashes.flatMap((h) => (cache.get(key)?.has(h) ? [[h, cache.get(key)!.get(h)!] as const] : []))),
      store: (key: number, items: { hash: string; vector: Float32Array }[]) => {
        if (!cache.has(key)) cache.set(key, new Map());
        items.forEach((it) => cache.get(key)!.set(it.hash, it.vector));
      }
    };
    const enc = fakeEncoder(16);
    const first = await encodePoolViews(enc, images, 5, 3, io);
    expect(first.encoded).toBe(4 * 3);
    expect(first.pool.size).toBe(4);
    expect([...cache.keys()].sort()).toEqual([poolViewKey(5, 0), poolViewKey(5, 1), poolViewKey(5, 2)].sort());
    const again = await encodePoolViews(fakeEncoder(16), images, 5, 3, io);
    expect(again.encoded).toBe(0);
    expect([...again.pool.values()].flat().map((f) => Array.from(f))).toEqual([...first.pool.values()].flat().map((f) => Array.from(f)));
    // The views of one image differ, and another seed draws another pool.
    const views = first.pool.get('hash-0')!.map((f) => f.join(','));
    expect(new Set(views).size).toBe(3);
    const other = await encodePoolViews(fakeEncoder(16), images, 6, 3, io);
    expect(other.encoded).toBe(12);
    expect(other.pool.get('hash-0')!.map((f) => f.join(','))).not.toEqual(views);
    // An unreadable file is reported and has no pool; the others do.
    const broken = await encodePoolViews(fakeEncoder(16), [...images, { path: path.join(tmp.dir, 'missing.png'), hash: 'gone' }], 5, 3, io);
    expect(broken.failures.map((f) => f.hash)).toEqual(['gone']);
    expect(broken.pool.has('gone')).toBe(false);
    expect(broken.pool.size).toBe(4);
    // Pool slots never meet the plain features (0) or older per-file views (1, 2, …).
    expect(poolViewKey(0, 0)).toBeLessThan(0);
    expect(poolViewKey(1, 0)).not.toBe(poolViewKey(0, 1));
  });

  it('pool sampling: one view per image per epoch, from its pool, the same for the same seed', async () => {
    const N = 4;
    const pool = Array.from({ length: 6 }, (_, n) => Array.from({ length: N }, (_, v) => Float32Array.of(n, v)));
    const views = new PoolViews(pool, 9);
    for (let epoch = 0; epoch < 5; epoch++) {
      const picks = poolPicks(9, epoch, 6, N);
      expect(picks.every((v) => Number.isInteger(v) && v >= 0 && v < N)).toBe(true);
      const got = await views.features(epoch, [5, 0, 3]);
      expect(got.map((f) => Array.from(f))).toEqual([5, 0, 3].map((n) => [n, picks[n]!]));
    }
    // Over epochs every view gets used, and another seed picks differently.
    const used = new Set(Array.from({ length: 20 }, (_, e) => poolPicks(9, e, 6, N)).flat());
    expect(used.size).toBe(N);
    expect(Array.from({ length: 5 }, (_, e) => poolPicks(10, e, 6, N))).not.toEqual(Array.from({ length: 5 }, (_, e) => poolPicks(9, e, 6, N)));
  });

  it('the trainer asks each step for exactly its batch, each image once per epoch', async () => {
    await backendForTest('wasm');
    const engine = ClipEngine.load(FIXTURE, { textGradients: true });
    try {
      const P = engine.dim;
      const pool = Array.from({ length: 6 }, (_, n) =>
        Array.from({ length: 3 }, (_, v) => Float32Array.from({ length: P }, (_, p) => Math.sin(n + v * 3 + p)))
      );
      const inner = new PoolViews(pool, 2);
      const asked: { epoch: number; indices: number[] }[] = [];
      const views: BatchViews = {
        features: (epoch, indices) => {
          asked.push({ epoch, indices });
          return inner.features(epoch, indices);
        }
      };
      const features = pool.map((v) => v[0]!);
      await trainPrompts(
        engine,
        { classNames: ['ant', 'bee'], virtualNames: [], groups: [['a photo of a {}.']], features, labels: [0, 1, 0, 1, 0, 1], views },
        { ...PAPER_DEFAULTS, method: 'coop', epochs: 2, lr: 0.01, batchSize: 3 }
      );
      expect(asked).toHaveLength(4);
      for (const epoch of [0, 1]) {
        const seen = asked.filter((a) => a.epoch === epoch).flatMap((a) => a.indices);
        expect(seen.sort()).toEqual([0, 1, 2, 3, 4, 5]);
      }
      expect(asked.every((a) => a.indices.length === 3)).toBe(true);
    } finally {
      engine.dispose();
    }
  });

  it('picks fresh on a GPU provider and a pool on the CPU; old records resume as they trained', () => {
    expect(defaultAugmentMode('cpu')).toBe('pool');
    expect(defaultAugmentMode(undefined)).toBe('pool');
    expect(defaultAugmentMode('cuda')).toBe('fresh');
    expect(defaultAugmentMode('webgpu')).toBe('fresh');
    expect(defaultAugmentMode('webgpu', true)).toBe('pool');
    expect(resolveAugment('pool')).toEqual({ mode: 'pool', views: 8 });
    expect(resolveAugment('pool', 4)).toEqual({ mode: 'pool', views: 4 });
    expect(resolveAugment('fresh', 4)).toEqual({ mode: 'fresh', views: 0 });
    expect(recordedAugment({ augViews: 0 })).toEqual({ mode: 'off', views: 0 });
    expect(recordedAugment({ augViews: 3 })).toEqual({ mode: 'pool', views: 3 });
    expect(recordedAugment({ augment: 'fresh', augViews: 0 })).toEqual({ mode: 'fresh', views: 0 });
  });

  it('costs: a pool encodes images × N once, fresh a batch every step', () => {
    const pool = augmentCost({ mode: 'pool', views: 8, images: 64, batchSize: 32, epochs: 10, cached: 64, imagesPerSecond: 16 });
    expect(pool).toMatchObject({ stepsPerEpoch: 2, encodedUpFront: 64 * 7, encodedPerStep: 0, viewsToEncode: 448, secondsUpFront: 28, secondsPerStep: 0 });
    const fresh = augmentCost({ mode: 'fresh', views: 0, images: 64, batchSize: 32, epochs: 10, cached: 0, imagesPerSecond: 16 });
    expect(fresh).toMatchObject({ encodedUpFront: 0, encodedPerStep: 32, viewsToEncode: 640, secondsPerStep: 2, secondsPerEpoch: 4 });
    expect(augmentCost({ mode: 'fresh', views: 0, images: 64, batchSize: 32, epochs: 10, cached: 0, imagesPerSecond: null }).secondsPerStep).toBeNull();
  });
});
