import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendInfo, BackendPreference } from '../clip/backend';
import { AppError } from '../contract/errors';
import type { CoCoOpWeights, ConditionalSpec } from '../mocoop/cocoop';
import type { StepEvent } from '../mocoop/trainer';
import type { ModelInfo } from '../models/model-store';
import type { TrainJob, WorkerReply, WorkerRequest } from './protocol';

const here = path.dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');

function workerCommand(): { file: string; execArgv: string[] } {
  // From sources (tsx, vitest) run the TypeScript worker through tsx; in the built app, the bundled worker beside main.
  return fromSource ? { file: path.join(here, 'worker.ts'), execArgv: ['--import', 'tsx'] } : { file: path.join(here, 'compute-worker.js'), execArgv: [] };
}

interface Job {
  child: ChildProcess;
  onReply: (reply: WorkerReply) => void;
  reject: (error: Error) => void;
}

/**
 * The app's handle on the compute worker process. Jobs run one at a time in the worker; cancelling a
 * job kills the process (it stops at once, whatever tfjs is doing) and the next job starts a new one.
 */
export class ComputeClient {
  private child: ChildProcess | null = null;
  private ready: Promise<BackendInfo> | null = null;
  private jobs = new Map<number, Job>();
  private nextJob = 1;
  backend: BackendInfo | null = null;

  constructor(private preference: BackendPreference = 'auto') {}

  /** Changes the backend preference; the worker restarts with it on the next job. */
  setPreference(preference: BackendPreference): void {
    if (preference === this.preference) return;
    this.preference = preference;
    this.backend = null;
    this.stop();
  }

  private start(): Promise<BackendInfo> {
    if (this.ready) return this.ready;
    const { file, execArgv } = workerCommand();
    const child = fork(file, [], {
      execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }
    });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
    this.child = child;
    this.ready = new Promise<BackendInfo>((resolve, reject) => {
      child.on('message', (reply: WorkerReply) => {
        if (reply.type === 'ready') {
          this.backend = reply.backend;
          resolve(reply.backend);
        } else if (reply.type === 'initFailed') reject(new AppError('unavailable', `The compute backend could not start: ${reply.message}`));
        else this.jobs.get(reply.jobId)?.onReply(reply);
      });
      child.on('exit', (code, signal) => {
        const reason = signal ? `was stopped (${signal})` : `exited with code ${code}`;
        const error = new AppError('internal', `The compute worker ${reason}.${stderr ? ' ' + stderr.trim().split('\n').slice(-3).join(' ') : ''}`);
        reject(error);
        for (const [id, job] of this.jobs) {
          if (job.child !== child) continue;
          this.jobs.delete(id);
          job.reject(error);
        }
        if (this.child === child) {
          this.child = null;
          this.ready = null;
        }
      });
      child.send({ type: 'init', backend: this.preference } satisfies WorkerRequest);
    });
    return this.ready;
  }

  private async run<T>(
    request: (jobId: number) => WorkerRequest,
    onReply: (reply: WorkerReply, finish: (value: T) => void) => void,
    signal?: AbortSignal
  ): Promise<T> {
    await this.start();
    if (signal?.aborted) throw new AppError('busy', 'Cancelled.');
    const jobId = this.nextJob++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.stop();
        reject(new AppError('busy', 'Cancelled.'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        signal?.removeEventListener('abort', onAbort);
        this.jobs.delete(jobId);
      };
      const child = this.child!;
      this.jobs.set(jobId, {
        child,
        reject: (error) => {
          cleanup();
          reject(signal?.aborted ? new AppError('busy', 'Cancelled.') : error);
        },
        onReply: (reply) => {
          if (reply.type === 'failed') {
            cleanup();
            reject(new AppError('bad_source', reply.message));
          } else
            onReply(reply, (value) => {
              cleanup();
              resolve(value);
            });
        }
      });
      child.send(request(jobId));
    });
  }

  async backendInfo(): Promise<BackendInfo> {
    return this.start();
  }

  /** Streams normalised image features batch by batch; resolves with CLIP's logit multiplier. */
  embedImages(
    modelDir: string,
    files: string[],
    onBatch: (results: { index: number; vector?: Float32Array; error?: string }[], done: number, total: number) => void,
    signal?: AbortSignal,
    batchSize = 8
  ): Promise<number> {
    return this.run<number>(
      (jobId) => ({ type: 'embedImages', jobId, modelDir, files, batchSize }),
      (reply, finish) => {
        if (reply.type === 'images') onBatch(reply.results, reply.done, reply.total);
        if (reply.type === 'done') finish(reply.logitScale);
      },
      signal
    );
  }

  embedTexts(modelDir: string, texts: string[], signal?: AbortSignal): Promise<{ vectors: Float32Array[]; logitScale: number }> {
    let vectors: Float32Array[] = [];
    return this.run(
      (jobId) => ({ type: 'embedTexts', jobId, modelDir, texts }),
      (reply, finish) => {
        if (reply.type === 'texts') vectors = reply.vectors;
        if (reply.type === 'done') finish({ vectors, logitScale: reply.logitScale });
      },
      signal
    );
  }

  /** Encoding throughput of fresh augmented views of a few images with a model (images per second) and the provider it ran on. */
  measureViews(modelDir: string, files: { path: string; hash: string }[], signal?: AbortSignal): Promise<{ imagesPerSecond: number; provider: string | null }> {
    let measured = { imagesPerSecond: 0, provider: null as string | null };
    return this.run(
      (jobId) => ({ type: 'measureViews', jobId, modelDir, files }),
      (reply, finish) => {
        if (reply.type === 'viewsMeasured') measured = { imagesPerSecond: reply.imagesPerSecond, provider: reply.provider };
        if (reply.type === 'done') finish(measured);
      },
      signal
    );
  }

  /** Encodes class names a finished run lacks through its learned experts; the derived table is stored with the run in its project file. */
  extendClasses(projectFile: string, modelDir: string, runId: string, names: string[], source: string | null, signal?: AbortSignal): Promise<void> {
    return this.run<void>(
      (jobId) => ({ type: 'extendClasses', jobId, projectFile, modelDir, runId, names, source }),
      (reply, finish) => {
        if (reply.type === 'done') finish(undefined);
      },
      signal
    );
  }

  /** CoCoOp: scores [N][C] of normalised image features against class names (the text tower runs per image). */
  conditionalScores(
    modelDir: string,
    weights: CoCoOpWeights,
    names: string[],
    spec: ConditionalSpec,
    images: Float32Array[],
    signal?: AbortSignal
  ): Promise<number[][]> {
    let scores: number[][] = [];
    return this.run(
      (jobId) => ({ type: 'conditionalScores', jobId, modelDir, weights, names, spec, images }),
      (reply, finish) => {
        if (reply.type === 'scores') scores = reply.scores;
        if (reply.type === 'done') finish(scores);
      },
      signal
    );
  }

  /** Trains in the worker; resolves when training ends. `onRun` gets the run id as soon as it exists. */
  train(
    projectFile: string,
    model: ModelInfo,
    job: TrainJob,
    onRun: (runId: string) => void,
    onStep: (event: StepEvent) => void,
    signal?: AbortSignal
  ): Promise<void> {
    return this.run<void>(
      (jobId) => ({ type: 'train', jobId, projectFile, model, job }),
      (reply, finish) => {
        if (reply.type === 'trainRun') onRun(reply.runId);
        if (reply.type === 'trainStep') onStep(reply.event);
        if (reply.type === 'done') finish(undefined);
      },
      signal
    );
  }

  /** Kills the worker now; the next job starts a fresh one. */
  stop(): void {
    const child = this.child;
    this.child = null;
    this.ready = null;
    child?.kill('SIGKILL');
  }

  dispose(): void {
    this.stop();
  }
}
