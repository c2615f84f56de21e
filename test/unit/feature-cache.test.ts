import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageEmbedding } from '../../src-main/clip/engine';
import { type BatchEncoder, engineEncoder, engineFeatures, fillFeatures, workerEncoder } from '../../src-main/features/feature-cache';
import { ProjectStore } from '../../src-main/store/project-store';
import { tempDir } from '../helpers/temp';

const vec = (...xs: number[]) => new Float32Array(xs);

/** An encoder that records what it was asked for and answers in batches of two ("bad" files fail). */
function fakeEncoder(batch = 2): BatchEncoder & { calls: { files: string[]; hashes: string[] }[] } {
  const calls: { files: string[]; hashes: string[] }[] = [];
  const encode = (async (files: string[], hashes: string[], onBatch: (results: ImageEmbedding[], done: number, total: number) => void) => {
    calls.push({ files, hashes });
    for (let start = 0; start < files.length; start += batch) {
      const results = files
        .slice(start, start + batch)
        .map((file, k) => (file.includes('bad') ? { index: start + k, error: 'cannot decode' } : { index: start + k, vector: vec(start + k, file.length) }));
      onBatch(results, Math.min(files.length, start + batch), files.length);
    }
  }) as BatchEncoder & { calls: typeof calls };
  encode.calls = calls;
  return encode;
}

describe('feature cache: features by content hash, computed only for the missing ones', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: ProjectStore;
  beforeEach(() => {
    tmp = tempDir();
    store = ProjectStore.create(path.join(tmp.dir, 'p.mocoop'));
  });
  afterEach(() => {
    store.close();
    tmp.cleanup();
  });

  it('encodes each missing hash once (its first row), stores it, reports failures and progress', async () => {
    store.storeFeatures('m', [{ hash: 'h1', vector: vec(1, 1) }]);
    const rows = [
      { id: 1, path: '/a.jpg', hash: 'h1' },
      { id: 2, path: '/b.jpg', hash: 'h2' },
      { id: 3, path: '/b-copy.jpg', hash: 'h2' },
      { id: 4, path: '/bad.jpg', hash: 'h3' },
      { id: 5, path: '/c.jpg', hash: 'h4' }
    ];
    const encode = fakeEncoder();
    const progress: [number, number][] = [];
    const result = await fillFeatures(store.features, 'm', rows, encode, { onProgress: (d, t) => progress.push([d, t]) });
    expect(encode.calls).toEqual([{ files: ['/b.jpg', '/bad.jpg', '/c.jpg'], hashes: ['h2', 'h3', 'h4'] }]);
    expect([...result.features.keys()].sort()).toEqual(['h1', 'h2', 'h4']);
    expect(result.features.get('h1')).toEqual(vec(1, 1));
    expect(result.failures).toEqual([{ row: rows[3], reason: 'cannot decode' }]);
    expect(result).toMatchObject({ computed: 2, cached: 1 });
    expect(progress).toEqual([
      [0, 3],
      [2, 3],
      [3, 3]
    ]);
    // Stored batch by batch: a second fill encodes only what failed.
    expect(store.featureCount('m')).toBe(3);
    expect(store.cachedFeatures('m', ['h2', 'h4']).get('h4')).toEqual(vec(2, '/c.jpg'.length));
    const again = fakeEncoder();
    const second = await fillFeatures(store.features, 'm', rows, again);
    expect(again.calls).toEqual([{ files: ['/bad.jpg'], hashes: ['h3'] }]);
    expect(second).toMatchObject({ computed: 0, cached: 3 });
  });

  it('encodes nothing when every hash is cached, and keeps views and models apart', async () => {
    store.storeFeatures('m', [{ hash: 'h1', vector: vec(1) }]);
    store.storeFeatures('m', [{ hash: 'h1', vector: vec(2) }], 3);
    const encode = fakeEncoder();
    const progress: [number, number][] = [];
    const plain = await fillFeatures(store.features, 'm', [{ path: '/a.jpg', hash: 'h1' }], encode, { onProgress: (d, t) => progress.push([d, t]) });
    expect(encode.calls).toEqual([]);
    expect(progress).toEqual([[0, 0]]);
    expect(plain.features.get('h1')).toEqual(vec(1));
    const view = await fillFeatures(store.features, 'm', [{ path: '/a.jpg', hash: 'h1' }], encode, { view: 3 });
    expect(view.features.get('h1')).toEqual(vec(2));
    await fillFeatures(store.features, 'other-model', [{ path: '/a.jpg', hash: 'h1' }], encode);
    expect(encode.calls).toHaveLength(1);
    expect(store.featureCount('other-model')).toBe(1);
    expect(store.featureCount('m', 3)).toBe(1);
  });

  it("engineFeatures: the engine's augmented view for view > 0, plain features otherwise, stored under that view", async () => {
    const asked: { files: string[]; augment: unknown }[] = [];
    const engine = {
      embedImageFiles: async (files: string[], options: { onBatch?: (r: ImageEmbedding[], done: number) => void; augment?: unknown } = {}) => {
        asked.push({ files, augment: options.augment });
        const results = files.map((f, index) => (f.includes('bad') ? { index, error: 'x' } : { index, vector: vec(index + 10) }));
        options.onBatch?.(results, files.length);
        return results;
      }
    };
    store.storeFeatures('m', [{ hash: 'h1', vector: vec(7) }], 2);
    const rows = [
      { path: '/a.jpg', hash: 'h1' },
      { path: '/b.jpg', hash: 'h2' },
      { path: '/bad.jpg', hash: 'h3' }
    ];
    const viewed = await engineFeatures(store.features, engine, 'm', rows, 2);
    expect(asked).toEqual([{ files: ['/b.jpg', '/bad.jpg'], augment: { hashes: ['h2', 'h3'], view: 2 } }]);
    expect([...viewed.entries()]).toEqual([
      ['h1', vec(7)],
      ['h2', vec(10)]
    ]);
    expect(store.cachedFeatures('m', ['h2'], 2).get('h2')).toEqual(vec(10));
    expect(store.featureCount('m')).toBe(0);
    await engineFeatures(store.features, engine, 'm', rows);
    expect(asked[1]).toEqual({ files: ['/a.jpg', '/b.jpg', '/bad.jpg'], augment: undefined });
    expect(store.featureCount('m')).toBe(2);
  });

  it('the encoders pass their batches through with the counts', async () => {
    const seen: unknown[] = [];
    const compute = {
      embedImages: async (dir: string, files: string[], onBatch: (r: ImageEmbedding[], done: number, total: number) => void, signal?: AbortSignal) => {
        seen.push({ dir, files, aborted: signal?.aborted ?? null });
        onBatch([{ index: 0, vector: vec(1) }], 1, files.length);
        return 100;
      }
    };
    const batches: unknown[] = [];
    await workerEncoder(compute, '/models/x')(['/a.jpg', '/b.jpg'], ['h1', 'h2'], (r, d, t) => batches.push([r.length, d, t]));
    expect(seen).toEqual([{ dir: '/models/x', files: ['/a.jpg', '/b.jpg'], aborted: null }]);
    const engine = {
      embedImageFiles: async (files: string[], options: { onBatch?: (r: ImageEmbedding[], done: number) => void } = {}) => {
        options.onBatch?.([{ index: 0, vector: vec(1) }], 1);
        return [];
      }
    };
    await engineEncoder(engine)(['/a.jpg', '/b.jpg', '/c.jpg'], ['h1', 'h2', 'h3'], (r, d, t) => batches.push([r.length, d, t]));
    expect(batches).toEqual([
      [1, 1, 2],
      [1, 1, 3]
    ]);
  });
});
