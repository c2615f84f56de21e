/**
 * The project's image-feature cache table (`image_features`, migration 3): one vector per (model
 * fingerprint, image content hash, view). Only the SQL; filling it is `features/feature-cache.ts`.
 */
import type { Db } from './database';

/** Hashes looked up per statement (json_each keeps it one bound parameter). */
const LOOKUP_CHUNK = 5000;

export class FeatureStore {
  constructor(private readonly db: Db) {}

  /** Cached features of these content hashes for a model and view (hashes not cached are absent). */
  cached(modelId: string, hashes: string[], view = 0): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    const select = this.db.prepare('SELECT hash, data FROM image_features WHERE model_id = ? AND view = ? AND hash IN (SELECT value FROM json_each(?))');
    for (let i = 0; i < hashes.length; i += LOOKUP_CHUNK) {
      for (const row of select.all(modelId, view, JSON.stringify(hashes.slice(i, i + LOOKUP_CHUNK))) as { hash: string; data: Buffer }[]) {
        const copy = new Uint8Array(row.data.length);
        copy.set(row.data);
        out.set(row.hash, new Float32Array(copy.buffer));
      }
    }
    return out;
  }

  /** Stores (or replaces) these features in one transaction. */
  store(modelId: string, items: { hash: string; vector: Float32Array }[], view = 0): void {
    const insert = this.db.prepare('INSERT OR REPLACE INTO image_features (model_id, hash, view, dim, data) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const { hash, vector } of items) insert.run(modelId, hash, view, vector.length, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength));
    })();
  }

  count(modelId: string, view = 0): number {
    return this.db.prepare('SELECT count(*) FROM image_features WHERE model_id = ? AND view = ?').pluck().get(modelId, view) as number;
  }
}
