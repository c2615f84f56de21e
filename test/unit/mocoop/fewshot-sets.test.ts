import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type TrainFinished, nextEvent, useApp, writeLabelsCsv } from '../../helpers/app';
import { makeImageFolder } from '../../helpers/images';
import { TINY_CLIP } from '../../helpers/fixtures';
import { useEnv } from '../../helpers/suite';

const FIXTURE = TINY_CLIP;

interface SetInfo {
  id: number;
  name: string;
  k: number | null;
  seed: number | null;
  frozen: boolean;
  imageIds: number[];
  baseClassIds: number[];
  newClassIds: number[];
}

describe('few-shot sets: class counts, editing roles and images, frozen sets copied on edit, delete', () => {
  useEnv({ MOCOOP_BACKEND: 'wasm' });
  const ctx = useApp();
  const { call } = ctx;
  let classes: { id: number; name: string }[];
  const classId = (name: string) => classes.find((c) => c.name === name)!.id;
  const labelsOf = async (ids: number[]) => (await call('images.get', { ids })).map((r: { labelId: number }) => r.labelId) as number[];

  beforeAll(async () => {
    const root = path.join(ctx.dir, 'data');
    const labels = writeLabelsCsv(root, await makeImageFolder(root, ['ant', 'bee', 'moth', 'wasp'], 5), 4);
    await call('project.create', { path: path.join(ctx.dir, 'p.mocoop') });
    await call('import.run', { importId: 'i', source: { kind: 'csv', file: labels } });
    classes = await call('classes.list');
  });

  it('counts labeled images per class and split', async () => {
    const counts = await call('fewshot.classCounts');
    expect(counts.map((c: { name: string }) => c.name)).toEqual(['ant', 'bee', 'moth', 'wasp']);
    for (const c of counts) expect(c).toMatchObject({ train: 4, test: 1, val: 0, missing: 0 });
    const [first] = (await call('images.ids', { filter: { classId: classId('ant'), split: 'train' } })).ids;
    await call('labels.setSplit', { imageIds: [first], split: 'val' });
    expect((await call('fewshot.classCounts'))[0]).toMatchObject({ train: 3, test: 1, val: 1 });
    await call('labels.undo');
  });

  it('names sampled sets after k and seed, and says in words what is wrong with k', async () => {
    const first: SetInfo = await call('fewshot.create', { k: 3, seed: 9, baseNew: false });
    const second: SetInfo = await call('fewshot.create', { k: 3, seed: 9, baseNew: false });
    expect([first.name, second.name]).toEqual(['3-shot seed 9', '3-shot seed 9 (copy)']);
    expect(second.imageIds).toEqual(first.imageIds);
    await expect(call('fewshot.create', { k: 0, seed: 1, baseNew: false })).rejects.toThrow(/images per class \(k\) must be at least 1/);
    for (const s of [first, second]) await call('fewshot.delete', { setId: s.id });
  });

  it('moving a class to new drops its images; moving it back samples k with the set seed', async () => {
    const set: SetInfo = await call('fewshot.create', { k: 2, seed: 5, baseNew: false, name: 'two-shot' });
    expect(set.baseClassIds).toEqual(classes.map((c) => c.id));
    const { set: edited, copiedFrom } = await call('fewshot.update', { setId: set.id, newClassIds: [classId('moth'), classId('wasp')] });
    expect(copiedFrom).toBeNull();
    expect(edited.id).toBe(set.id);
    expect(edited.newClassIds).toEqual([classId('moth'), classId('wasp')]);
    expect(edited.baseClassIds).toEqual([classId('ant'), classId('bee')]);
    expect(new Set(await labelsOf(edited.imageIds))).toEqual(new Set([classId('ant'), classId('bee')]));
    expect(edited.imageIds).toHaveLength(4);
    expect(edited.k).toBe(2);

    const { set: back } = await call('fewshot.update', { setId: set.id, newClassIds: [] });
    expect(back.newClassIds).toEqual([]);
    // The same seed samples the same images per class as the original set did.
    expect(back.imageIds).toEqual(set.imageIds);
  });

  it('refuses edits that leave fewer than two base classes, and keeps the set unchanged', async () => {
    const set: SetInfo = (await call('fewshot.list')).find((s: SetInfo) => s.name === 'two-shot');
    await expect(call('fewshot.update', { setId: set.id, newClassIds: classes.slice(1).map((c) => c.id) })).rejects.toThrow(/at least two base classes/);
    expect((await call('fewshot.list')).find((s: SetInfo) => s.id === set.id)).toEqual(set);
  });

  it('hand-editing the images makes the set hand-made; a base class left without images leaves the set', async () => {
    const set: SetInfo = (await call('fewshot.list')).find((s: SetInfo) => s.name === 'two-shot');
    const labels = await labelsOf(set.imageIds);
    const keep = set.imageIds.filter((_, i) => labels[i] !== classId('wasp'));
    const { set: edited } = await call('fewshot.update', { setId: set.id, imageIds: keep });
    expect(edited.imageIds).toEqual(keep);
    expect(edited.k).toBeNull();
    expect(edited.seed).toBeNull();
    expect(edited.newClassIds).toEqual([]);
    expect(edited.baseClassIds).toEqual([classId('ant'), classId('bee'), classId('moth')]);
  });

  it('a role change still works after one of the classes was deleted (its images leave the set)', async () => {
    await call('classes.create', { name: 'gnat' });
    classes = await call('classes.list');
    const root = path.join(ctx.dir, 'gnats');
    await makeImageFolder(root, ['gnat'], 2, 900);
    await call('import.run', { importId: 'g', source: { kind: 'folder', dir: root } });
    const set: SetInfo = await call('fewshot.create', { k: 1, seed: 2, baseNew: false, name: 'with gnats' });
    expect(set.baseClassIds).toContain(classId('gnat'));
    await call('classes.delete', { id: classId('gnat') });
    classes = await call('classes.list');
    const { set: edited } = await call('fewshot.update', { setId: set.id, newClassIds: [classId('moth')] });
    expect(edited.imageIds).toHaveLength(3);
    expect(edited.baseClassIds).toEqual([classId('ant'), classId('bee'), classId('wasp')]);
    await call('fewshot.delete', { setId: set.id });
  });

  it('takes train-pool images only, and a run refuses a set whose images moved to the test split since', async () => {
    const { ids: testIds } = await call('images.ids', { filter: { split: 'test' } });
    const { ids: trainIds } = await call('images.ids', { filter: { split: 'train' } });
    await expect(call('fewshot.createManual', { name: 'leaky', imageIds: [trainIds[0], trainIds[5], testIds[0]] })).rejects.toThrow(
      /1 image\(s\) are in the test or validation split .* a few-shot set takes train-pool images only/
    );
    const set: SetInfo = await call('fewshot.createManual', { name: 'clean', imageIds: [trainIds[0], trainIds[5]] });
    await expect(call('fewshot.update', { setId: set.id, imageIds: [trainIds[0], testIds[0]] })).rejects.toThrow(/train-pool images only/);
    await call('labels.setSplit', { imageIds: [trainIds[0]], split: 'test' });
    const modelId = (await call('models.import', { dir: FIXTURE })).id;
    await expect(call('train.start', { modelId, method: 'coop', setId: set.id, epochs: 1 })).rejects.toThrow(
      /are now in the test or validation split .* tested on what it trained on/
    );
    await call('labels.undo');
    await call('fewshot.delete', { setId: set.id });
  });

  it('renames in place and refuses a name another set has', async () => {
    const other: SetInfo = await call('fewshot.create', { k: 1, seed: 1, baseNew: true, name: 'one-shot' });
    await expect(call('fewshot.update', { setId: other.id, name: 'two-shot' })).rejects.toThrow(/already exists/);
    const { set } = await call('fewshot.update', { setId: other.id, name: '1-shot b2n' });
    expect(set).toMatchObject({ id: other.id, name: '1-shot b2n', imageIds: other.imageIds });
  });

  it('a set a run used is frozen: edits create a copy, the original stays byte-for-byte, delete is refused', async () => {
    const modelId = (await call('models.import', { dir: FIXTURE })).id;
    const set: SetInfo = (await call('fewshot.list')).find((s: SetInfo) => s.name === 'two-shot');
    const done = nextEvent<TrainFinished>(ctx.app, 'train.finished');
    await call('train.start', { modelId, method: 'zeroshot', setId: set.id });
    expect((await done).status).toBe('done');
    const frozen: SetInfo & { perClass: unknown } = (await call('fewshot.list')).find((s: SetInfo) => s.id === set.id);
    expect(frozen.frozen).toBe(true);
    // Relabeling one of its images later changes neither the frozen set nor what a run on it trains on.
    await call('labels.assign', { imageIds: [frozen.imageIds[0]], classId: classId('wasp') });
    expect((await call('fewshot.list')).find((s: SetInfo) => s.id === set.id).perClass).toEqual(frozen.perClass);
    const steps: number[] = [];
    const off = ctx.app.events.subscribe((name, payload) => name === 'train.progress' && steps.push((payload as { step: number }).step));
    const trained = nextEvent<TrainFinished>(ctx.app, 'train.finished');
    await call('train.start', { modelId, method: 'coop', setId: set.id, epochs: 1, batchSize: 1 });
    expect((await trained).status).toBe('done');
    off();
    expect(steps).toHaveLength(frozen.imageIds.length);
    await call('labels.undo');

    const { set: copy, copiedFrom } = await call('fewshot.update', { setId: set.id, newClassIds: [classId('bee'), classId('wasp')] });
    expect(copiedFrom).toBe(set.id);
    expect(copy.id).not.toBe(set.id);
    expect(copy.name).toBe('two-shot (edited)');
    expect(copy.frozen).toBe(false);
    expect(copy.newClassIds).toEqual([classId('bee'), classId('wasp')]);
    expect((await call('fewshot.list')).find((s: SetInfo) => s.id === set.id)).toEqual(frozen);
    const again = await call('fewshot.update', { setId: set.id, imageIds: frozen.imageIds.slice(0, 4) });
    expect(again.set.name).toBe('two-shot (edited 2)');

    await expect(call('fewshot.delete', { setId: set.id })).rejects.toThrow(/used by 2 runs and is kept/);
    const remaining: SetInfo[] = await call('fewshot.delete', { setId: copy.id });
    expect(remaining.map((s) => s.id)).not.toContain(copy.id);
    expect(remaining.map((s) => s.id)).toContain(set.id);

    // Its classes cannot be deleted or merged away while runs depend on them; once the runs are deleted, they can.
    await expect(call('classes.delete', { id: classId('ant') })).rejects.toThrow(
      /"ant" is a class of the few-shot set "two-shot", which training runs used; deleting it/
    );
    await expect(call('classes.merge', { sourceIds: [classId('moth')], targetId: classId('bee') })).rejects.toThrow(/merging it would change/);
    for (const run of await call('runs.list')) await call('runs.delete', { runId: run.id });
    expect(await call('runs.list')).toEqual([]);
    await call('classes.merge', { sourceIds: [classId('moth')], targetId: classId('bee') });
    await call('fewshot.delete', { setId: set.id });
  });
});
