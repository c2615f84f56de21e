/**
 * Training augmentation modes, as plain data and arithmetic shared by the services, the CLI and the
 * Train page (no Node APIs here).
 *
 * Every mode uses Dassl's training transform: a random resized crop (area 8–100 %, aspect 3/4–4/3,
 * bicubic) to the model's input size, then a horizontal flip half of the time.
 * - `fresh`: a new view of every image at every step, encoded by the image tower in the step (as
 *   Dassl). The default where ONNX Runtime runs on a GPU (CUDA, hardware WebGPU, DirectML, Core ML).
 * - `pool`: N views per image drawn once, encoded once (cached in the project), and each step takes one
 *   view of each of its images from that pool. The default on the CPU, where encoding every step is slow.
 * - `off`: the plain centre crop, encoded once.
 * Views depend on the run's seed only: the same seed gives the same crops and flips.
 */

export const AUGMENT_MODES = ['fresh', 'pool', 'off'] as const;
export type AugmentMode = (typeof AUGMENT_MODES)[number];

/** Views per image in a pool when none is given. */
export const DEFAULT_POOL_VIEWS = 8;
export const MAX_POOL_VIEWS = 32;

/** ONNX Runtime providers that run the image tower on a GPU. */
export const GPU_PROVIDERS = ['cuda', 'webgpu', 'dml', 'coreml'] as const;

export function isAugmentMode(value: unknown): value is AugmentMode {
  return typeof value === 'string' && (AUGMENT_MODES as readonly string[]).includes(value);
}

/**
 * The mode a run takes when none is chosen: `fresh` where the image tower runs on a GPU provider (a
 * software WebGPU adapter does not count), else `pool`.
 */
export function defaultAugmentMode(provider: string | undefined, softwareAdapter = false): Exclude<AugmentMode, 'off'> {
  if (!provider || !(GPU_PROVIDERS as readonly string[]).includes(provider)) return 'pool';
  if (provider === 'webgpu' && softwareAdapter) return 'pool';
  return 'fresh';
}

/** Steps per epoch: whole batches only, the last partial batch dropped as Dassl's train loader does; a set smaller than one batch is one step. */
export function stepsPerEpoch(images: number, batchSize: number): number {
  if (images === 0) return 0;
  return images >= batchSize ? Math.floor(images / batchSize) : 1;
}

export interface AugmentCostInput {
  mode: AugmentMode;
  /** Pool size N (pool mode). */
  views: number;
  /** Training images of the set. */
  images: number;
  batchSize: number;
  epochs: number;
  /** Views already cached in the project: pool views (pool), plain features (off). */
  cached: number;
  /** Measured encoding throughput of augmented views (decode, crop, image tower), or null when not measured. */
  imagesPerSecond: number | null;
}

export interface AugmentCost {
  stepsPerEpoch: number;
  /** Image-tower encodings the run needs in all. */
  viewsToEncode: number;
  /** Encoded before the first step (pool: the missing pool views; off: missing plain features). */
  encodedUpFront: number;
  /** Encoded in every step (fresh: one view per image of the batch). */
  encodedPerStep: number;
  /** Seconds of encoding before the first step, per step and per epoch; null without a throughput. */
  secondsUpFront: number | null;
  secondsPerStep: number | null;
  secondsPerEpoch: number | null;
}

/** What a mode costs in image-tower work, and in seconds at a measured throughput. */
export function augmentCost(input: AugmentCostInput): AugmentCost {
  const steps = stepsPerEpoch(input.images, input.batchSize);
  const perStep = input.mode === 'fresh' ? Math.min(input.batchSize, input.images) : 0;
  const upFront =
    input.mode === 'pool' ? Math.max(0, input.images * input.views - input.cached) : input.mode === 'off' ? Math.max(0, input.images - input.cached) : 0;
  const ips = input.imagesPerSecond && input.imagesPerSecond > 0 ? input.imagesPerSecond : null;
  const seconds = (n: number) => (ips === null ? null : n / ips);
  return {
    stepsPerEpoch: steps,
    viewsToEncode: upFront + perStep * steps * input.epochs,
    encodedUpFront: upFront,
    encodedPerStep: perStep,
    secondsUpFront: seconds(upFront),
    secondsPerStep: seconds(perStep),
    secondsPerEpoch: seconds(perStep * steps)
  };
}

/** One line for a run's settings: "pool of 8 views per image", "fresh views every step", "off (centre crop)". */
export function describeAugment(mode: AugmentMode, views: number): string {
  if (mode === 'pool') return `pool of ${views} random crop + flip views per image, one sampled per step`;
  if (mode === 'fresh') return 'a fresh random crop + flip of every image at every step';
  return 'off (the plain centre crop)';
}
