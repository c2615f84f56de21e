import type { BackendInfo, BackendPreference } from '../clip/backend';

/** Messages between the app and its compute worker process (structured clone: typed arrays travel as they are). */
export type WorkerRequest =
  | { type: 'init'; backend: BackendPreference }
  | { type: 'embedImages'; jobId: number; modelDir: string; files: string[]; batchSize: number }
  | { type: 'embedTexts'; jobId: number; modelDir: string; texts: string[] };

export type WorkerReply =
  | { type: 'ready'; backend: BackendInfo }
  | { type: 'initFailed'; message: string }
  | { type: 'images'; jobId: number; results: { index: number; vector?: Float32Array; error?: string }[]; done: number; total: number }
  | { type: 'texts'; jobId: number; vectors: Float32Array[] }
  | { type: 'done'; jobId: number; logitScale: number }
  | { type: 'failed'; jobId: number; message: string };
