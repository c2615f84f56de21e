/**
 * The image-feature cache, written once (ARCHITECTURE.md §2.4): the features of these images by content
 * hash, read from the project (`store/feature-store.ts`), the missing ones encoded in batches and stored
 * batch by batch, so a cancelled or failed encoding keeps what it had done. Encoders: the app's compute
 * worker (`workerEncoder`) or an in-process engine (`engineEncoder`, with augmented views).
 */
import type { ClipEngine, ImageEmbedding } from '../clip/engine';
import type { ComputeClient } from '../compute/compute-client';
import type { FeatureStore } from '../store/feature-store';

/** Encodes files batch by batch, calling `onBatch` with each batch's results (indices into `files`). */
export type BatchEncoder = (files: string[], hashes: string[], onBatch: (results: ImageEmbedding[], done: number, total: number) => void) => Promise<unknown>;

export interface FeatureFill<R> {
  /** Features by content hash: the cached ones and those computed now. */
  features: Map<string, Float32Array>;
  /** Rows whose image could not be encoded (the first row of each missing hash), with the encoder's reason. */
  failures: { row: R; reason: string }[];
  /** Hashes encoded and stored now. */
  computed: number;
  /** Hashes found in the cache. */
  cached: number;
}

/**
 * Features of these rows for a model and view: the cached ones, and the missing hashes (each once, its
 * first row's file) encoded with `encode` and stored batch by batch. `onProgress` hears (0, missing)
 * first, then the encoder's counts after each batch.
 */
export async function fillFeatures<R extends { hash: string; path: string }>(
  cache: FeatureStore,
  modelId: string,
  rows: R[],
  encode: BatchEncoder,
  options: { view?: number; onProgress?: (done: number, total: number) => void } = {}
): Promise<FeatureFill<R>> {
  const view = options.view ?? 0;
  const features = cache.cached(modelId, [...new Set(rows.map((r) => r.hash))], view);
  const cached = features.size;
  const seen = new Set(features.keys());
  const todo = rows.filter((r) => !seen.has(r.hash) && seen.add(r.hash));
  const failures: FeatureFill<R>['failures'] = [];
  options.onProgress?.(0, todo.length);
  if (todo.length) {
    await encode(
      todo.map((r) => r.path),
      todo.map((r) => r.hash),
      (results, done, total) => {
        const fresh: { hash: string; vector: Float32Array }[] = [];
        for (const r of results) {
          const row = todo[r.index]!;
          if (r.vector) {
            features.set(row.hash, r.vector);
            fresh.push({ hash: row.hash, vector: r.vector });
          } else failures.push({ row, reason: r.error ?? 'could not be encoded' });
        }
        cache.store(modelId, fresh, view);
        options.onProgress?.(done, total);
      }
    );
  }
  return { features, failures, computed: todo.length - failures.length, cached };
}

/** The app's compute worker as an encoder (plain features only: view 0). */
export function workerEncoder(compute: Pick<ComputeClient, 'embedImages'>, modelDir: string, signal?: AbortSignal): BatchEncoder {
  return (files, _hashes, onBatch) => compute.embedImages(modelDir, files, onBatch, signal);
}

/** An in-process engine as an encoder; view v ≥ 1 encodes augmented view v of each image (seeded by its hash). */
export function engineEncoder(engine: Pick<ClipEngine, 'embedImageFiles'>, view = 0): BatchEncoder {
  return (files, hashes, onBatch) =>
    engine.embedImageFiles(files, {
      augment: view > 0 ? { hashes, view } : undefined,
      onBatch: (results, done) => onBatch(results, done, files.length)
    });
}

/**
 * Features of these rows from the project cache, the missing ones computed (and cached) with an
 * in-process engine: the features alone, images that cannot be read left out (training's `features`).
 */
export async function engineFeatures(
  cache: FeatureStore,
  engine: Pick<ClipEngine, 'embedImageFiles'>,
  modelId: string,
  rows: { hash: string; path: string }[],
  view = 0
): Promise<Map<string, Float32Array>> {
  return (await fillFeatures(cache, modelId, rows, engineEncoder(engine, view), { view })).features;
}
