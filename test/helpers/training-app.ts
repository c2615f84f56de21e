import path from 'node:path';
import { beforeAll } from 'vitest';
import type { AppServices } from '../../src-main/services/app-services';
import { type Call, type TrainFinished, type TrainProgress, appCaller, createApp, nextEvent, trainFinished, useApp, writeLabelsCsv } from './app';
import { TINY_CLIP } from './fixtures';
import { makeImageFolder } from './images';
import { useEnv } from './suite';

export type { TrainFinished, TrainProgress } from './app';

export interface TrainingApp {
  /** The suite's temporary folder (data/, config/ and p.mocoop are the app's). */
  readonly dir: string;
  readonly app: AppServices;
  readonly projectFile: string;
  /** The tiny CLIP model, imported. */
  readonly modelId: string;
  /** A request through the dispatcher, as a window sends it; an error envelope throws "code: message". */
  call: Call;
  /** The train.finished event of `runId` (subscribe before the run can end). */
  finished(runId: string): Promise<TrainFinished>;
  /** The first train.progress event from now on for which `test` holds. */
  progress(test: (p: TrainProgress) => boolean): Promise<TrainProgress>;
}

type TrainingOptions = { photoTemplates?: string[]; modelDir?: string };

/** The project of openTrainingApp, made through `call` in `dir`: its file and the imported model. */
async function prepareProject(dir: string, call: Call, options: TrainingOptions): Promise<{ projectFile: string; modelId: string }> {
  const root = path.join(dir, 'data');
  const labels = writeLabelsCsv(root, await makeImageFolder(root, ['ant', 'bee', 'moth'], 5), 3);
  const projectFile = path.join(dir, 'p.mocoop');
  await call('project.create', { path: projectFile });
  await call('import.run', { importId: 'i', source: { kind: 'csv', file: labels } });
  const modelId = (await call('models.import', { dir: options.modelDir ?? TINY_CLIP })).id as string;
  await call('templates.setGroups', {
    groups: [
      { name: 'photo', templates: options.photoTemplates ?? ['a photo of a {}.'] },
      { name: 'art', templates: ['art of the {}.'] }
    ]
  });
  await call('fewshot.create', { k: 3, seed: 1, baseNew: false });
  return { projectFile, modelId };
}

/**
 * An app (web mode, the compute worker on wasm unless MOCOOP_BACKEND says otherwise) in `dir` with
 * a project ready to train: ant, bee and moth with 5 generated images each (the first 3 train, 2
 * test, through a CSV import), the model in `modelDir` (the tiny CLIP model unless given), the groups
 * photo (`photoTemplates`) and art ("art of the {}."), and a 3-shot set (seed 1, no base-to-new
 * split): 9 training images. Used by the tests (useTrainingApp) and the bench.
 */
export async function openTrainingApp(dir: string, options: TrainingOptions = {}): Promise<TrainingApp & { dispose(): void }> {
  const app = createApp(dir);
  const call = appCaller(app);
  try {
    const { projectFile, modelId } = await prepareProject(dir, call, options);
    return {
      dir,
      app,
      projectFile,
      modelId,
      call,
      finished: (runId) => trainFinished(app, runId),
      progress: (test) => nextEvent<TrainProgress>(app, 'train.progress', test),
      dispose: () => app.dispose()
    };
  } catch (error) {
    app.dispose();
    throw error;
  }
}

/**
 * openTrainingApp for the enclosing describe, in a temporary folder (useApp): made in beforeAll with
 * MOCOOP_BACKEND=wasm, and disposed in afterAll with its folder and MOCOOP_BACKEND put back.
 */
export function useTrainingApp(options: { photoTemplates?: string[] } = {}): TrainingApp {
  useEnv({ MOCOOP_BACKEND: 'wasm' });
  const used = useApp();
  let project: { projectFile: string; modelId: string } | undefined;
  const ready = () => {
    if (!project) throw new Error('useTrainingApp: the app is made in beforeAll');
    return project;
  };
  beforeAll(async () => {
    project = await prepareProject(used.dir, used.call, options);
  });
  return {
    get dir() {
      return used.dir;
    },
    get app() {
      return used.app;
    },
    get projectFile() {
      return ready().projectFile;
    },
    get modelId() {
      return ready().modelId;
    },
    call: used.call,
    finished: used.finished,
    progress: (test) => nextEvent<TrainProgress>(used.app, 'train.progress', test)
  };
}
