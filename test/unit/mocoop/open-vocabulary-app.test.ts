/**
 * Classes added after training, from the app's side: the Evaluate and Classify pages ask for every
 * class of the project; the names the run lacks are encoded through its experts in the compute worker.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrainingService } from '../../../src-main/training/training-service';
import { useApp, writeLabelsCsv } from '../../helpers/app';
import { makeImageFolder } from '../../helpers/images';
import { TINY_CLIP } from '../../helpers/fixtures';
import { useEnv } from '../../helpers/suite';

describe('classes added after training, from the Evaluate and Classify pages', () => {
  useEnv({ MOCOOP_BACKEND: 'wasm' });
  const ctx = useApp();
  const { call, finished } = ctx;
  let modelId: string;
  const train = async (input: Record<string, unknown>) => {
    const { runId } = await call('train.start', { modelId, ...input });
    expect((await finished(runId)).status).toBe('done');
    return runId as string;
  };
  let mocoopRun: string;
  let probeRun: string;
  let waspFile: string;

  beforeAll(async () => {
    await call('project.create', { path: path.join(ctx.dir, 'p.mocoop') });
    const root = path.join(ctx.dir, 'data');
    await call('import.run', { importId: 'a', source: { kind: 'csv', file: writeLabelsCsv(root, await makeImageFolder(root, ['ant', 'bee', 'moth'], 5), 3) } });
    modelId = (await call('models.import', { dir: TINY_CLIP })).id;
    await call('templates.setGroups', {
      groups: [
        { name: 'photo', templates: ['a photo of a {}.', 'a good photo of a {}.'] },
        { name: 'art', templates: ['art of the {}.'] }
      ]
    });
    await call('fewshot.create', { k: 3, seed: 1, baseNew: false });
    mocoopRun = await train({ method: 'mocoop', epochs: 2, batchSize: 3, topK: 1 });
    probeRun = await train({ method: 'linear-probe' });
    // A class the runs never saw arrives after training, with test images.
    const later = path.join(ctx.dir, 'later');
    const wasp = await makeImageFolder(later, ['wasp'], 3, 500);
    waspFile = wasp.wasp![0]!;
    await call('import.run', { importId: 'b', source: { kind: 'csv', file: writeLabelsCsv(later, wasp, 0) } });
  }, 600_000);

  it('names the classes a run lacks and whether it can score them', async () => {
    expect(await call('runs.classCoverage', { runId: mocoopRun })).toEqual({
      trained: ['ant', 'bee', 'moth'],
      notInRun: ['wasp'],
      canAdd: true,
      reason: null
    });
    const probe = await call('runs.classCoverage', { runId: probeRun });
    expect(probe).toMatchObject({ notInRun: ['wasp'], canAdd: false });
    expect(probe.reason).toMatch(/linear probe/);
    await expect(call('runs.evaluate', { runId: probeRun, classes: 'project' })).rejects.toThrow(
      /linear probe: it has weights only for the classes it was trained on/
    );
  });

  it("evaluates over every class of the project, the run's own table and metrics unchanged", async () => {
    const before = await call('runs.details', { runId: mocoopRun });
    const trained = await call('runs.evaluate', { runId: mocoopRun });
    // Without asking, the new class's images are left out and counted.
    expect(trained.class_match.test_project.unknown).toEqual([{ class: 'wasp', images: 3 }]);
    expect(trained.open_vocabulary).toBeUndefined();

    const open = await call('runs.evaluate', { runId: mocoopRun, classes: 'project' });
    expect(open.open_vocabulary).toMatchObject({ trained: ['ant', 'bee', 'moth'], added: ['wasp'] });
    expect(open.open_vocabulary.derived_table).toMatch(/^[0-9a-f]{16}$/);
    expect(open.images).toBe(trained.images + 3);
    expect(open.per_class.find((c: { class: string }) => c.class === 'wasp')).toMatchObject({ images: 3 });
    expect(open.class_match.test_project.unknown).toEqual([]);
    // Encoded once: the derived table is stored with the run, which itself is untouched.
    const t = new TrainingService(ctx.app.project);
    expect(t.training.derivedTables(mocoopRun).map((d) => d.added)).toEqual([['wasp']]);
    expect(t.namesToEncode(mocoopRun, ['ant', 'wasp'])).toEqual([]);
    const after = await call('runs.details', { runId: mocoopRun });
    expect(after.metrics).toEqual(before.metrics);
    expect(after.predictions).toEqual(before.predictions);
    expect(await call('runs.evaluate', { runId: mocoopRun, classes: 'project' })).toEqual(open);
  });

  it('classifies dropped files among every class of the project', async () => {
    const upload = [{ name: 'wasp.jpg', dataBase64: fs.readFileSync(waspFile).toString('base64') }];
    const [own] = await call('classify.files', { runId: mocoopRun, files: upload });
    expect(own.scores.map((s: { className: string }) => s.className).sort()).toEqual(['ant', 'bee', 'moth']);
    const [open] = await call('classify.files', { runId: mocoopRun, files: upload, classes: 'project' });
    expect(open.scores.map((s: { className: string }) => s.className).sort()).toEqual(['ant', 'bee', 'moth', 'wasp']);
    expect(open.scores.reduce((sum: number, s: { probability: number }) => sum + s.probability, 0)).toBeCloseTo(1, 5);
    expect(open.predicted).toBe(open.scores[0].className);
  });
});
