/** Worker thread: the 2-D map (PCA or UMAP) of a feature matrix, off the thread that serves the app. */
import { parentPort } from 'node:worker_threads';
import { type Projection, project2dFlat } from './projection';

parentPort!.on('message', ({ data, n, d, projection, seed }: { data: Float32Array; n: number; d: number; projection?: Projection; seed?: number }) => {
  try {
    const { x, y } = project2dFlat(data, n, d, projection ?? 'pca', seed ?? 1);
    parentPort!.postMessage({ ok: true, x, y }, [x.buffer as ArrayBuffer, y.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ ok: false, message: (error as Error).message });
  }
});
