import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../../src-main/contract/dispatch';
import { AppServices } from '../../../src-main/services/app-services';
import '../../helpers/fixtures'; // the tiny CLIP model (vitest.config leaves this file out without the shared fixtures)
import { makeImageFolder } from '../../helpers/images';
import { useTrainingApp } from '../../helpers/training-app';

describe('training in the app: the compute worker, progress events, cancel and resume', () => {
  const t = useTrainingApp({ photoTemplates: ['a photo of a {}.', 'a good photo of a {}.'] });
  const { call, finished } = t;

  it('trains off the event loop with a progress event per step and records the finished run', async () => {
    const steps: { step: number; loss: number }[] = [];
    const offSteps = t.app.events.subscribe((name, p) => name === 'train.progress' && steps.push(p as { step: number; loss: number }));
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(performance.now()), 20);
    const { runId } = await call('train.start', { modelId: t.modelId, method: 'mocoop', epochs: 4, batchSize: 3, lr: 0.01, topK: 2 });
    expect((await finished(runId)).status).toBe('done');
    clearInterval(timer);
    offSteps();
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // The app's event loop kept running while the worker trained.
    expect(ticks.length).toBeGreaterThan(3);
    const runs = await call('runs.list');
    const run = runs.find((r: { id: string }) => r.id === runId);
    expect(run.status).toBe('done');
    // The accuracy listed is that of the stored predictions on the 6 test images.
    const { predictions } = await call('runs.details', { runId });
    expect(predictions).toHaveLength(6);
    expect(run.accuracy).toBeCloseTo(predictions.filter((p: { correct: boolean }) => p.correct).length / 6, 10);
    // No schedule picked: MoCoOp's stated default, lasp-25 (3 warm-up epochs at 1e-5, lr 0.032 unless set).
    expect(run.settings).toMatchObject({ method: 'mocoop', epochs: 4, topK: 2, schedule: 'lasp-25', warmupEpochs: 3, warmupLr: 1e-5, lr: 0.01 });
    await expect(call('train.start', { modelId: t.modelId, method: 'mocoop', topK: 3 })).rejects.toThrow(/between 1 and the number of template groups \(2\)/);
    // An expert whose template glues the class name to its text is refused before a run is recorded.
    const groups = await call('templates.groups');
    await call('templates.setGroups', {
      groups: [
        { name: 'glued', templates: ['a photo of many {}s.'] },
        { name: 'art', templates: ['art of the {}.'] }
      ]
    });
    await expect(call('train.start', { modelId: t.modelId, method: 'mocoop', epochs: 1 })).rejects.toThrow(
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
    const other = new AppServices({ mode: 'web', configDir: path.join(t.dir, 'config-other'), version: 'test' });
    const otherFile = path.join(t.dir, 'other.mocoop');
    const otherImages = await makeImageFolder(path.join(t.dir, 'other'), ['ant', 'bee'], 2);
    const otherCall = async (name: string, input?: unknown) => {
      const envelope = await dispatch(other.handlers(), name, input);
      if (!envelope.ok) throw new Error(envelope.error.message);
      return envelope.value as any;
    };
    await otherCall('project.create', { path: otherFile });
    await otherCall('import.run', { importId: 'o', source: { kind: 'folder', dir: path.join(t.dir, 'other') } });
    other.dispose();
    expect(Object.values(otherImages).flat()).toHaveLength(4);
    const shifted = await call('runs.evaluate', { runId: run.id, otherProject: otherFile });
    expect(shifted.images).toBe(4);
    expect(shifted.per_class.filter((c: { images: number }) => c.images > 0).map((c: { class: string }) => c.class)).toEqual(['ant', 'bee']);
    await expect(call('runs.evaluate', { runId: run.id, otherProject: path.join(t.dir, 'nope.mocoop') })).rejects.toThrow(/does not exist/);
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

  // How soon a cancel takes effect is timed by the bench (npm run bench, responsiveness line), not here.
  it('cancel stops the run; the run resumes from its checkpoint, not from the start', async () => {
    // batch1-10 gives batch 1 (and lr 0.002, 1 warm-up epoch); the epochs and lr set here override it.
    const { runId } = await call('train.start', { modelId: t.modelId, method: 'mocoop', schedule: 'batch1-10', epochs: 200, lr: 0.01, topK: 2 });
    const end = finished(runId);
    await t.progress((p) => p.epoch >= 1);
    expect((await call('train.cancel', { runId })).cancelled).toBe(true);
    const result = await end;
    expect(result.status).toBe('cancelled');
    const cancelled = (await call('runs.list')).find((r: { id: string }) => r.id === runId);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.settings).toMatchObject({ schedule: 'batch1-10', batchSize: 1, warmupEpochs: 1, epochs: 200, lr: 0.01 });
    await expect(call('train.start', { modelId: t.modelId, method: 'mocoop', schedule: 'lasp-30' })).rejects.toThrow(/invalid_input/);

    const steps: number[] = [];
    const off = t.app.events.subscribe((name, p) => name === 'train.progress' && steps.push((p as { epoch: number }).epoch));
    const first = t.progress((p) => p.runId === runId);
    const again = finished(runId);
    await call('train.resume', { runId });
    // Cancel again at the resumed run's first step and check it continued after the checkpoint, not from the start.
    await first;
    off();
    await call('train.cancel', { runId });
    expect(steps.length).toBeGreaterThan(0);
    expect(Math.min(...steps)).toBeGreaterThanOrEqual(1);
    expect((await again).status).toBe('cancelled');
  });
});
