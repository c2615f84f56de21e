import { beforeEach, describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => ({
  api: {
    classes: { list: vi.fn(), create: vi.fn() },
    labels: { assign: vi.fn(), history: vi.fn() },
    images: { ids: vi.fn(), get: vi.fn(), predictions: vi.fn() },
    project: { current: vi.fn() },
    runs: { list: vi.fn() },
    suggest: { uncertain: vi.fn() }
  }
}));
vi.mock('../../../../src-renderer/src/lib/bridge', () => ({
  api: fake.api,
  bridge: { transport: 'web', api: fake.api, on: () => () => {}, mediaUrl: () => '' },
  RequestError: Error
}));

const { labeling } = await import('../../../../src-renderer/src/state/labeling.svelte');
const { classPicker } = await import('../../../../src-renderer/src/state/class-picker.svelte');
const { viewer } = await import('../../../../src-renderer/src/state/viewer.svelte');
const { toasts } = await import('../../../../src-renderer/src/state/toasts.svelte');
const api = fake.api;

const names = ['cat', 'dog', 'golden retriever', 'great dane', 'goldfish', 'horse', 'ibis', 'jackal', 'koala', 'lynx', 'moose', 'newt'];
let classes = names.map((name, i) => ({ id: i + 1, name, position: i, imageCount: 0 }));
const row = (id: number, labelId: number | null = null) => ({
  id,
  path: `/d/${id}.jpg`,
  fileName: `${id}.jpg`,
  hash: `h${id}`,
  width: 32,
  height: 32,
  bytes: 10,
  labelId,
  split: 'train',
  missing: false,
  source: 't'
});

beforeEach(async () => {
  vi.clearAllMocks();
  toasts.reset();
  classes = names.map((name, i) => ({ id: i + 1, name, position: i, imageCount: 0 }));
  api.classes.list.mockImplementation(async () => classes);
  api.images.ids.mockResolvedValue({ ids: [11, 12, 13, 14] });
  api.images.get.mockImplementation(async ({ ids }: { ids: number[] }) => ids.map((id) => row(id)));
  api.labels.history.mockResolvedValue({ canUndo: false, canRedo: false });
  api.labels.assign.mockResolvedValue({ canUndo: true, canRedo: false });
  api.project.current.mockResolvedValue(null);
  labeling.useProject(`/p/${Math.random()}.mocoop`);
  labeling.setFilter({});
  await labeling.reload();
  classPicker.hide();
  viewer.reset();
});

describe('class picker state', () => {
  it('narrows the classes as letters are typed, moves with the arrows and labels with Enter (then moves on)', async () => {
    labeling.click(0, 'single');
    classPicker.show();
    expect(classPicker.options).toHaveLength(12);
    classPicker.setQuery('gold');
    expect(classPicker.options.map((o) => (o.kind === 'class' ? o.cls.name : `+${o.name}`))).toEqual(['golden retriever', 'goldfish', '+gold']);
    classPicker.move(1);
    expect(classPicker.active).toBe(1);
    classPicker.move(-2);
    expect(classPicker.active).toBe(2); // wraps to the last option
    classPicker.move(1);
    await classPicker.choose();
    expect(api.labels.assign).toHaveBeenCalledWith({ imageIds: [11], classId: 3 });
    expect(classPicker.open).toBe(false);
    expect(labeling.focus).toBe(1);
    expect(labeling.recentClassIds).toEqual([3]);
  });

  it('creates a class for a new name and labels with it', async () => {
    api.classes.create.mockImplementation(async ({ name }: { name: string }) => {
      classes = [...classes, { id: 99, name, position: 12, imageCount: 0 }];
      return classes.at(-1);
    });
    labeling.click(2, 'single');
    classPicker.show('okapi');
    expect(classPicker.options).toEqual([{ kind: 'create', name: 'okapi' }]);
    await classPicker.choose();
    expect(api.classes.create).toHaveBeenCalledWith({ name: 'okapi' });
    expect(api.labels.assign).toHaveBeenCalledWith({ imageIds: [13], classId: 99 });
  });

  it('an exact name (in other capitals) offers no "create"', () => {
    classPicker.show('DOG');
    expect(classPicker.options.map((o) => o.kind)).toEqual(['class']);
  });
});

describe('class picker reset', () => {
  it('closes the picker, and a choice whose new class is still being created labels nothing', async () => {
    let create!: () => void;
    api.classes.create.mockImplementationOnce(
      ({ name }: { name: string }) =>
        new Promise((resolve) => {
          create = () => {
            classes = [...classes, { id: 99, name, position: 12, imageCount: 0 }];
            resolve(classes.at(-1));
          };
        })
    );
    labeling.click(0, 'single');
    classPicker.show('okapi');
    const choosing = classPicker.choose();
    classPicker.show('go');
    classPicker.move(1);
    classPicker.reset();
    expect([classPicker.open, classPicker.query, classPicker.active]).toEqual([false, '', 0]);
    create();
    expect(await choosing).toBe(false);
    expect(api.labels.assign).not.toHaveBeenCalled();
  });
});

describe('labeling reset', () => {
  it('forgets the project shown, and drops a load still on its way', async () => {
    api.runs.list.mockResolvedValueOnce([{ id: 'r1', status: 'done', method: 'coop', accuracy: 0.5, createdAt: '' }]);
    await labeling.loadRuns();
    labeling.choosePredictionRun('r1');
    labeling.click(1, 'single');
    labeling.remember(3);
    expect([labeling.classes.length, labeling.ids.length, labeling.rows.size, labeling.selection.size, labeling.focus]).toEqual([12, 4, 4, 1, 1]);
    expect(labeling.runs.map((r) => r.id)).toEqual(['r1']);
    let answer!: (value: unknown) => void;
    api.images.ids.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
    labeling.setFilter({ search: 'dog' });
    expect(labeling.loading).toBe(true);
    labeling.reset();
    expect(labeling.loading).toBe(false);
    expect(labeling.filter).toEqual({});
    expect([labeling.classes, labeling.ids, labeling.selectedIds, labeling.recentClassIds, labeling.runs]).toEqual([[], [], [], [], []]);
    expect([labeling.rows.size, labeling.focus, labeling.suggestion, labeling.predictionRunId]).toEqual([0, 0, null, null]);
    expect(labeling.history).toEqual({ canUndo: false, canRedo: false });
    answer({ ids: [21, 22] });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(labeling.ids).toEqual([]);
    expect(labeling.classes).toEqual([]);
    expect(labeling.loading).toBe(false);
    expect(api.images.get).not.toHaveBeenCalledWith({ ids: [21, 22] });
  });
});

describe('recent classes', () => {
  it('remembers the classes used to label, newest first, per project', async () => {
    const project = '/p/recent.mocoop';
    labeling.useProject(project);
    labeling.click(0, 'single');
    await labeling.assign(5);
    await labeling.assignByKey(2);
    await labeling.assign(5);
    await labeling.assign(null);
    expect(labeling.recentClasses.map((c) => c.name)).toEqual(['goldfish', 'dog']);
    labeling.useProject('/p/other.mocoop');
    expect(labeling.recentClassIds).toEqual([]);
    labeling.useProject(project);
    expect(labeling.recentClassIds).toEqual(globalThis.localStorage ? [5, 2] : []);
  });
});

describe('viewer state', () => {
  it('opens on the focused image, steps with the grid and fetches the predictions of the image shown and the next two', async () => {
    api.images.predictions.mockImplementation(async ({ imageIds }: { imageIds: number[] }) => ({
      runId: 'r1',
      items: imageIds
        .filter((id) => id !== 13)
        .map((id) => ({
          imageId: id,
          predictedClassId: 1,
          predicted: 'cat',
          confidence: 0.8,
          correct: null,
          topExperts: [0],
          topWeights: [1],
          top: [],
          source: 'computed'
        }))
    }));
    labeling.click(1, 'single');
    viewer.show();
    expect(viewer.open).toBe(true);
    expect(viewer.currentId).toBe(12);
    await vi.waitFor(() => expect(viewer.prediction?.predicted).toBe('cat'));
    expect(api.images.predictions).toHaveBeenCalledWith({ runId: undefined, imageIds: [12, 13, 14] });
    viewer.step(1);
    expect(viewer.currentId).toBe(13);
    expect(labeling.selectedIds).toEqual([13]);
    await vi.waitFor(() => expect(viewer.prediction).toBeNull()); // asked already, none for 13
    expect(api.images.predictions).toHaveBeenCalledTimes(1);
    viewer.toggleZoom();
    expect(viewer.zoom).toBe('actual');

    // Choosing a run fetches again under it.
    labeling.choosePredictionRun('r2');
    await viewer.ensure();
    expect(api.images.predictions).toHaveBeenLastCalledWith({ runId: 'r2', imageIds: [13, 14] });
    labeling.choosePredictionRun(null);
    viewer.hide();
    expect(viewer.open).toBe(false);
  });

  it('reset closes the viewer and drops the predictions still on their way', async () => {
    let answer!: (value: unknown) => void;
    api.images.predictions.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
    labeling.click(0, 'single');
    viewer.show();
    viewer.toggleZoom();
    await vi.waitFor(() => expect(api.images.predictions).toHaveBeenCalledTimes(1));
    viewer.reset();
    expect([viewer.open, viewer.zoom, viewer.runId]).toEqual([false, 'fit', null]);
    answer({
      runId: 'r1',
      items: [
        { imageId: 11, predictedClassId: 1, predicted: 'cat', confidence: 0.8, correct: null, topExperts: [0], topWeights: [1], top: [], source: 'computed' }
      ]
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(viewer.runId).toBeNull();
    expect(viewer.prediction).toBeUndefined();
  });

  it('does not open on an empty view', async () => {
    api.images.ids.mockResolvedValue({ ids: [] });
    await labeling.reload();
    viewer.show();
    expect(viewer.open).toBe(false);
  });
});

describe('"Label next" (active learning)', () => {
  const queue = (ids: number[]) => ({
    runId: 'run-1',
    by: 'margin',
    items: ids.map((imageId, k) => ({ imageId, uncertainty: 1 - k / 100, predicted: k % 2 ? 'dog' : 'cat', confidence: 0.6 }))
  });

  it('A takes the guess of the focused image and moves on; X skips without labeling', async () => {
    api.suggest.uncertain.mockResolvedValue(queue([13, 11, 12, 14]));
    await labeling.showSuggestions();
    expect(labeling.ids).toEqual([13, 11, 12, 14]);
    labeling.click(0, 'single');
    await labeling.acceptGuess();
    expect(api.labels.assign).toHaveBeenCalledWith({ imageIds: [13], classId: 1 });
    expect(labeling.ids[labeling.focus]).toBe(11);
    labeling.rejectGuess();
    expect(labeling.ids[labeling.focus]).toBe(12);
    await labeling.acceptGuess();
    expect(api.labels.assign).toHaveBeenLastCalledWith({ imageIds: [12], classId: 1 });
    expect(api.labels.assign).toHaveBeenCalledTimes(2);
  });

  it('asks the run again after every SUGGESTION_REFRESH labels', async () => {
    const { SUGGESTION_REFRESH } = await import('../../../../src-renderer/src/state/labeling.svelte');
    const ids = Array.from({ length: SUGGESTION_REFRESH + 5 }, (_, i) => 100 + i);
    api.images.get.mockImplementation(async ({ ids: asked }: { ids: number[] }) => asked.map((id) => row(id)));
    api.suggest.uncertain.mockResolvedValue(queue(ids));
    await labeling.showSuggestions();
    labeling.click(0, 'single');
    for (let i = 0; i < SUGGESTION_REFRESH - 1; i++) await labeling.acceptGuess();
    expect(api.suggest.uncertain).toHaveBeenCalledTimes(1);
    await labeling.acceptGuess();
    expect(api.suggest.uncertain).toHaveBeenCalledTimes(2);
    expect(labeling.suggestion?.labeledSince).toBe(0);
  });

  it('says what to do when no queue is open', async () => {
    await labeling.acceptGuess();
    expect(api.labels.assign).not.toHaveBeenCalled();
    expect(toasts.items.at(-1)?.text).toMatch(/Label next/);
  });
});
