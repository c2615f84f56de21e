/**
 * CoCoOp as a method of the app: trained in the compute worker with its own schedule, evaluated
 * base-to-new, re-scored through the worker's text tower (Evaluate, Classify, Label next), exported.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COCOOP_PROMPT } from '../../../src-main/mocoop/cocoop-trainer';
import { decodeTable } from '../../../src-main/mocoop/table-codec';
import { ClipEngine } from '../../../src-main/clip/engine';
import { TrainingService, conditionalSpec, engineScorer } from '../../../src-main/training/training-service';
import { type TrainFinished, nextEvent, useApp, writeLabelsCsv } from '../../helpers/app';
import { makeImageFolder } from '../../helpers/images';
import { TINY_CLIP } from '../../helpers/fixtures';
import { useEnv } from '../../helpers/suite';
import { backendForTest } from '../../helpers/tf-backend';

describe('CoCoOp in the app', () => {
  useEnv({ MOCOOP_BACKEND: 'wasm' });
  const ctx = useApp();
  const { call } = ctx;
  let runId: string;
  let files: Record<string, string[]>;

  beforeAll(async () => {
    await call('project.create', { path: path.join(ctx.dir, 'p.mocoop') });
    const root = path.join(ctx.dir, 'data');
    files = await makeImageFolder(root, ['ant', 'bee', 'moth', 'wasp'], 5);
    await call('import.run', { importId: 'i', source: { kind: 'csv', file: writeLabelsCsv(root, files, 3) } });
    const modelId = (await call('models.import', { dir: TINY_CLIP })).id;
    await call('fewshot.create', { k: 3, seed: 1, baseNew: true });
    const done = nextEvent<TrainFinished>(ctx.app, 'train.finished');
    runId = (await call('train.start', { modelId, method: 'cocoop', epochs: 2, augment: 'off' })).runId;
    expect((await done).status).toBe('done');
  }, 600_000);

  it("trains with CoCoOp's own schedule and prompt and says what departs from its paper", async () => {
    const run = (await call('runs.list')).find((r: { id: string }) => r.id === runId);
    expect(run.settings).toMatchObject({ method: 'cocoop', schedule: 'cocoop', batchSize: 1, lr: 0.002, warmupEpochs: 1, promptTemplate: COCOOP_PROMPT });
    expect(run.settings.deviations.join(' ')).toMatch(/meta-network/);
    const steps = await call('runs.steps', { runId });
    // k = 3 images of each of the 2 base classes, batch 1, 2 epochs.
    expect(steps.total).toBe(12);
    const table = decodeTable(new TrainingService(ctx.app.project).training.expertTable(runId)!);
    expect(table.conditional?.hidden).toBeGreaterThan(0);
  });

  it('evaluates base and new classes, and scores the same through the app as at the end of training', async () => {
    const details = await call('runs.details', { runId });
    const metrics = details.metrics;
    expect(metrics.base_accuracy).not.toBeNull();
    expect(metrics.new_accuracy).not.toBeNull();
    expect(metrics.per_class.map((c: { role: string }) => c.role).sort()).toEqual(['base', 'base', 'new', 'new']);
    expect(details.predictions).toHaveLength(8);
    // Re-scored from the Evaluate page (main process, text tower in the worker): the same numbers.
    const again = await call('runs.evaluate', { runId });
    expect(again.base_accuracy).toBeCloseTo(metrics.base_accuracy, 10);
    expect(again.new_accuracy).toBeCloseTo(metrics.new_accuracy, 10);
    expect(again.per_class).toEqual(metrics.per_class);
    // Every class of the project as candidates for every image (the generalised setting): all 8 images, nothing to encode.
    const open = await call('runs.evaluate', { runId, classes: 'project' });
    expect(open.open_vocabulary).toMatchObject({ added: [], derived_table: null });
    expect(open.images).toBe(8);
    // Classify a test image among the run's 4 classes: as the text tower scores it in this process.
    const one = details.predictions[0];
    const row = ctx.app.project.images([one.imageId])[0]!;
    const [result] = await call('classify.files', { runId, files: [{ name: 'x.jpg', dataBase64: fs.readFileSync(row.path).toString('base64') }] });
    expect(result.scores).toHaveLength(4);
    expect(result.scores.reduce((s: number, x: { probability: number }) => s + x.probability, 0)).toBeCloseTo(1, 5);
    const t = new TrainingService(ctx.app.project);
    const run = t.training.run(runId);
    const feature = ctx.app.project.cachedFeatures(run.modelId, [row.hash]).get(row.hash)!;
    await backendForTest('wasm');
    const engine = ClipEngine.load(TINY_CLIP, { textGradients: true });
    try {
      const names = t.runClassNames(runId);
      const [scores] = await engineScorer(engine)(decodeTable(t.training.expertTable(runId)!).conditional!, names, conditionalSpec(run.settings), [feature]);
      expect(result.predicted).toBe(names[scores!.indexOf(Math.max(...scores!))]);
    } finally {
      engine.dispose();
    }
  });

  it('ranks unlabeled images for Label next and round-trips through export', async () => {
    const { ids } = await call('images.ids', { filter: { split: 'test' } });
    await call('labels.assign', { imageIds: ids.slice(0, 3), classId: null });
    const suggestion = await call('suggest.uncertain', { runId, by: 'entropy' });
    expect(suggestion.items.map((i: { imageId: number }) => i.imageId).sort()).toEqual(ids.slice(0, 3).sort());
    expect(suggestion.items.every((i: { confidence: number }) => i.confidence > 0 && i.confidence <= 1)).toBe(true);
    await call('labels.undo');

    const t = new TrainingService(ctx.app.project);
    const out = path.join(ctx.dir, 'exported');
    t.exportRun(runId, out);
    const imported = t.importRun(out);
    const a = decodeTable(t.training.expertTable(runId)!);
    const b = decodeTable(t.training.expertTable(imported)!);
    expect(b.conditional).toEqual(a.conditional);
  });
});
