import type { BackendInfo, BackendPreference } from '../clip/backend';
import type { AugmentMode } from '../contract/augmentation';
import type { ScheduleName } from '../contract/schedules';
import type { CoCoOpWeights, ConditionalSpec } from '../mocoop/cocoop';
import type { LossOverrides, StepEvent } from '../mocoop/trainer';
import type { ModelInfo } from '../models/model-store';

export interface TrainJob {
  method: string;
  preset?: 'paper' | 'released-code';
  /** Training augmentation (default: the backend's); augViews: a pool's views per image. */
  augment?: AugmentMode;
  augViews?: number;
  setId?: number;
  topK?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** A published schedule; explicit fields override it. */
  schedule?: ScheduleName;
  loss?: LossOverrides;
  resume?: string;
}

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
