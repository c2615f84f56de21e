import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipEngine } from '../../../src-main/clip/engine';
import { classProbabilities, predict } from '../../../src-main/mocoop/inference';
import { writeReport } from '../../../src-main/services/report-writer';
import { decodeTable, encodeTable } from '../../../src-main/mocoop/table-codec';
import type { ModelInfo } from '../../../src-main/models/model-store';
import { AppServices } from '../../../src-main/services/app-services';
import { type EvalResult, TrainingService } from '../../../src-main/training/training-service';
import { ProjectStore } from '../../../src-main/store/project-store';
import { type Call, appCaller, useApp, writeLabelsCsv } from '../../helpers/app';
import { makeImageFolder } from '../../helpers/images';
import { TINY_CLIP } from '../../helpers/fixtures';
import { useEnv } from '../../helpers/suite';
import { useBackend } from '../../helpers/tf-backend';

const FIXTURE = TINY_CLIP;
const TAU_CE = 0.5;

/** A project through `call` from a CSV of path,label,split over an image folder (the first `trainPerClass` of each class train); its images by class. */
async function makeProject(call: Call, file: string, root: string, classes: string[], perClass: number, seedBase: number, trainPerClass: number) {
  const files = await makeImageFolder(root, classes, perClass, seedBase);
  const labels = writeLabelsCsv(root, files, trainPerClass);
  await call('project.create', { path: file });
  await call('import.run', { importId: path.basename(file), source: { kind: 'csv', file: labels } });
  return files;
}

describe('evaluating a base-to-new run: class matching, both confusion blocks, probabilities under the run’s scale', () => {
  let files: Record<string, string[]>;
  let engine: ClipEngine;
  let model: ModelInfo;
  let t: TrainingService;
  let runId: string;

  useEnv({ MOCOOP_BACKEND: 'wasm' });
  useBackend('wasm');
  const ctx = useApp();
  const { call } = ctx;
  beforeAll(async () => {
    files = await makeProject(call, path.join(ctx.dir, 'p.mocoop'), path.join(ctx.dir, 'data'), ['ant', 'bee', 'moth', 'wasp'], 5, 1, 3);
    const modelId = (await call('models.import', { dir: FIXTURE })).id;
    model = ctx.app.clip.models.get(modelId);
    await call('templates.setGroups', {
      groups: [
        { name: 'photo', templates: ['a photo of a {}.', 'a good photo of a {}.'] },
        { name: 'art', templates: ['art of the {}.', 'a drawing of a {}.'] }
      ]
    });
    const set = await call('fewshot.create', { k: 3, seed: 1, baseNew: true });
    expect(set.newClassIds).toHaveLength(2);
    engine = ClipEngine.load(FIXTURE, { textGradients: true });
    t = new TrainingService(ctx.app.project);
    runId = await t.train(
      engine,
      model,
      'test',
      { method: 'mocoop', setId: set.id, epochs: 2, batchSize: 3, lr: 0.01, topK: 2, loss: { tauCe: TAU_CE } },
      () => {}
    );
  });
  afterAll(() => engine?.dispose());

  it('returns both confusion blocks (base among base, new among new) and the router–gate agreement per side, labelled', async () => {
    const stored = t.training.run(runId).metrics as unknown as EvalResult;
    expect(stored.confusion.classes).toEqual(['ant', 'bee']); // the old field: the base block, as before
    expect(stored.confusion.base).toEqual({ classes: stored.confusion.classes, counts: stored.confusion.counts });
    expect(stored.confusion.new!.classes).toEqual(['moth', 'wasp']);
    const sum = (m: number[][]) => m.flat().reduce((a, b) => a + b, 0);
    expect(sum(stored.confusion.base!.counts)).toBe(4);
    expect(sum(stored.confusion.new!.counts)).toBe(4);
    const correctNew = stored.per_class.filter((c) => c.role === 'new').reduce((n, c) => n + c.correct, 0);
    expect(stored.confusion.new!.counts[0]![0]! + stored.confusion.new!.counts[1]![1]!).toBe(correctNew);
    expect(stored.expert_usage.base!.router_agrees_with_p_hard).toEqual(expect.any(Number));
    expect(stored.expert_usage.new!.router_agrees_with_p_hard).toEqual(expect.any(Number));
    expect(stored.expert_usage.router_agrees_with_p_hard).toBeCloseTo(
      (stored.expert_usage.base!.router_agrees_with_p_hard! + stored.expert_usage.new!.router_agrees_with_p_hard!) / 2,
      10
    );
    expect(stored.expert_usage.new!.load.reduce((a, b) => a + b, 0)).toBe(4);

    // The app's contract carries them to the Evaluate page.
    const details = await call('runs.details', { runId });
    expect(details.metrics.confusion.new).toEqual(stored.confusion.new);
    expect(details.metrics.expert_usage.new).toEqual(stored.expert_usage.new);
    expect(details.metrics.class_match.run.missing).toEqual([]);

    // The report shows both blocks under their own headings, and numbers experts from 1 in predictions.csv.
    const out = writeReport(path.join(ctx.dir, 'report'), t.reportInput(runId, 'test'));
    const html = fs.readFileSync(out.html, 'utf8');
    expect(html).toContain('Confusion matrix · base classes');
    expect(html).toContain('Confusion matrix · new classes');
    expect(html).toMatch(/data-block="new">.*<th class="col" title="moth"><span>moth<\/span><\/th><th class="col" title="wasp"><span>wasp<\/span><\/th>/s);
    const csv = fs.readFileSync(out.csv, 'utf8').trim().split('\n').slice(1);
    const predictions = t.training.predictions(runId);
    expect(csv).toHaveLength(predictions.length);
    const experts = csv.map((line) => line.split(',')[4]!.split(';').map(Number));
    expect(experts.flat().every((e) => e === 1 || e === 2)).toBe(true);
    expect(experts).toEqual(predictions.map((p) => p.topExperts.map((e) => e + 1)));
  });

  it('on another project, the candidates are exactly the classes both sides have; the rest is reported per side', async () => {
    // The other project lacks a base class (bee) and a new class (wasp), and has a class the run does not know (fly).
    const other = new AppServices({ mode: 'web', configDir: path.join(ctx.dir, 'config-other'), version: 'test' });
    const otherFile = path.join(ctx.dir, 'other.mocoop');
    await makeProject(appCaller(other), otherFile, path.join(ctx.dir, 'other'), ['ant', 'moth', 'fly'], 3, 101, 0);
    other.dispose();
    const store = ProjectStore.open(otherFile);
    try {
      const result = await t.evaluate(runId, engine, model, { on: new TrainingService(store) });
      // One candidate per side: every image is its own class (no missing class's row is ever scored).
      expect(result.images).toBe(6);
      expect(result.base_accuracy).toBe(1);
      expect(result.new_accuracy).toBe(1);
      expect(result.per_class.map((c) => [c.class, c.role, c.images])).toEqual([
        ['ant', 'base', 3],
        ['moth', 'new', 3]
      ]);
      expect(result.confusion.base!.classes).toEqual(['ant']);
      expect(result.confusion.new!.classes).toEqual(['moth']);
      expect(result.class_match).toEqual({
        run: { used: ['ant', 'moth'], missing: ['bee', 'wasp'] },
        test_project: { used: ['ant', 'moth'], unknown: [{ class: 'fly', images: 3 }], excluded_images: 3 }
      });
      // Through the app: the same numbers and fields.
      const viaApp = await call('runs.evaluate', { runId, otherProject: otherFile });
      expect(viaApp.class_match).toEqual(result.class_match);
      expect(viaApp.confusion).toEqual(result.confusion);
    } finally {
      store.close();
    }
  });

  it('Classify and the label-next suggestions use the run’s logit scale (1/τ_ce), also for a table stored without one', async () => {
    const table = decodeTable(t.training.expertTable(runId)!);
    expect(table.logitScale).toBeCloseTo(1 / TAU_CE, 6);
    const names = ['ant', 'bee', 'moth', 'wasp'];
    const paths = [files.ant![4]!, files.moth![3]!, files.wasp![4]!];
    const vectors = (await engine.embedImageFiles(paths)).map((r) => r.vector!);
    const expected = vectors.map((v) => classProbabilities(predict(table, v, [0, 1, 2, 3]).scores, 1 / TAU_CE));
    const upload = paths.map((p) => ({ name: path.basename(p), dataBase64: fs.readFileSync(p).toString('base64') }));
    const check = (results: { predicted: string | null; confidence: number; scores: { className: string; probability: number }[] }[]) => {
      results.forEach((r, n) => {
        const probs = expected[n]!;
        const top = probs.indexOf(Math.max(...probs));
        expect(r.predicted).toBe(names[top]);
        expect(r.confidence).toBeCloseTo(probs[top]!, 3);
        r.scores.forEach((s) => expect(s.probability).toBeCloseTo(probs[names.indexOf(s.className)]!, 3));
        // Not the "100.0%, runner-up 0.0%" of a fixed scale of 100.
        expect(r.confidence).toBeLessThan(0.9);
        expect(r.scores[1]!.probability).toBeGreaterThan(0.05);
      });
    };
    check(await call('classify.files', { runId, files: upload }));

    // Label next: unlabeled images ranked by the margin of the same probabilities.
    const { ids } = await call('images.ids', { filter: { split: 'test' } });
    const unlabeled = ids.slice(0, 5);
    await call('labels.assign', { imageIds: unlabeled, classId: null });
    const suggestion = await call('suggest.uncertain', { runId, by: 'margin' });
    const rows = new Map(ctx.app.project.images(unlabeled).map((r) => [r.id, r]));
    const cached = ctx.app.project.cachedFeatures(
      model.id,
      [...rows.values()].map((r) => r.hash)
    );
    expect(suggestion.items).toHaveLength(5);
    for (const item of suggestion.items) {
      const probs = classProbabilities(predict(table, cached.get(rows.get(item.imageId)!.hash)!, [0, 1, 2, 3]).scores, 1 / TAU_CE).sort((a, b) => b - a);
      expect(item.confidence).toBeCloseTo(probs[0]!, 5);
      expect(item.uncertainty).toBeCloseTo(1 - (probs[0]! - probs[1]!), 5);
    }
    const margins = suggestion.items.map((i: { uncertainty: number }) => i.uncertainty);
    expect(new Set(margins.map((m: number) => m.toFixed(6))).size).toBe(5); // no ties at 0 or 1
    await call('labels.undo');

    // A run stored before the scale was kept: the scale comes from its recorded τ_ce.
    const { logitScale: _, ...old } = table;
    t.training.saveExpertTable(runId, encodeTable(old));
    expect(decodeTable(t.training.expertTable(runId)!).logitScale).toBeUndefined();
    check(await call('classify.files', { runId, files: upload }));
    t.training.saveExpertTable(runId, encodeTable(table));
  });
});
