/** Worker thread: the 2-D PCA map of a feature matrix, off the thread that serves the app. */
import { parentPort } from 'node:worker_threads';
import { pca2dFlat } from './pca';

parentPort!.on('message', ({ data, n, d }: { data: Float32Array; n: number; d: number }) => {
  try {
    const { x, y } = pca2dFlat(data, n, d);
    parentPort!.postMessage({ ok: true, x, y }, [x.buffer as ArrayBuffer, y.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ ok: false, message: (error as Error).message });
  }
});
