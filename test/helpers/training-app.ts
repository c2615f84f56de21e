import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { dispatch } from '../../src-main/contract/dispatch';
import { AppServices } from '../../src-main/services/app-services';
import { TINY_CLIP } from './fixtures';
import { makeImageFolder } from './images';
import { useEnv, useTempDir } from './suite';

/** A train.progress event as the tests read it. */
export interface TrainProgress {
  runId: string;
  epoch: number;
  step: number;
  loss: number;
}

/** A train.finished event. */
export interface TrainFinished {
  runId: string;
  status: string;
  interrupted?: boolean;
  error?: string;
}

export interface TrainingApp {
  /** The suite's temporary folder (data/, config/ and p.mocoop are the app's). */
  readonly dir: string;
  readonly app: AppServices;
  readonly projectFile: string;
  /** The tiny CLIP model, imported. */
  readonly modelId: string;
  /** A request through the dispatcher, as a window sends it; an error envelope throws "code: message". */
  call(name: string, input?: unknown): Promise<any>;
  /** The train.finished event of `runId` (subscribe before the run can end). */
  finished(runId: string): Promise<TrainFinished>;
  /** The first train.progress event from now on for which `test` holds. */
  progress(test: (p: TrainProgress) => boolean): Promise<TrainProgress>;
}

/**
 * An app (web mode, the compute worker on wasm unless MOCOOP_BACKEND says otherwise) in `dir` with
 * a project ready to train: ant, bee and moth with 5 generated images each (the first 3 train, 2
 * test, through a CSV import), the model in `modelDir` (the tiny CLIP model unless given), the groups
 * photo (`photoTemplates`) and art ("art of the {}."), and a 3-shot set (seed 1, no base-to-new
 * split): 9 training images. Used by the tests (useTrainingApp) and the bench.
 */
export async function openTrainingApp(dir: string, options: { photoTemplates?: string[]; modelDir?: string } = {}): Promise<TrainingApp & { dispose(): void }> {
  const root = path.join(dir, 'data');
  const files = await makeImageFolder(root, ['ant', 'bee', 'moth'], 5);
  const rows = ['path,label,split'];
  for (const [label, list] of Object.entries(files)) list.forEach((f, i) => rows.push(`${path.relative(root, f)},${label},${i < 3 ? 'train' : 'test'}`));
  fs.writeFileSync(path.join(root, 'labels.csv'), rows.join('\n'));
  const app = new AppServices({ mode: 'web', configDir: path.join(dir, 'config'), version: 'test' });
  const call = async (name: string, input?: unknown) => {
    const envelope = await dispatch(app.handlers(), name, input);
    if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
    return envelope.value as any;
  };
  const next = <T>(event: string, test: (payload: T) => boolean) =>
    new Promise<T>((resolve) => {
      const off = app.events.subscribe((name, payload) => {
        if (name === event && test(payload as T)) {
          off();
          resolve(payload as T);
        }
      });
    });
  const projectFile = path.join(dir, 'p.mocoop');
  try {
    await call('project.create', { path: projectFile });
    await call('import.run', { importId: 'i', source: { kind: 'csv', file: path.join(root, 'labels.csv') } });
    const modelId = (await call('models.import', { dir: options.modelDir ?? TINY_CLIP })).id as string;
    await call('templates.setGroups', {
      groups: [
        { name: 'photo', templates: options.photoTemplates ?? ['a photo of a {}.'] },
        { name: 'art', templates: ['art of the {}.'] }
      ]
    });
    await call('fewshot.create', { k: 3, seed: 1, baseNew: false });
    return {
      dir,
      app,
      projectFile,
      modelId,
      call,
      finished: (runId) => next<TrainFinished>('train.finished', (p) => p.runId === runId),
      progress: (test) => next<TrainProgress>('train.progress', test),
      dispose: () => app.dispose()
    };
  } catch (error) {
    app.dispose();
    throw error;
  }
}

/**
 * openTrainingApp for the enclosing describe, in a temporary folder: made in beforeAll with
 * MOCOOP_BACKEND=wasm, and disposed in afterAll with its folder and MOCOOP_BACKEND put back.
 */
export function useTrainingApp(options: { photoTemplates?: string[] } = {}): TrainingApp {
  const tmp = useTempDir();
  useEnv({ MOCOOP_BACKEND: 'wasm' });
  let opened: (TrainingApp & { dispose(): void }) | undefined;
  const ready = () => {
    if (!opened) throw new Error('useTrainingApp: the app is made in beforeAll');
    return opened;
  };
  beforeAll(async () => {
    opened = await openTrainingApp(tmp.dir, options);
  });
  afterAll(() => opened?.dispose());
  return {
    get dir() {
      return ready().dir;
    },
    get app() {
      return ready().app;
    },
    get projectFile() {
      return ready().projectFile;
    },
    get modelId() {
      return ready().modelId;
    },
    call: (name, input) => ready().call(name, input),
    finished: (runId) => ready().finished(runId),
    progress: (test) => ready().progress(test)
  };
}
