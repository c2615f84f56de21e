/** Runs the 2-D map (PCA or UMAP) in a worker thread (the bundled pca-worker.js in the app; the TypeScript source through tsx otherwise). */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { stackRows } from './pca';
import type { Projection } from './projection';

const here = path.dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');

function startWorker(): Worker {
  if (!fromSource) return new Worker(path.join(here, 'pca-worker.js'));
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  return new Worker(`require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(path.join(here, 'pca-worker.ts'))});`, { eval: true });
}

/** `projection`: PCA (default) or UMAP, seeded with `seed` so the same features always give the same map. */
export async function pca2dInWorker(vectors: Float32Array[], projection: Projection = 'pca', seed = 1): Promise<{ x: number; y: number }[]> {
  if (vectors.length === 0) return [];
  const { data, n, d } = stackRows(vectors);
  return new Promise((resolve, reject) => {
    const worker = startWorker();
    const done = (finish: () => void) => {
      void worker.terminate();
      finish();
    };
    worker.once('message', (reply: { ok: true; x: Float64Array; y: Float64Array } | { ok: false; message: string }) =>
      done(() => (reply.ok ? resolve(Array.from({ length: n }, (_, i) => ({ x: reply.x[i]!, y: reply.y[i]! }))) : reject(new Error(reply.message))))
    );
    worker.once('error', (error) => done(() => reject(error)));
    worker.postMessage({ data, n, d, projection, seed }, [data.buffer as ArrayBuffer]);
  });
}
