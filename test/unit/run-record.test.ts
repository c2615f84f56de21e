import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../src-main/contract/errors';
import { parseRunMetrics, parseRunSettings, runMetricsSummary } from '../../src-main/contract/run-record';
import { ProjectStore } from '../../src-main/store/project-store';
import { type RunRecord, TrainingStore } from '../../src-main/store/training-store';
import { tempDir } from '../helpers/temp';

function appErrorOf(fn: () => unknown): AppError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected an AppError to be thrown').toBeInstanceOf(AppError);
  return caught as AppError;
}

const SETTINGS = {
  method: 'mocoop',
  preset: 'paper',
  seed: 3,
  epochs: 2,
  schedule: null,
  groups: [['a photo of a {}.'], ['a drawing of a {}.']],
  classes: ['cat', 'dog'],
  classIds: [1, 2],
  deviations: [],
  somethingNewer: { kept: true }
};
const METRICS = {
  run: 'r2',
  method: 'mocoop',
  accuracy: 0.75,
  base_accuracy: 0.8,
  new_accuracy: 0.6,
  h: 0.685,
  images: 4,
  per_class: [{ class: 'cat', role: 'base', images: 2, correct: 2, accuracy: 1 }],
  confusion: {
    classes: ['cat', 'dog'],
    counts: [
      [2, 0],
      [1, 1]
    ]
  },
  expert_usage: { load: [3, 1], router_agrees_with_p_hard: null },
  extra: 'kept'
};

describe('run records: settings and metrics parsed once, typed, checked', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: ProjectStore;
  let training: TrainingStore;
  beforeEach(() => {
    tmp = tempDir();
    store = ProjectStore.create(path.join(tmp.dir, 'p.mocoop'));
    training = new TrainingStore(store);
    training.startRun({ id: 'r1', method: 'coop', settings: {}, backend: 'cpu', modelId: 'm', setId: null });
    training.finishRun('r1', 'cancelled', null, 'stopped');
    training.startRun({ id: 'r2', method: 'mocoop', settings: SETTINGS, backend: 'cpu', modelId: 'm', setId: null });
    training.finishRun('r2', 'done', METRICS);
    training.startRun({ id: 'r3', method: 'zeroshot', settings: { seed: 1 }, backend: 'cpu', modelId: 'm', setId: null });
    training.renameRun('r3', 'three');
  });
  afterEach(() => {
    store.close();
    tmp.cleanup();
  });

  it('keeps every stored key, in its stored order, with the known ones typed', () => {
    const run = training.run('r2');
    expect(run.settings).toEqual(SETTINGS);
    expect(Object.keys(run.settings)).toEqual(Object.keys(SETTINGS));
    expect(run.metrics).toEqual(METRICS);
    expect(Object.keys(run.metrics!)).toEqual(Object.keys(METRICS));
    // Typed: no cast needed for the known keys.
    const classes: string[] | undefined = run.settings.classes;
    const seed: number | undefined = run.settings.seed;
    const accuracy: number | null | undefined = run.metrics?.accuracy;
    expect([classes, seed, accuracy]).toEqual([['cat', 'dog'], 3, 0.75]);
    expect(run.settings.somethingNewer).toEqual({ kept: true });
  });

  it('runs() gives the records run() gives, oldest first, from one query', () => {
    const ids = store.db.prepare('SELECT id FROM runs ORDER BY created_at, id').pluck().all() as string[];
    const oneByOne: RunRecord[] = ids.map((id) => training.run(id));
    const prepare = vi.spyOn(store.db, 'prepare');
    const all = training.runs();
    expect(prepare).toHaveBeenCalledTimes(1);
    prepare.mockRestore();
    expect(all).toEqual(oneByOne);
    expect(all.map((r) => r.id)).toEqual(['r1', 'r2', 'r3']);
    expect(all[0]).toMatchObject({ status: 'cancelled', error: 'stopped', settings: {}, metrics: null, name: null, note: null, setId: null });
    expect(all[2]).toMatchObject({ status: 'running', name: 'three', settings: { seed: 1 }, metrics: null, method: 'zeroshot', backend: 'cpu', modelId: 'm' });
    expect(typeof all[1]!.createdAt).toBe('string');
    expect(typeof all[1]!.finishedAt).toBe('string');
  });

  it('a stored value of the wrong type is refused naming the run and the field', () => {
    store.db.prepare('UPDATE runs SET settings = ? WHERE id = ?').run(JSON.stringify({ ...SETTINGS, classes: 'cat' }), 'r2');
    const error = appErrorOf(() => training.run('r2'));
    expect(error.code).toBe('bad_project');
    expect(error.message).toMatch(/^Run r2: its stored settings cannot be read \(settings\.classes: .*expected array/);
    expect(appErrorOf(() => training.runs()).message).toMatch(/Run r2: .*settings\.classes/);
    // The other runs still read; the damaged one can be deleted.
    expect(training.run('r1').id).toBe('r1');
    training.deleteRun('r2');
    expect(training.runs().map((r) => r.id)).toEqual(['r1', 'r3']);
  });

  it('stored text that is not JSON, or metrics of the wrong shape, are refused naming the run and the field', () => {
    store.db.prepare('UPDATE runs SET metrics = ? WHERE id = ?').run('{"accuracy": 0.7', 'r2');
    const notJson = appErrorOf(() => training.run('r2'));
    expect(notJson.code).toBe('bad_project');
    expect(notJson.message).toMatch(/^Run r2: its stored metrics are not valid JSON/);
    store.db.prepare('UPDATE runs SET metrics = ? WHERE id = ?').run(JSON.stringify({ ...METRICS, per_class: [{ class: 'cat', images: 'two' }] }), 'r2');
    expect(appErrorOf(() => training.run('r2')).message).toMatch(/Run r2: .*metrics\.per_class\.0\.images/);
    store.db.prepare('UPDATE runs SET settings = ? WHERE id = ?').run('[1, 2]', 'r1');
    expect(appErrorOf(() => training.run('r1')).message).toMatch(/^Run r1: its stored settings cannot be read \(settings: /);
    expect(appErrorOf(() => parseRunSettings('x', 'not json')).message).toMatch(/^Run x: its stored settings are not valid JSON/);
    expect(parseRunMetrics('x', null)).toBeNull();
    expect(parseRunMetrics('x', 'null')).toBeNull();
    expect(parseRunMetrics('x', '{"accuracy": null, "h": null}')).toEqual({ accuracy: null, h: null });
  });

  it('settings that could not be read back are refused before they are stored', () => {
    const refused = appErrorOf(() => training.startRun({ id: 'r4', method: 'coop', settings: { seed: 'one' }, backend: 'cpu', modelId: 'm', setId: null }));
    expect(refused.code).toBe('invalid_input');
    expect(refused.message).toMatch(/^Run r4: settings\.seed: /);
    expect(training.hasRun('r4')).toBe(false);
    expect(appErrorOf(() => training.addRunSettings('r2', { linearProbeC: 'big' })).message).toMatch(/^Run r2: settings\.linearProbeC: /);
    expect(training.run('r2').settings).toEqual(SETTINGS);
    training.addRunSettings('r2', { linearProbeC: 0.5, reproduce: true });
    expect(training.run('r2').settings).toEqual({ ...SETTINGS, linearProbeC: 0.5, reproduce: true });
  });

  it('runMetricsSummary: accuracy, base, new and H, null where absent', () => {
    const runs = training.runs();
    expect(runs.map(runMetricsSummary)).toEqual([
      { accuracy: null, base_accuracy: null, new_accuracy: null, h: null },
      { accuracy: 0.75, base_accuracy: 0.8, new_accuracy: 0.6, h: 0.685 },
      { accuracy: null, base_accuracy: null, new_accuracy: null, h: null }
    ]);
    expect(runMetricsSummary({ metrics: { accuracy: 0.5 } })).toEqual({ accuracy: 0.5, base_accuracy: null, new_accuracy: null, h: null });
  });
});
