/**
 * The compute worker: a child process that owns tfjs, so encoding never blocks the app's event loop,
 * cancelling is killing the process, and a wasm heap that ran out of memory dies with it.
 */
import { initBackend } from '../clip/backend';
import { ClipEngine } from '../clip/engine';
import { probeOnnxRuntime } from '../clip/onnx/onnx-towers';
import { measureViewThroughput } from '../clip/augment';
import { conditionalScoresWith } from '../mocoop/cocoop';
import { engineProvider } from '../training/settings';
import { TrainingService } from '../training/training-service';
import { ProjectStore } from '../store/project-store';
import type { WorkerReply, WorkerRequest } from './protocol';

const send = (reply: WorkerReply) => process.send!(reply);
let engine: { dir: string; gradients: boolean; engine: ClipEngine } | null = null;
let queue: Promise<void> = Promise.resolve();
let backendName = '';

/** The loaded model; training needs the text encoder's input-gradient weights, which encoding does not. */
function engineFor(dir: string, gradients = false): ClipEngine {
  if (engine?.dir !== dir || (gradients && !engine.gradients)) {
    engine?.engine.dispose();
    engine = null;
    engine = { dir, gradients, engine: ClipEngine.load(dir, { textGradients: gradients }) };
  }
  return engine.engine;
}

/** Runs a job on the project file (opened for it, closed after) and answers done with the model's logit scale, or failed. */
async function withProject(jobId: number, projectFile: string, job: (store: ProjectStore) => Promise<number>): Promise<void> {
  let store: ProjectStore | null = null;
  try {
    store = ProjectStore.open(projectFile);
    send({ type: 'done', jobId, logitScale: await job(store) });
  } catch (error) {
    send({ type: 'failed', jobId, message: (error as Error).message });
  } finally {
    store?.close();
  }
}

async function handle(request: WorkerRequest): Promise<void> {
  switch (request.type) {
    case 'init':
      try {
        const info = await initBackend(request.backend);
        info.onnx = await probeOnnxRuntime();
        backendName = `${info.name} · ${info.device}`;
        send({ type: 'ready', backend: info });
      } catch (error) {
        send({ type: 'initFailed', message: (error as Error).message });
      }
      return;
    case 'train':
      return withProject(request.jobId, request.projectFile, async (store) => {
        const clip = engineFor(request.model.dir, true);
        await new TrainingService(store).train(
          clip,
          request.model,
          `${backendName} · text tower on ${(await clip.textGradients()).describe}`,
          request.job,
          (event) => send({ type: 'trainStep', jobId: request.jobId, event }),
          undefined,
          (runId) => send({ type: 'trainRun', jobId: request.jobId, runId })
        );
        return clip.logitScale;
      });
    case 'extendClasses':
      return withProject(request.jobId, request.projectFile, async (store) => {
        // Text forward only, but through the learned prompts: the gradient-capable text tower.
        const clip = engineFor(request.modelDir, true);
        await new TrainingService(store).extendClasses(request.runId, clip, request.names, request.source);
        return clip.logitScale;
      });
    case 'conditionalScores':
      try {
        const clip = engineFor(request.modelDir, true);
        const scores = await conditionalScoresWith(clip, request.weights, request.names, request.spec, request.images);
        send({ type: 'scores', jobId: request.jobId, scores });
        send({ type: 'done', jobId: request.jobId, logitScale: clip.logitScale });
      } catch (error) {
        send({ type: 'failed', jobId: request.jobId, message: (error as Error).message });
      }
      return;
    case 'measureViews':
      try {
        // With the text tower's gradients too: the run that follows reuses this engine.
        const clip = engineFor(request.modelDir, true);
        const measured = await measureViewThroughput(clip, request.files);
        send({ type: 'viewsMeasured', jobId: request.jobId, imagesPerSecond: measured.imagesPerSecond, provider: (await engineProvider(clip)) ?? null });
        send({ type: 'done', jobId: request.jobId, logitScale: clip.logitScale });
      } catch (error) {
        send({ type: 'failed', jobId: request.jobId, message: (error as Error).message });
      }
      return;
    case 'embedImages':
    case 'embedTexts':
      try {
        const clip = engineFor(request.modelDir);
        if (request.type === 'embedTexts') {
          send({ type: 'texts', jobId: request.jobId, vectors: await clip.embedTextsAsync(request.texts) });
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
