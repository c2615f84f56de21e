/** The scaffolding of tests that drive the app services: requests, events, a labels CSV, an app per describe. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { dispatch } from '../../src-main/contract/dispatch';
import { AppServices } from '../../src-main/services/app-services';
import { useTempDir } from './suite';
import { tempDir } from './temp';

/** A request through the dispatcher, as a window sends it; an error envelope throws "code: message". */
export type Call = (name: string, input?: unknown) => Promise<any>;

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

/** An app in web mode, version "test", its configuration in `dir`/config. */
export function createApp(dir: string): AppServices {
  return new AppServices({ mode: 'web', configDir: path.join(dir, 'config'), version: 'test' });
}

/** Requests to `app` through the dispatcher; `log` gets unexpected errors (console.error unless given). */
export function appCaller(app: AppServices, log?: (e: unknown) => void): Call {
  return async (name, input) => {
    const envelope = await dispatch(app.handlers(), name, input, log);
    if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
    return envelope.value as any;
  };
}

/** The first `event` of `app` from now on whose payload passes `test` (any, without one). */
export function nextEvent<T>(app: AppServices, event: string, test: (payload: T) => boolean = () => true): Promise<T> {
  return new Promise<T>((resolve) => {
    const off = app.events.subscribe((name, payload) => {
      if (name === event && test(payload as T)) {
        off();
        resolve(payload as T);
      }
    });
  });
}

/** The train.finished event of `runId` (subscribe before the run can end). */
export function trainFinished(app: AppServices, runId: string): Promise<TrainFinished> {
  return nextEvent<TrainFinished>(app, 'train.finished', (p) => p.runId === runId);
}

/**
 * `root`/labels.csv (path,label,split) for the images of makeImageFolder(root, …): the first
 * `trainPerClass` of each class in the train split, the rest in test. Returns its path.
 */
export function writeLabelsCsv(root: string, files: Record<string, string[]>, trainPerClass: number): string {
  const rows = ['path,label,split'];
  for (const [label, list] of Object.entries(files))
    list.forEach((f, i) => rows.push(`${path.relative(root, f)},${label},${i < trainPerClass ? 'train' : 'test'}`));
  const file = path.join(root, 'labels.csv');
  fs.writeFileSync(file, rows.join('\n'));
  return file;
}

export interface UsedApp {
  /** The temporary folder (config/ is the app's). */
  readonly dir: string;
  readonly app: AppServices;
  call: Call;
  /** The train.finished event of `runId` (subscribe before the run can end). */
  finished(runId: string): Promise<TrainFinished>;
}

/**
 * An app (createApp) in a temporary folder for the enclosing describe: made in beforeAll, disposed in
 * afterAll with its folder removed; with `each`, a fresh one for every test (beforeEach, afterEach).
 * Hooks registered after this call see the app; `log` is appCaller's.
 */
export function useApp(options: { each?: boolean; prefix?: string; log?: (e: unknown) => void } = {}): UsedApp {
  let app: AppServices | undefined;
  let dir: () => string;
  const ready = () => {
    if (!app) throw new Error(`useApp: the app is made in ${options.each ? 'beforeEach' : 'beforeAll'}`);
    return app;
  };
  if (options.each) {
    let tmp: ReturnType<typeof tempDir> | undefined;
    dir = () => {
      if (!tmp) throw new Error('useApp: the folder is made in beforeEach');
      return tmp.dir;
    };
    beforeEach(() => {
      tmp = tempDir(options.prefix);
      app = createApp(tmp.dir);
    });
    afterEach(() => {
      app?.dispose();
      tmp?.cleanup();
      app = undefined;
      tmp = undefined;
    });
  } else {
    const tmp = useTempDir(options.prefix);
    dir = () => tmp.dir;
    beforeAll(() => {
      app = createApp(tmp.dir);
    });
    afterAll(() => app?.dispose());
  }
  return {
    get dir() {
      return dir();
    },
    get app() {
      return ready();
    },
    call: (name, input) => appCaller(ready(), options.log)(name, input),
    finished: (runId) => trainFinished(ready(), runId)
  };
}
