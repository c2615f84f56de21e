/**
 * The Train page's augmentation note: which mode a run would take (the one asked for, else fresh on a
 * GPU provider and a pool on the CPU), the image-tower work it needs and, at a throughput measured in
 * the compute worker (fresh views of a few of the set's images), what that costs in seconds.
 */
import { poolViewKey } from '../clip/augment';
import { isSoftwareAdapter } from '../clip/onnx/webgpu-probe';
import type { BackendInfo } from '../clip/backend';
import { type AugmentMode, GPU_PROVIDERS, augmentCost, defaultAugmentMode, describeAugment } from '../contract/augmentation';
import type { AugmentEstimate, AugmentEstimateRequest } from '../contract/schemas';
import { defaultSchedule, scheduleFor } from '../contract/schedules';
import { AppError } from '../contract/errors';
import type { ModelInfo } from '../models/model-store';
import type { ProjectStore } from '../store/project-store';
import { resolveAugment } from '../training/settings';
import { TrainingService } from '../training/training-service';
import type { z } from 'zod';

type Request = z.output<typeof AugmentEstimateRequest>;

/** Where the image tower runs, from the compute worker's start-up probe. */
export function towerPlace(backend: Pick<BackendInfo, 'onnx'> | null): { provider: string | null; software: boolean } {
  const onnx = backend?.onnx;
  if (!onnx || onnx.unavailable || !onnx.provider) return { provider: null, software: false };
  return { provider: onnx.provider, software: onnx.provider === 'webgpu' && !!onnx.webgpuAdapter && isSoftwareAdapter(onnx.webgpuAdapter) };
}

const seconds = (s: number) => (s < 1 ? `${s.toFixed(2)} s` : s < 90 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`);

/** The estimate itself (pure apart from reading the project's cache counts). */
export function estimateAugmentation(
  training: TrainingService,
  model: Pick<ModelInfo, 'id'>,
  input: Request,
  place: { provider: string | null; software: boolean },
  imagesPerSecond: number | null
): AugmentEstimate {
  const { set, rows } = training.trainingImages(input.setId);
  const prompts = input.method !== 'zeroshot' && input.method !== 'linear-probe';
  const defaultMode: AugmentMode = prompts ? defaultAugmentMode(place.provider ?? undefined, place.software) : 'off';
  const mode: AugmentMode = prompts ? (input.augment ?? defaultMode) : 'off';
  const { views } = resolveAugment(mode, input.augViews);
  const schedule = scheduleFor(input.schedule ?? defaultSchedule(input.method), set.k);
  const epochs = prompts ? (input.epochs ?? schedule.epochs) : 1;
  const batchSize = input.batchSize ?? schedule.batchSize;
  const seed = input.seed ?? set.seed ?? 1;
  const hashes = [...new Set(rows.map((r) => r.hash))];
  const cached =
    mode === 'pool'
      ? Array.from({ length: views }, (_, v) => training.store.cachedFeatures(model.id, hashes, poolViewKey(seed, v)).size).reduce((a, b) => a + b, 0)
      : mode === 'off'
        ? training.store.cachedFeatures(model.id, hashes).size
        : 0;
  const cost = augmentCost({ mode, views, images: hashes.length, batchSize, epochs, cached, imagesPerSecond });
  const gpu = !!place.provider && (GPU_PROVIDERS as readonly string[]).includes(place.provider) && !place.software;
  const where =
    place.provider === null
      ? 'the image tower runs in TensorFlow.js'
      : gpu
        ? `the image tower runs on the GPU (${place.provider})`
        : place.software
          ? 'WebGPU here is a software adapter'
          : 'the image tower runs on the CPU';
  const reason = !prompts
    ? `${input.method === 'zeroshot' ? 'Zero-shot CLIP' : 'The linear probe'} uses the plain centre crop (no augmentation).`
    : input.augment
      ? `${mode[0]!.toUpperCase()}${mode.slice(1)}, as chosen: ${describeAugment(mode, views)}.`
      : `${where[0]!.toUpperCase()}${where.slice(1)}, so ${mode === 'fresh' ? 'every step encodes new views, as Dassl does' : 'a pool of views is encoded once and sampled per step (fresh views every step would encode a batch per step)'}.`;
  const parts: string[] = [];
  if (mode === 'pool') {
    parts.push(
      cost.encodedUpFront === 0
        ? `all ${hashes.length * views} pool views already encoded, none per step`
        : `${cost.encodedUpFront} of ${hashes.length * views} pool views to encode before training${cost.secondsUpFront !== null ? ` (about ${seconds(cost.secondsUpFront)})` : ''}, then none per step`
    );
  }
  if (mode === 'fresh')
    parts.push(
      `${cost.encodedPerStep} views encoded per step${cost.secondsPerStep !== null ? ` (about ${seconds(cost.secondsPerStep)} per step, ${seconds(cost.secondsPerEpoch!)} per epoch)` : ''}, ${cost.viewsToEncode} in ${epochs} epoch(s)`
    );
  if (mode === 'off')
    parts.push(
      cost.encodedUpFront
        ? `${cost.encodedUpFront} images to encode once${cost.secondsUpFront !== null ? ` (about ${seconds(cost.secondsUpFront)})` : ''}`
        : 'every image already encoded'
    );
  if (imagesPerSecond !== null) parts.push(`measured ${imagesPerSecond.toFixed(1)} views/s`);
  return {
    mode,
    isDefault: input.augment === undefined || input.augment === defaultMode,
    defaultMode,
    provider: place.provider,
    gpu,
    reason,
    views,
    images: hashes.length,
    epochs,
    batchSize,
    stepsPerEpoch: cost.stepsPerEpoch,
    cached,
    viewsToEncode: cost.viewsToEncode,
    encodedUpFront: cost.encodedUpFront,
    encodedPerStep: cost.encodedPerStep,
    imagesPerSecond,
    secondsUpFront: cost.secondsUpFront,
    secondsPerStep: cost.secondsPerStep,
    secondsPerEpoch: cost.secondsPerEpoch,
    summary: `${describeAugment(mode, views)[0]!.toUpperCase()}${describeAugment(mode, views).slice(1)}: ${parts.join('; ')}.`
  };
}

/** Estimates for the app, with the measured throughput remembered per model and provider while the app runs. */
export class AugmentEstimator {
  private readonly throughput = new Map<string, number>();

  constructor(
    private readonly deps: {
      project: () => ProjectStore;
      model: (id: string) => ModelInfo;
      backend: () => Promise<BackendInfo>;
      measure: (modelDir: string, files: { path: string; hash: string }[]) => Promise<{ imagesPerSecond: number }>;
      /** The run the compute worker is training, if any (measuring then waits for another time). */
      busy: () => string | null;
    }
  ) {}

  async estimate(input: Request): Promise<AugmentEstimate> {
    const model = this.deps.model(input.modelId);
    const place = towerPlace(await this.deps.backend());
    const training = new TrainingService(this.deps.project());
    const key = `${model.id}|${place.provider ?? 'tfjs'}`;
    let measured = this.throughput.get(key) ?? null;
    if (measured === null && input.measure) {
      const busy = this.deps.busy();
      if (busy !== null)
        throw new AppError(
          'busy',
          `Measuring the encoding speed needs the compute worker, which is training run ${busy} now; the estimate shows counts only until it finishes.`
        );
      const { rows } = training.trainingImages(input.setId);
      const sample = [...new Map(rows.map((r) => [r.hash, { path: r.path, hash: r.hash }])).values()].slice(0, 8);
      if (sample.length) {
        measured = (await this.deps.measure(model.dir, sample)).imagesPerSecond;
        this.throughput.set(key, measured);
      }
    }
    return estimateAugmentation(training, model, input, place, measured);
  }
}
