/**
 * The compute worker: a child process that owns tfjs, so encoding never blocks the app's event loop,
 * cancelling is killing the process, and a wasm heap that ran out of memory dies with it.
 */
import { initBackend } from '../clip/backend';
import { ClipEngine } from '../clip/engine';
import type { WorkerReply, WorkerRequest } from './protocol';

const send = (reply: WorkerReply) => process.send!(reply);
let engine: { dir: string; engine: ClipEngine } | null = null;
let queue: Promise<void> = Promise.resolve();

function engineFor(dir: string): ClipEngine {
  if (engine?.dir !== dir) {
    engine?.engine.dispose();
    engine = null;
    engine = { dir, engine: ClipEngine.load(dir) };
  }
  return engine.engine;
}

async function handle(request: WorkerRequest): Promise<void> {
  switch (request.type) {
    case 'init':
      try {
        send({ type: 'ready', backend: await initBackend(request.backend) });
      } catch (error) {
        send({ type: 'initFailed', message: (error as Error).message });
      }
      return;
    case 'embedImages':
    case 'embedTexts':
      try {
        const clip = engineFor(request.modelDir);
        if (request.type === 'embedTexts') {
          send({ type: 'texts', jobId: request.jobId, vectors: clip.embedTexts(request.texts) });
        } else {
          await clip.embedImageFiles(request.files, {
            batchSize: request.batchSize,
            onBatch: (results, done) => {
              send({ type: 'images', jobId: request.jobId, results, done, total: request.files.length });
            }
          });
        }
        send({ type: 'done', jobId: request.jobId, logitScale: clip.logitScale });
      } catch (error) {
        send({ type: 'failed', jobId: request.jobId, message: (error as Error).message });
      }
  }
}

process.on('message', (request: WorkerRequest) => {
  queue = queue.then(() => handle(request));
});
process.on('disconnect', () => process.exit(0));
