import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBridge, flush, setInfo } from './fake-bridge';

const fake = vi.hoisted(() => ({ current: null as ReturnType<typeof import('./fake-bridge').fakeBridge> | null }));
vi.mock('../../../../src-renderer/src/lib/bridge', async () => {
  const { fakeBridge: make } = await import('./fake-bridge');
  fake.current = make();
  return { api: fake.current.api, bridge: fake.current.bridge, RequestError: Error };
});

const { training } = await import('../../../../src-renderer/src/state/training.svelte');
const { fewshot } = await import('../../../../src-renderer/src/state/fewshot.svelte');
const { picking } = await import('../../../../src-renderer/src/state/picking.svelte');
const { toasts } = await import('../../../../src-renderer/src/state/toasts.svelte');
const { api, emit } = fake.current! as ReturnType<typeof fakeBridge>;

beforeEach(() => {
  vi.clearAllMocks();
  toasts.reset();
  training.reset();
  fewshot.reset();
  picking.reset();
  api.fewshot.list.mockResolvedValue([setInfo(1), setInfo(2)]);
  api.runs.list.mockResolvedValue([]);
  api.fewshot.classCounts.mockResolvedValue([]);
});

describe('training state: the queue, progress and the end of a run', () => {
  it('queues settings while a run is active and starts the next when that run finishes', async () => {
    api.train.start.mockResolvedValueOnce({ runId: 'r1' }).mockResolvedValueOnce({ runId: 'r2' });
    await training.start({ modelId: 'm', method: 'mocoop' });
    expect(training.activeRun).toBe('r1');
    await training.start({ modelId: 'm', method: 'coop' });
    expect(api.train.start).toHaveBeenCalledTimes(1);
    expect(training.queue.map((q) => q.method)).toEqual(['coop']);

    emit('train.progress', { runId: 'other', step: 1 });
    emit('train.progress', { runId: 'r1', step: 1 });
    expect(training.steps.map((s) => s.step)).toEqual([1]);

    emit('train.finished', { runId: 'r1', status: 'done' });
    await flush();
    await flush();
    expect(api.train.start).toHaveBeenCalledTimes(2);
    expect(api.train.start.mock.calls[1]![0]).toMatchObject({ method: 'coop' });
    expect(training.activeRun).toBe('r2');
    expect(training.queue).toEqual([]);
    expect(training.steps).toEqual([]);
  });

  it('a cancelled run pauses the queue until the user starts it again', async () => {
    api.train.start.mockResolvedValueOnce({ runId: 'c1' }).mockResolvedValueOnce({ runId: 'c2' });
    await training.start({ modelId: 'm', method: 'mocoop' });
    await training.start({ modelId: 'm', method: 'zeroshot' });
    emit('train.finished', { runId: 'c1', status: 'cancelled' });
    await flush();
    await flush();
    expect(api.train.start).toHaveBeenCalledTimes(1);
    expect(training.queuePaused).toBe(true);
    expect(toasts.items.at(-1)!.text).toContain('1 queued run(s) wait until you start the queue');
    training.resumeQueue();
    await flush();
    expect(api.train.start).toHaveBeenCalledTimes(2);
    expect(training.activeRun).toBe('c2');
    expect(training.queuePaused).toBe(false);
  });

  it("a run interrupted by the compute worker's death does not pause the queue: the next queued run starts", async () => {
    api.train.start.mockResolvedValueOnce({ runId: 'k1' }).mockResolvedValueOnce({ runId: 'k2' });
    await training.start({ modelId: 'm', method: 'mocoop' });
    await training.start({ modelId: 'm', method: 'coop' });
    emit('train.finished', { runId: 'k1', status: 'cancelled', interrupted: true, error: 'interrupted: The compute worker was stopped (SIGKILL).' });
    await flush();
    await flush();
    expect(training.queuePaused).toBe(false);
    expect(api.train.start).toHaveBeenCalledTimes(2);
    expect(api.train.start.mock.calls[1]![0]).toMatchObject({ method: 'coop' });
    expect(training.activeRun).toBe('k2');
    expect(toasts.items.map((t) => t.text)).toContain('Run k1 was interrupted: the compute worker stopped. Resume it to continue from its last checkpoint.');
  });

  it('a failed start shows the reason and moves on to the next queued run', async () => {
    api.train.start.mockResolvedValueOnce({ runId: 'r1' }).mockRejectedValueOnce(new Error('No model installed')).mockResolvedValueOnce({ runId: 'r3' });
    await training.start({ modelId: 'm', method: 'coop' });
    await training.start({ modelId: 'm', method: 'mocoop' });
    await training.start({ modelId: 'm', method: 'kgcoop' });
    expect(training.queue.map((q) => q.method)).toEqual(['mocoop', 'kgcoop']);
    // The run ends: the first queued one fails to start, the next one starts.
    emit('train.finished', { runId: 'r1', status: 'done' });
    await vi.waitFor(() => expect(training.activeRun).toBe('r3'));
    expect(api.train.start.mock.calls.map((c) => c[0].method)).toEqual(['coop', 'mocoop', 'kgcoop']);
    expect(toasts.items.map((t) => t.text)).toContain('No model installed');
    expect(training.queue).toEqual([]);
  });
});

describe('training state across projects', () => {
  it("drops the previous project's queue, run and chosen set when another project opens", async () => {
    training.enterProject('/a.mocoop');
    api.train.start.mockResolvedValueOnce({ runId: 'r9' });
    await training.start({ modelId: 'm', method: 'mocoop' });
    await training.start({ modelId: 'm', method: 'coop' });
    expect(training.activeRun).toBe('r9');
    training.form.setId = 4;
    training.enterProject('/a.mocoop');
    expect(training.queue).toHaveLength(1);
    training.enterProject('/b.mocoop');
    expect(training.activeRun).toBeNull();
    expect(training.queue).toEqual([]);
    expect(training.form.setId).toBeUndefined();
    expect(toasts.items.at(-1)!.text).toBe('1 queued run(s) of the previous project were dropped.');
  });
});

describe('training state reset', () => {
  it('forgets the sets, runs, run followed, comparison and queue, and drops a load and the steps still on their way', async () => {
    api.train.start.mockResolvedValueOnce({ runId: 'r1' });
    await training.start({ modelId: 'm', method: 'mocoop' });
    await training.start({ modelId: 'm', method: 'coop' });
    emit('train.progress', { runId: 'r1', step: 1 });
    training.toggleCompare('r1');
    training.form.setId = 2;
    expect([training.sets.length, training.activeRun, training.queue.length, training.steps.length, training.compared]).toEqual([2, 'r1', 1, 1, ['r1']]);
    let answer!: (value: unknown) => void;
    api.fewshot.list.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
    const loading = training.load();
    training.reset();
    expect([training.sets, training.runs, training.queue, training.steps, training.compared, training.shown]).toEqual([[], [], [], [], [], []]);
    expect([training.activeRun, training.queuePaused, training.lastFinished, training.latest, training.form.setId]).toEqual([
      null,
      false,
      null,
      null,
      undefined
    ]);
    expect(training.histories).toEqual({});
    answer([setInfo(3)]);
    await loading;
    expect(training.sets).toEqual([]);
    // The run followed before goes on training: its steps and its end are not shown here.
    emit('train.progress', { runId: 'r1', step: 2 });
    emit('train.finished', { runId: 'r1', status: 'done' });
    await flush();
    expect(training.steps).toEqual([]);
    expect(api.train.start).toHaveBeenCalledTimes(1);
  });
});

describe('few-shot sets state', () => {
  it('moves the selection with ↑/↓ inside the list', async () => {
    await fewshot.load();
    expect(fewshot.selectedId).toBe(2);
    fewshot.step(1);
    expect(fewshot.selectedId).toBe(2);
    fewshot.step(-1);
    expect(fewshot.selectedId).toBe(1);
    fewshot.step(-1);
    expect(fewshot.selectedId).toBe(1);
  });

  it('sends the whole class membership when a role changes', async () => {
    api.fewshot.list.mockResolvedValue([setInfo(1, { baseClassIds: [1, 2, 3], newClassIds: [4] })]);
    await fewshot.load();
    api.fewshot.update.mockResolvedValue({ set: setInfo(1), copiedFrom: null });
    await fewshot.setRole(2, 'new');
    expect(api.fewshot.update).toHaveBeenLastCalledWith({ setId: 1, classIds: [1, 3, 4, 2], newClassIds: [4, 2] });
    await fewshot.setRole(4, 'base');
    expect(api.fewshot.update).toHaveBeenLastCalledWith({ setId: 1, classIds: [1, 2, 3, 4], newClassIds: [] });
    await fewshot.setRole(3, 'none');
    expect(api.fewshot.update).toHaveBeenLastCalledWith({ setId: 1, classIds: [1, 2, 4], newClassIds: [4] });
  });

  it('selects the copy and says so when the edited set was frozen', async () => {
    api.fewshot.list
      .mockResolvedValueOnce([setInfo(1, { frozen: true })])
      .mockResolvedValue([setInfo(1, { frozen: true }), setInfo(9, { name: 'set 1 (edited)' })]);
    await fewshot.load();
    api.fewshot.update.mockResolvedValue({ set: setInfo(9, { name: 'set 1 (edited)' }), copiedFrom: 1 });
    expect(await fewshot.update({ setId: 1, newClassIds: [2] })).toBe(true);
    expect(fewshot.selectedId).toBe(9);
    expect(toasts.items.at(-1)!.text).toContain('saved as a copy: "set 1 (edited)"');
  });

  it('a refused edit keeps the selection and shows the message', async () => {
    await fewshot.load();
    fewshot.select(1);
    api.fewshot.update.mockRejectedValue(new Error('A few-shot set needs at least two base classes'));
    expect(await fewshot.update({ setId: 1, newClassIds: [1] })).toBe(false);
    expect(await fewshot.setRole(1, 'new')).toBe(false);
    expect(fewshot.selectedId).toBe(1);
    expect(fewshot.busy).toBe(false);
    expect(toasts.items.at(-1)).toMatchObject({ kind: 'error', text: 'A few-shot set needs at least two base classes' });
  });

  it('after deleting, the last remaining set is selected', async () => {
    await fewshot.load();
    api.fewshot.delete.mockResolvedValue([setInfo(1)]);
    await fewshot.remove(2);
    expect(training.sets.map((s) => s.id)).toEqual([1]);
    expect(fewshot.selectedId).toBe(1);
  });
});

describe('few-shot sets state reset', () => {
  it('forgets the counts and the set chosen, and drops a load and a save still on their way', async () => {
    const counts = [{ classId: 1, name: 'cat', train: 3, val: 0, test: 1 }];
    api.fewshot.classCounts.mockResolvedValueOnce(counts);
    await fewshot.load();
    fewshot.k = 4;
    expect([fewshot.counts, fewshot.selectedId, fewshot.selected?.id]).toEqual([counts, 2, 2]);
    let answerCounts!: (value: unknown) => void;
    api.fewshot.classCounts.mockReturnValueOnce(new Promise((resolve) => (answerCounts = resolve)));
    const loading = fewshot.load();
    let answerUpdate!: (value: unknown) => void;
    api.fewshot.update.mockReturnValueOnce(new Promise((resolve) => (answerUpdate = resolve)));
    const updating = fewshot.update({ setId: 1, name: 'renamed' });
    expect(fewshot.busy).toBe(true);
    fewshot.reset();
    expect([fewshot.counts, fewshot.selectedId, fewshot.selected, fewshot.k, fewshot.busy]).toEqual([[], null, null, 16, false]);
    answerCounts(counts);
    answerUpdate({ set: setInfo(9, { name: 'renamed' }), copiedFrom: 1 });
    await loading;
    expect(await updating).toBe(false);
    expect([fewshot.counts, fewshot.selectedId, fewshot.busy]).toEqual([[], null, false]);
    expect(toasts.items).toEqual([]);
  });
});

describe('picking state reset', () => {
  it('stops picking and forgets the picks, and a set still loading is not opened', async () => {
    expect(picking.start(5)).toBe(true);
    picking.pick(1, 1);
    picking.name = 'mine';
    expect([picking.active, picking.picked.size, picking.counts.get(1), picking.k]).toEqual([true, 1, 1, 5]);
    picking.reset();
    expect([picking.active, picking.editing, picking.picked.size, picking.counts.size, picking.k, picking.name]).toEqual([
      false,
      null,
      0,
      0,
      16,
      'hand-picked'
    ]);
    let answer!: (value: unknown) => void;
    api.images.get.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
    const editing = picking.edit(setInfo(3, { imageIds: [1, 2] }) as never);
    picking.reset();
    answer([
      { id: 1, labelId: 1 },
      { id: 2, labelId: 1 }
    ]);
    expect(await editing).toBe(false);
    expect([picking.active, picking.editing, picking.picked.size]).toEqual([false, null, 0]);
  });
});

describe('picking state: editing an existing set in the grid', () => {
  it('loads the set with its labels in chunks, counts per class, and saves through an update', async () => {
    const imageIds = Array.from({ length: 6001 }, (_, i) => i + 1);
    api.images.get.mockImplementation(async ({ ids }: { ids: number[] }) => ids.map((id) => ({ id, labelId: id % 2 ? 1 : 2 })));
    await picking.edit(setInfo(5, { imageIds, k: 3 }) as never);
    expect(api.images.get).toHaveBeenCalledTimes(2);
    expect(picking.active).toBe(true);
    expect(picking.k).toBe(3);
    expect(picking.counts.get(1)).toBe(3001);
    expect(picking.counts.get(2)).toBe(3000);
    picking.unpick(1);
    expect(picking.counts.get(1)).toBe(3000);

    api.fewshot.update.mockResolvedValue({ set: setInfo(5), copiedFrom: null });
    expect(await picking.save()).toBe(true);
    expect(api.fewshot.update.mock.calls[0]![0].imageIds).toHaveLength(6000);
    expect(api.fewshot.createManual).not.toHaveBeenCalled();
    expect(picking.active).toBe(false);
    expect(picking.editing).toBeNull();
  });

  it('never throws away unsaved picks, and saving an unchanged set saves nothing', async () => {
    api.images.get.mockImplementation(async ({ ids }: { ids: number[] }) => ids.map((id) => ({ id, labelId: 1 })));
    expect(picking.start()).toBe(true);
    picking.pick(11, 1);
    expect(picking.start()).toBe(false);
    expect(await picking.edit(setInfo(3, { imageIds: [1, 2] }) as never)).toBe(false);
    expect(picking.picked.has(11)).toBe(true);
    expect(toasts.items.at(-1)).toMatchObject({ kind: 'error' });
    picking.close();
    expect(await picking.edit(setInfo(3, { imageIds: [1, 2] }) as never)).toBe(true);
    // Opening another set while the first is unchanged is fine.
    expect(await picking.edit(setInfo(4, { imageIds: [5, 6] }) as never)).toBe(true);
    expect(await picking.save()).toBe(true);
    expect(api.fewshot.update).not.toHaveBeenCalled();
    expect(toasts.items.at(-1)!.text).toBe('No changes to save.');
    expect(picking.active).toBe(false);
  });

  it('a new pick starts empty and saves as a new hand-picked set', async () => {
    picking.start();
    expect(picking.picked.size).toBe(0);
    picking.pick(1, 1);
    picking.pick(2, 2);
    api.fewshot.createManual.mockResolvedValue(setInfo(7, { imageIds: [1, 2] }));
    expect(await picking.save()).toBe(true);
    expect(api.fewshot.createManual).toHaveBeenCalledWith({ name: 'hand-picked', imageIds: [1, 2] });
    expect(fewshot.selectedId).toBe(7);
  });
});
