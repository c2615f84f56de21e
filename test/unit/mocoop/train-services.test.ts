import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../../src-main/contract/dispatch';
import { AppServices } from '../../../src-main/services/app-services';
import { makeImageFolder } from '../../helpers/images';
import { tempDir } from '../../helpers/temp';
import { TINY_CLIP } from '../../helpers/fixtures';

const FIXTURE = TINY_CLIP;

describe('training in the app: the compute worker, progress events, cancel and resume', () => {
  let tmp: ReturnType<typeof tempDir>;
  let app: AppServices;
  let modelId: string;
  const call = async (name: string, input?: unknown) => {
    const envelope = await dispatch(app.handlers(), name, input);
    if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
    return envelope.value as any;
  };
  const finished = (runId: string) =>
    new Promise<{ status: string; at: number }>((resolve) => {
      const off = app.events.subscribe((name, payload) => {
        const p = payload as { runId: string; status: string };
        if (name === 'train.finished' && p.runId === runId) {
          off();
          resolve({ status: p.status, at: performance.now() });
        }
      });
    });

  beforeAll(async () => {
    tmp = tempDir();
    process.env.MOCOOP_BACKEND = 'wasm';
    const root = path.join(tmp.dir, 'data');
    const files = await makeImageFolder(root, ['ant', 'bee', 'moth'], 5);
    const rows = ['path,label,split'];
    for (const [label, list] of Object.entries(files)) list.forEach((f, i) => rows.push(`${path.relative(root, f)},${label},${i < 3 ? 'train' : 'test'}`));
    fs.writeFileSync(path.join(root, 'labels.csv'), rows.join('\n'));
    app = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config'), version: 'test' });
    await call('project.create', { path: path.join(tmp.dir, 'p.mocoop') });
    await call('import.run', { importId: 'i', source: { kind: 'csv', file: path.join(root, 'labels.csv') } });
    modelId = (await call('models.import', { dir: FIXTURE })).id;
    await call('templates.setGroups', {
      groups: [
        { name: 'photo', templates: ['a photo of a {}.', 'a good photo of a {}.'] },
        { name: 'art', templates: ['art of the {}.'] }
      ]
    });
    await call('fewshot.create', { k: 3, seed: 1, baseNew: false });
  });
  afterAll(() => {
    app.dispose();
    tmp.cleanup();
  });

  it('trains off the event loop with a progress event per step and records the finished run', async () => {
    const steps: { step: number; loss: number }[] = [];
    app.events.subscribe((name, p) => name === 'train.progress' && steps.push(p as { step: number; loss: number }));
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(performance.now()), 20);
    const { runId } = await call('train.start', { modelId, method: 'mocoop', epochs: 4, batchSize: 3, lr: 0.01, topK: 2 });
    expect((await finished(runId)).status).toBe('done');
    clearInterval(timer);
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // The app's event loop kept running while the worker trained.
    expect(ticks.length).toBeGreaterThan(3);
    const runs = await call('runs.list');
    const run = runs.find((r: { id: string }) => r.id === runId);
    expect(run.status).toBe('done');
    expect(run.accuracy).toBeGreaterThanOrEqual(0);
    // No schedule picked: MoCoOp's stated default, lasp-25 (3 warm-up epochs at 1e-5, lr 0.032 unless set).
    expect(run.settings).toMatchObject({ method: 'mocoop', epochs: 4, topK: 2, schedule: 'lasp-25', warmupEpochs: 3, warmupLr: 1e-5, lr: 0.01 });
    await expect(call('train.start', { modelId, method: 'mocoop', topK: 3 })).rejects.toThrow(/between 1 and the number of template groups \(2\)/);
    // An expert whose template glues the class name to its text is refused before a run is recorded.
    const groups = await call('templates.groups');
    await call('templates.setGroups', {
      groups: [
        { name: 'glued', templates: ['a photo of many {}s.'] },
        { name: 'art', templates: ['art of the {}.'] }
      ]
    });
    await expect(call('train.start', { modelId, method: 'mocoop', epochs: 1 })).rejects.toThrow(
      /: Template "a photo of many \{\}s\." with the class "ant" does not tokenise as the template's words around the class name/
    );
    await call('templates.setGroups', { groups: groups.map((g: { name: string; templates: string[] }) => ({ name: g.name, templates: g.templates })) });
    expect(await call('runs.list')).toHaveLength(runs.length);
  });

  it('evaluates a finished run on the validation split and on another project, leaving the stored test predictions alone', async () => {
    const runs = await call('runs.list');
    const run = runs.find((r: { status: string; method: string }) => r.status === 'done' && r.method === 'mocoop');
    const stored = await call('runs.details', { runId: run.id });
    await expect(call('runs.evaluate', { runId: run.id, split: 'val' })).rejects.toThrow(/No labeled validation images/);
    const { ids } = await call('images.ids', { filter: { split: 'test' } });
    await call('labels.setSplit', { imageIds: ids.slice(0, 4), split: 'val' });
    // A class renamed after training is still the run's class in its own project.
    const ant = (await call('classes.list')).find((c: { name: string }) => c.name === 'ant');
    await call('classes.rename', { id: ant.id, name: 'formicid' });
    const val = await call('runs.evaluate', { runId: run.id, split: 'val' });
    await call('classes.rename', { id: ant.id, name: 'ant' });
    expect(val.per_class.map((c: { class: string }) => c.class)).toContain('formicid');
    expect(val.images).toBe(4);
    expect(val.confusion.counts.flat().reduce((a: number, b: number) => a + b, 0)).toBe(4);
    await call('labels.undo');
    expect((await call('runs.details', { runId: run.id })).predictions).toEqual(stored.predictions);

    // Another project with two of the three class names (domain shift): evaluated on all its labeled images.
    const other = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config-other'), version: 'test' });
    const otherFile = path.join(tmp.dir, 'other.mocoop');
    const otherImages = await makeImageFolder(path.join(tmp.dir, 'other'), ['ant', 'bee'], 2);
    const otherCall = async (name: string, input?: unknown) => {
      const envelope = await dispatch(other.handlers(), name, input);
      if (!envelope.ok) throw new Error(envelope.error.message);
      return envelope.value as any;
    };
    await otherCall('project.create', { path: otherFile });
    await otherCall('import.run', { importId: 'o', source: { kind: 'folder', dir: path.join(tmp.dir, 'other') } });
    other.dispose();
    expect(Object.values(otherImages).flat()).toHaveLength(4);
    const shifted = await call('runs.evaluate', { runId: run.id, otherProject: otherFile });
    expect(shifted.images).toBe(4);
    expect(shifted.per_class.filter((c: { images: number }) => c.images > 0).map((c: { class: string }) => c.class)).toEqual(['ant', 'bee']);
    await expect(call('runs.evaluate', { runId: run.id, otherProject: path.join(tmp.dir, 'nope.mocoop') })).rejects.toThrow(/does not exist/);
  });

  it('creates a hand-picked few-shot set and refuses unlabeled picks', async () => {
    const { ids } = await call('images.ids', { filter: { split: 'train' } });
    const set = await call('fewshot.createManual', { name: 'picked', imageIds: ids.slice(0, 5) });
    expect(set.imageIds).toEqual(ids.slice(0, 5));
    expect(set.k).toBeNull();
    await call('labels.assign', { imageIds: [ids[0]], classId: null });
    await expect(call('fewshot.createManual', { name: 'picked 2', imageIds: ids.slice(0, 5) })).rejects.toThrow(/have no label/);
    await call('labels.undo');
  });

  it('cancel stops within a second; the run resumes from its checkpoint, not from the start', async () => {
    // batch1-10 gives batch 1 (and lr 0.002, 1 warm-up epoch); the epochs and lr set here override it.
    const { runId } = await call('train.start', { modelId, method: 'mocoop', schedule: 'batch1-10', epochs: 200, lr: 0.01, topK: 2 });
    const end = finished(runId);
    await new Promise<void>((resolve) => {
      const off = app.events.subscribe((name, p) => {
        if (name === 'train.progress' && (p as { epoch: number }).epoch >= 1) {
          off();
          resolve();
        }
      });
    });
    const asked = performance.now();
    expect((await call('train.cancel', { runId })).cancelled).toBe(true);
    const result = await end;
    expect(result.status).toBe('cancelled');
    expect(result.at - asked).toBeLessThan(1000);
    const cancelled = (await call('runs.list')).find((r: { id: string }) => r.id === runId);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.settings).toMatchObject({ schedule: 'batch1-10', batchSize: 1, warmupEpochs: 1, epochs: 200, lr: 0.01 });
    await expect(call('train.start', { modelId, method: 'mocoop', schedule: 'lasp-30' })).rejects.toThrow(/invalid_input/);

    await call('train.resume', { runId });
    const steps: number[] = [];
    const off = app.events.subscribe((name, p) => name === 'train.progress' && steps.push((p as { epoch: number }).epoch));
    // Cancel again quickly and check the resumed run continued after the checkpoint, not from the start.
    await new Promise((r) => setTimeout(r, 1500));
    off();
    await call('train.cancel', { runId });
    expect(steps.length).toBeGreaterThan(0);
    expect(Math.min(...steps)).toBeGreaterThanOrEqual(1);
  });
});
