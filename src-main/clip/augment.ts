/**
 * Training augmentation as Dassl uses it (see contract/augmentation for the modes): a random resized
 * crop (area 8–100 %, aspect 3/4–4/3, torchvision's RandomResizedCrop.get_params) of the image as
 * Pillow's convert("RGB") gives it, resized to the model's input with Pillow's bicubic (bit-exact, as
 * the plain preprocessing), then a horizontal flip half of the time, then CLIP's normalisation.
 *
 * Every view is drawn from a stream seeded by (run seed, image content hash, key): `fresh` mode keys a
 * view by (epoch, image position), `pool` mode by its index in the pool, so the same seed gives the
 * same views and a pool cached in the project is found again by (seed, view).
 *
 * The older per-file views (`viewSeed`, `randomResizedCrop`, `augmentedPixels`: the engine's
 * `embedImageFiles({ augment })`) stay for callers of that API; training uses the seeded views below.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { seededRandom, mixSeed } from '../util/seeded-random';
import { resizeBicubic } from './pillow-resize';
import { type DecodedImage, decodeImage, normalize } from './preprocess';

export interface CropParams {
  left: number;
  top: number;
  width: number;
  height: number;
  flip: boolean;
}

export function viewSeed(hash: string, view: number): number {
  return createHash('sha256').update(`${hash}:${view}`).digest().readUInt32LE(0);
}

/** torchvision's RandomResizedCrop.get_params with scale (0.08, 1) and ratio (3/4, 4/3); centre crop as fallback. */
export function randomResizedCrop(width: number, height: number, seed: number): CropParams {
  const random = seededRandom(seed);
  const area = width * height;
  const logRatio = [Math.log(3 / 4), Math.log(4 / 3)] as const;
  const flip = random() < 0.5;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (0.08 + random() * (1 - 0.08));
    const ratio = Math.exp(logRatio[0] + random() * (logRatio[1] - logRatio[0]));
    const w = Math.round(Math.sqrt(target * ratio));
    const h = Math.round(Math.sqrt(target / ratio));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return { left: Math.floor(random() * (width - w + 1)), top: Math.floor(random() * (height - h + 1)), width: w, height: h, flip };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < 3 / 4) h = Math.round(w / (3 / 4));
  else if (inRatio > 4 / 3) w = Math.round(h * (4 / 3));
  w = Math.min(w, width);
  h = Math.min(h, height);
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h, flip };
}

/** Normalised CHW pixels of augmented view `view` (≥ 1) of an image file. */
export async function augmentedPixels(file: string, size: number, hash: string, view: number): Promise<Float32Array> {
  const image = sharp(file, { failOn: 'truncated' }).removeAlpha().toColourspace('srgb');
  const meta = await sharp(file).metadata();
  const crop = randomResizedCrop(meta.width!, meta.height!, viewSeed(hash, view));
  let pipeline = image.extract({ left: crop.left, top: crop.top, width: crop.width, height: crop.height }).resize(size, size, { fit: 'fill', kernel: 'cubic' });
  if (crop.flip) pipeline = pipeline.flop();
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  const rgb =
    info.channels === 3
      ? new Uint8Array(data)
      : Uint8Array.from({ length: size * size * 3 }, (_, i) => data[Math.floor(i / 3) * info.channels + (info.channels === 1 ? 0 : i % 3)]!);
  return normalize(rgb, size);
}

/** Python's round(): halves to the even neighbour (torchvision's int(round(...))). */
function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * torchvision's RandomResizedCrop.get_params (scale 0.08–1, ratio 3/4–4/3; up to ten tries, then the
 * centre crop clamped to the ratio range), then RandomHorizontalFlip's coin, in Dassl's order.
 */
export function cropParams(width: number, height: number, random: () => number): CropParams {
  const area = width * height;
  const logRatio = [Math.log(3 / 4), Math.log(4 / 3)] as const;
  let crop: Omit<CropParams, 'flip'> | null = null;
  for (let attempt = 0; attempt < 10 && !crop; attempt++) {
    const target = area * (0.08 + random() * (1 - 0.08));
    const ratio = Math.exp(logRatio[0] + random() * (logRatio[1] - logRatio[0]));
    const w = pyRound(Math.sqrt(target * ratio));
    const h = pyRound(Math.sqrt(target / ratio));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      const top = Math.floor(random() * (height - h + 1));
      const left = Math.floor(random() * (width - w + 1));
      crop = { left, top, width: w, height: h };
    }
  }
  if (!crop) {
    const inRatio = width / height;
    let w = width;
    let h = height;
    if (inRatio < 3 / 4) h = pyRound(w / (3 / 4));
    else if (inRatio > 4 / 3) w = pyRound(h * (4 / 3));
    crop = { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
  }
  return { ...crop, flip: random() < 0.5 };
}

/** The key of a fresh view: image `position` of the training set in `epoch`. */
export const freshViewKey = (epoch: number, position: number): string => `fresh:${epoch}:${position}`;
/** The key of pool view `view` (0-based). */
export const poolViewName = (view: number): string => `pool:${view}`;

/** The crop and flip of view `key` of the image with content `hash` in a run seeded `seed`. */
export function viewCrop(seed: number, hash: string, key: string, width: number, height: number): CropParams {
  return cropParams(width, height, seededRandom(mixSeed('view', seed, hash, key)));
}

/**
 * The feature-cache slot of pool view `view` of runs seeded `seed`: negative numbers, so they never
 * meet the plain features (0) or the older per-file views (1, 2, …).
 */
export function poolViewKey(seed: number, view: number): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 40) throw new RangeError(`the seed must be a whole number from 0 to 2^40 (got ${seed})`);
  if (!Number.isInteger(view) || view < 0 || view >= 1024) throw new RangeError(`a pool holds at most 1024 views (view ${view})`);
  return -(seed * 1024 + view + 1);
}

/** Which pool view each of `images` images takes in `epoch` (one per image per epoch, so one per step it is in). */
export function poolPicks(seed: number, epoch: number, images: number, views: number): number[] {
  const random = seededRandom(mixSeed('pool-pick', seed, epoch));
  return Array.from({ length: images }, () => Math.min(views - 1, Math.floor(random() * views)));
}

/** Pillow's Image.convert("RGB") of a decoded image: grey replicated, alpha dropped, CMYK by cmyk2rgb. */
export function toRgb(image: DecodedImage): Uint8Array {
  const { data, width, height, channels, sourceMode } = image;
  if (channels === 3) return data;
  const pixels = width * height;
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0, p = 0, o = 0; i < pixels; i++, p += channels) {
    if (channels === 1) {
      rgb[o++] = data[p]!;
      rgb[o++] = data[p]!;
      rgb[o++] = data[p]!;
    } else if (sourceMode === 'CMYK') {
      const nk = 255 - data[p + 3]!;
      for (let c = 0; c < 3; c++) {
        const t = data[p + c]! * nk + 128;
        const v = nk - (((t >> 8) + t) >> 8);
        rgb[o++] = v < 0 ? 0 : v;
      }
    } else {
      rgb[o++] = data[p]!;
      rgb[o++] = data[p + 1]!;
      rgb[o++] = data[p + 2]!;
    }
  }
  return rgb;
}

/** The crop of an RGB image resized to size × size with Pillow's bicubic, flipped when the view says so (HWC uint8). */
export function augmentRgb(rgb: Uint8Array, width: number, height: number, crop: CropParams, size: number): Uint8Array {
  const region = new Uint8Array(crop.width * crop.height * 3);
  for (let y = 0; y < crop.height; y++) {
    const from = ((crop.top + y) * width + crop.left) * 3;
    region.set(rgb.subarray(from, from + crop.width * 3), y * crop.width * 3);
  }
  const out = resizeBicubic(region, crop.width, crop.height, 3, size, size);
  if (!crop.flip) return out;
  const flipped = new Uint8Array(out.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const a = (y * size + x) * 3;
      const b = (y * size + (size - 1 - x)) * 3;
      flipped[b] = out[a]!;
      flipped[b + 1] = out[a + 1]!;
      flipped[b + 2] = out[a + 2]!;
    }
  }
  return flipped;
}

export interface AugmentImage {
  path: string;
  hash: string;
}

/**
 * Renders seeded views of image files: each file is decoded once and kept (as RGB) while the cache
 * stays under `cacheBytes`, least recently used dropped first.
 */
export class ViewRenderer {
  private readonly decoded = new Map<string, Promise<{ rgb: Uint8Array; width: number; height: number }>>();
  private bytes = 0;

  constructor(
    readonly size: number,
    readonly seed: number,
    private readonly cacheBytes = 256 * 2 ** 20
  ) {}

  private rgbOf(image: AugmentImage): Promise<{ rgb: Uint8Array; width: number; height: number }> {
    const known = this.decoded.get(image.hash);
    if (known) {
      this.decoded.delete(image.hash);
      this.decoded.set(image.hash, known);
      return known;
    }
    const loading = decodeImage(image.path).then((d) => ({ rgb: toRgb(d), width: d.width, height: d.height }));
    this.decoded.set(image.hash, loading);
    loading.then(
      (d) => {
        this.bytes += d.rgb.length;
        for (const [hash, entry] of this.decoded) {
          if (this.bytes <= this.cacheBytes || hash === image.hash) break;
          this.decoded.delete(hash);
          void entry.then(
            (e) => (this.bytes -= e.rgb.length),
            () => undefined
          );
        }
      },
      () => this.decoded.delete(image.hash)
    );
    return loading;
  }

  /** The crop and flip of view `key` of an image (needs its size, so decodes it). */
  async crop(image: AugmentImage, key: string): Promise<CropParams> {
    const { width, height } = await this.rgbOf(image);
    return viewCrop(this.seed, image.hash, key, width, height);
  }

  /** Normalised CHW pixels of views (image, key), back to back. */
  async pixels(items: { image: AugmentImage; key: string }[]): Promise<Float32Array> {
    const plane = 3 * this.size * this.size;
    const decoded = await Promise.all(items.map((it) => this.rgbOf(it.image)));
    const out = new Float32Array(items.length * plane);
    items.forEach((it, k) => {
      const d = decoded[k]!;
      const crop = viewCrop(this.seed, it.image.hash, it.key, d.width, d.height);
      normalize(augmentRgb(d.rgb, d.width, d.height, crop, this.size), this.size, undefined, undefined, out, k * plane);
    });
    return out;
  }
}

/** What view encoding needs from an engine. */
export interface PixelEncoder {
  imageSize: number;
  embedPixels(pixels: Float32Array, count: number): Promise<Float32Array[]>;
}

/** The features of a step's images, as the trainer asks for them. */
export interface BatchViews {
  /** Features of the training images at `indices` in a step of `epoch`; `next` is the following step's, to prepare meanwhile. */
  features(epoch: number, indices: number[], next?: { epoch: number; indices: number[] }): Promise<Float32Array[]>;
}

/** `fresh` mode: a new view of every image in every step, encoded by the image tower in the step (the next batch's pixels are prepared while this one trains). */
export class FreshViews implements BatchViews {
  private readonly renderer: ViewRenderer;
  private prefetched: { key: string; pixels: Promise<Float32Array> } | null = null;

  constructor(
    private readonly engine: PixelEncoder,
    private readonly images: AugmentImage[],
    seed: number,
    cacheBytes?: number
  ) {
    this.renderer = new ViewRenderer(engine.imageSize, seed, cacheBytes);
  }

  private prepare(epoch: number, indices: number[]): Promise<Float32Array> {
    return this.renderer.pixels(indices.map((n) => ({ image: this.images[n]!, key: freshViewKey(epoch, n) })));
  }

  async features(epoch: number, indices: number[], next?: { epoch: number; indices: number[] }): Promise<Float32Array[]> {
    const key = `${epoch}:${indices.join(',')}`;
    const ready = this.prefetched?.key === key ? this.prefetched.pixels : this.prepare(epoch, indices);
    this.prefetched = null;
    const pixels = await ready;
    if (next) {
      const upcoming = this.prepare(next.epoch, next.indices);
      upcoming.catch(() => undefined);
      this.prefetched = { key: `${next.epoch}:${next.indices.join(',')}`, pixels: upcoming };
    }
    return this.engine.embedPixels(pixels, indices.length);
  }
}

/** `pool` mode: each image's N cached views; a step takes, for each of its images, the view its epoch picked. */
export class PoolViews implements BatchViews {
  private picks: { epoch: number; views: number[] } | null = null;

  constructor(
    private readonly pool: Float32Array[][],
    private readonly seed: number
  ) {
    if (pool.some((views) => views.length !== pool[0]!.length || views.length === 0))
      throw new Error('every image needs the same number of pool views (at least one)');
  }

  /** The pool view index each image takes in `epoch`. */
  picksOf(epoch: number): number[] {
    if (this.picks?.epoch !== epoch) this.picks = { epoch, views: poolPicks(this.seed, epoch, this.pool.length, this.pool[0]!.length) };
    return this.picks.views;
  }

  async features(epoch: number, indices: number[]): Promise<Float32Array[]> {
    const picks = this.picksOf(epoch);
    return indices.map((n) => this.pool[n]![picks[n]!]!);
  }
}

/**
 * The pool of `views` views of every image, encoded once: views already cached (by `cached`) are read,
 * the others rendered, encoded in batches and handed to `store`. An image that cannot be read is
 * reported in `failures` and has no pool.
 */
export async function encodePoolViews(
  engine: PixelEncoder,
  images: AugmentImage[],
  seed: number,
  views: number,
  io: {
    cached: (viewKey: number, hashes: string[]) => Map<string, Float32Array>;
    store: (viewKey: number, items: { hash: string; vector: Float32Array }[]) => void;
    onProgress?: (done: number, total: number) => void;
    shouldStop?: () => boolean;
    batchSize?: number;
  }
): Promise<{ pool: Map<string, Float32Array[]>; encoded: number; failures: { hash: string; path: string; reason: string }[] }> {
  const unique = [...new Map(images.map((im) => [im.hash, im])).values()];
  const hashes = unique.map((im) => im.hash);
  const perView = Array.from({ length: views }, (_, v) => io.cached(poolViewKey(seed, v), hashes));
  const todo: { image: AugmentImage; view: number }[] = [];
  for (let v = 0; v < views; v++) for (const im of unique) if (!perView[v]!.has(im.hash)) todo.push({ image: im, view: v });
  const renderer = new ViewRenderer(engine.imageSize, seed);
  const failures = new Map<string, { hash: string; path: string; reason: string }>();
  const batchSize = io.batchSize ?? 8;
  let encoded = 0;
  for (let start = 0; start < todo.length; start += batchSize) {
    if (io.shouldStop?.()) break;
    const chunk = todo.slice(start, start + batchSize).filter((t) => !failures.has(t.image.hash));
    const ok: typeof chunk = [];
    for (const item of chunk) {
      try {
        await renderer.crop(item.image, poolViewName(item.view));
        ok.push(item);
      } catch (error) {
        failures.set(item.image.hash, { hash: item.image.hash, path: item.image.path, reason: (error as Error).message });
      }
    }
    if (ok.length) {
      const pixels = await renderer.pixels(ok.map((t) => ({ image: t.image, key: poolViewName(t.view) })));
      const vectors = await engine.embedPixels(pixels, ok.length);
      const byView = new Map<number, { hash: string; vector: Float32Array }[]>();
      ok.forEach((t, k) => {
        perView[t.view]!.set(t.image.hash, vectors[k]!);
        if (!byView.has(t.view)) byView.set(t.view, []);
        byView.get(t.view)!.push({ hash: t.image.hash, vector: vectors[k]! });
      });
      for (const [v, items] of byView) io.store(poolViewKey(seed, v), items);
      encoded += ok.length;
    }
    io.onProgress?.(Math.min(todo.length, start + batchSize), todo.length);
  }
  const pool = new Map<string, Float32Array[]>();
  for (const im of unique) {
    const all = perView.map((m) => m.get(im.hash));
    if (all.every((f): f is Float32Array => f !== undefined)) pool.set(im.hash, all);
  }
  return { pool, encoded, failures: [...failures.values()] };
}

/**
 * Encoding throughput of fresh views (decode, crop and resize, image tower), in images per second:
 * one warm-up batch (opens the towers), then `rounds` timed batches of the same images.
 */
export async function measureViewThroughput(
  engine: PixelEncoder,
  images: AugmentImage[],
  rounds = 1
): Promise<{ imagesPerSecond: number; preparePerImageSeconds: number; encodePerImageSeconds: number; images: number }> {
  if (images.length === 0) throw new Error('no images to measure with');
  const renderer = new ViewRenderer(engine.imageSize, 0);
  const items = (round: number) => images.map((image, n) => ({ image, key: freshViewKey(round, n) }));
  await engine.embedPixels(await renderer.pixels(items(-1).slice(0, 1)), 1);
  let prepare = 0;
  let encode = 0;
  for (let round = 0; round < rounds; round++) {
    const t0 = performance.now();
    const pixels = await renderer.pixels(items(round));
    const t1 = performance.now();
    await engine.embedPixels(pixels, images.length);
    encode += performance.now() - t1;
    prepare += t1 - t0;
  }
  const count = images.length * rounds;
  return {
    imagesPerSecond: count / ((prepare + encode) / 1000),
    preparePerImageSeconds: prepare / 1000 / count,
    encodePerImageSeconds: encode / 1000 / count,
    images: count
  };
}
