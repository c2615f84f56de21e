import type { BackendInfo, BackendPreference } from '../clip/backend';
import type { CoCoOpWeights, ConditionalSpec } from '../mocoop/cocoop';
import type { StepEvent } from '../mocoop/trainer';
import type { ModelInfo } from '../models/model-store';
import type { TrainOptions } from '../training/types';

/** A training run as the worker is asked for it: `TrainingService.train`'s options (the schedule's warm-up and the data set are resolved by the trainer). */
export type TrainJob = Omit<TrainOptions, 'warmupEpochs' | 'dataset'>;

/** Messages between the app and its compute worker process (structured clone: typed arrays travel as they are). */
export type WorkerRequest =
  | { type: 'init'; backend: BackendPreference }
  | { type: 'embedImages'; jobId: number; modelDir: string; files: string[]; batchSize: number }
  | { type: 'embedTexts'; jobId: number; modelDir: string; texts: string[] }
  | { type: 'train'; jobId: number; projectFile: string; model: ModelInfo; job: TrainJob }
  /** Encodes class names a finished run lacks through its learned experts into a derived table stored with the run. */
  | { type: 'extendClasses'; jobId: number; projectFile: string; modelDir: string; runId: string; names: string[]; source: string | null }
  /** CoCoOp: scores of images (normalised features) against class names; the text tower runs on each image's prompts. */
  | {
      type: 'conditionalScores';
      jobId: number;
      modelDir: string;
      weights: CoCoOpWeights;
      names: string[];
      spec: ConditionalSpec;
      images: Float32Array[];
    }
  /** Encoding throughput of fresh augmented views of these images (decode, crop, image tower). */
  | { type: 'measureViews'; jobId: number; modelDir: string; files: { path: string; hash: string }[] };

export type WorkerReply =
  | { type: 'ready'; backend: BackendInfo }
  | { type: 'initFailed'; message: string }
  | { type: 'images'; jobId: number; results: { index: number; vector?: Float32Array; error?: string }[]; done: number; total: number }
  | { type: 'texts'; jobId: number; vectors: Float32Array[] }
  | { type: 'scores'; jobId: number; scores: number[][] }
  | { type: 'trainRun'; jobId: number; runId: string }
  | { type: 'trainStep'; jobId: number; event: StepEvent }
  | { type: 'viewsMeasured'; jobId: number; imagesPerSecond: number; provider: string | null }
  | { type: 'done'; jobId: number; logitScale: number }
  | { type: 'failed'; jobId: number; message: string };
