import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClipEngine } from '../../../src-main/clip/engine';
import { dispatch } from '../../../src-main/contract/dispatch';
import { decodeTable } from '../../../src-main/mocoop/table-codec';
import type { ModelInfo } from '../../../src-main/models/model-store';
import { AppServices } from '../../../src-main/services/app-services';
import { TrainingService } from '../../../src-main/training/training-service';
import { ProjectStore } from '../../../src-main/store/project-store';
import { runCli } from '../../helpers/cli';
import { makeImageFolder } from '../../helpers/images';
import { tempDir } from '../../helpers/temp';
import { switchBackend } from '../../helpers/tf-backend';
import { TINY_CLIP } from '../../helpers/fixtures';

const FIXTURE = TINY_CLIP;
const CLASSES = ['ant', 'honey_bee', 'moth', 'wasp'];

/** Imports a class folder tree as a CSV with one split for all its images. */
async function importImages(
  call: (name: string, input?: unknown) => Promise<any>,
  root: string,
  classes: string[],
  perClass: number,
  seed: number,
  split: (i: number) => string
) {
  const files = await makeImageFolder(root, classes, perClass, seed);
  const rows = ['path,label,split'];
  for (const [label, list] of Object.entries(files)) list.forEach((f, i) => rows.push(`${path.relative(root, f)},${label},${split(i)}`));
  fs.writeFileSync(path.join(root, 'labels.csv'), rows.join('\n'));
  await call('import.run', { importId: `${path.basename(root)}-${seed}`, source: { kind: 'csv', file: path.join(root, 'labels.csv') } });
  return files;
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe('classes after training (open vocabulary)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let app: AppServices;
  let call: (name: string, input?: unknown) => Promise<any>;
  let engine: ClipEngine;
  let model: ModelInfo;
  let t: TrainingService;
  const runs: Record<string, string> = {};
  let restoreBackend: () => Promise<void>;

  beforeAll(async () => {
    tmp = tempDir();
    vi.stubEnv('MOCOOP_BACKEND', 'wasm');
    restoreBackend = await switchBackend('wasm');
    app = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config'), version: 'test' });
    call = async (name: string, input?: unknown) => {
      const envelope = await dispatch(app.handlers(), name, input);
      if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
      return envelope.value as any;
    };
    await call('project.create', { path: path.join(tmp.dir, 'p.mocoop') });
    await importImages(call, path.join(tmp.dir, 'data'), CLASSES, 5, 1, (i) => (i < 3 ? 'train' : 'test'));
    model = app.clip.models.get((await call('models.import', { dir: FIXTURE })).id);
    await call('templates.setGroups', {
      groups: [
        { name: 'photo', templates: ['a photo of a {}.', 'a good photo of a {}.'] },
        { name: 'art', templates: ['art of the {}.', 'a drawing of a {}.'] }
      ]
    });
    const set = await call('fewshot.create', { k: 3, seed: 1, baseNew: true });
    engine = ClipEngine.load(FIXTURE, { textGradients: true });
    t = new TrainingService(app.project);
    const train = (method: 'mocoop' | 'coop' | 'zeroshot' | 'linear-probe', preset: 'paper' | 'released-code' = 'paper') =>
      t.train(engine, model, 'test', { method, preset, setId: set.id, epochs: 3, batchSize: 3, lr: 0.05, topK: 2, schedule: 'coop' }, () => {});
    runs.paper = await train('mocoop');
    runs.released = await train('mocoop', 'released-code');
    runs.coop = await train('coop');
    runs.zeroshot = await train('zeroshot');
    runs.probe = await train('linear-probe');
  });
  afterAll(async () => {
    engine?.dispose();
    app?.dispose();
    tmp?.cleanup();
    await restoreBackend?.();
    vi.unstubAllEnvs();
  });

  it("encoding a class the run already has through its learned experts reproduces that class's trained row within 1e-5", async () => {
    for (const kind of ['paper', 'released', 'coop', 'zeroshot'] as const) {
      const runId = runs[kind]!;
      const table = decodeTable(t.training.expertTable(runId)!);
      const run = t.training.run(runId);
      const names = [...(run.settings.classes as string[]), ...(run.settings.virtualClasses as string[])];
      expect(names).toEqual(CLASSES);
      const all = await t.classFeatures(runId, engine, names);
      expect(all).toHaveLength(table.features.length);
      expect(maxDiff(all, table.features), kind).toBeLessThan(1e-5);
      // One class alone (a different batch of rows): its row of every expert.
      const { experts: G, classes: A, dim: P } = table;
      for (const [a, name] of [
        [1, 'honey_bee'],
        [2, 'moth']
      ] as const) {
        const one = await t.classFeatures(runId, engine, [name]);
        for (let j = 0; j < G; j++)
          expect(
            maxDiff(one.subarray(j * P, (j + 1) * P), table.features.subarray((j * A + a) * P, (j * A + a + 1) * P)),
            `${kind} ${name} expert ${j + 1}`
          ).toBeLessThan(1e-5);
      }
    }
    // The learned prompts moved away from the templates: the rows are not the hand-written prompts' features.
    const paper = decodeTable(t.training.expertTable(runs.paper!)!);
    const plain = engine.embedTexts(['a photo of a ant.'])[0]!;
    expect(maxDiff(paper.features.subarray(0, paper.dim), plain)).toBeGreaterThan(1e-3);
  });

  it('a class added after training is scored with the run, through a derived table beside the unchanged original', async () => {
    const runId = runs.paper!;
    const before = { table: Buffer.from(t.training.expertTable(runId)!), metrics: t.training.run(runId).metrics, predictions: t.training.predictions(runId) };
    await importImages(call, path.join(tmp.dir, 'later'), ['zebra'], 3, 300, () => 'test');
    const result = await t.evaluate(runId, engine, model, { classesFrom: t, text: engine });
    expect(result.open_vocabulary).toMatchObject({ classes_from: t.store.file, trained: CLASSES, added: ['zebra'] });
    expect(result.per_class.map((c) => [c.class, c.role, c.images])).toEqual([...CLASSES.map((c) => [c, 'all', 2]), ['zebra', 'all', 3]]);
    expect(result.images).toBe(11);
    expect(result.h).toBeNull();
    expect(result.confusion.classes).toEqual([...CLASSES, 'zebra']);

    // The derived table: the run's rows unchanged, then zebra's through each expert.
    const derived = t.training.derivedTables(runId);
    expect(derived).toHaveLength(1);
    expect(derived[0]).toMatchObject({ key: result.open_vocabulary!.derived_table, classes: [...CLASSES, 'zebra'], added: ['zebra'], source: t.store.file });
    const table = decodeTable(t.training.derivedTable(runId, derived[0]!.key)!.table);
    const original = decodeTable(before.table);
    expect(table.classes).toBe(5);
    const { dim: P } = table;
    for (let j = 0; j < table.experts; j++) {
      expect(Array.from(table.features.subarray(j * 5 * P, (j * 5 + 4) * P))).toEqual(Array.from(original.features.subarray(j * 4 * P, (j + 1) * 4 * P)));
      expect(Array.from(table.features.subarray((j * 5 + 4) * P, (j * 5 + 5) * P))).toEqual(
        Array.from((await t.classFeatures(runId, engine, ['zebra'])).subarray(j * P, (j + 1) * P))
      );
    }
    // The run itself (table, metrics, stored predictions: what its report shows) is as it was.
    expect(t.training.expertTable(runId)!.equals(before.table)).toBe(true);
    expect(t.training.run(runId).metrics).toEqual(before.metrics);
    expect(t.training.predictions(runId)).toEqual(before.predictions);
    // Evaluated again: the same derived table, not a second one.
    const again = await t.evaluate(runId, engine, model, { classesFrom: t, text: engine });
    expect(again.accuracy).toBe(result.accuracy);
    expect(t.training.derivedTables(runId)).toHaveLength(1);
  });

  it("cross-dataset through the CLI: eval --on OTHER --classes-from OTHER scores exactly the other project's class names", async () => {
    const other = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config-other'), version: 'test' });
    const otherFile = path.join(tmp.dir, 'other.mocoop');
    const otherCall = async (name: string, input?: unknown) => {
      const envelope = await dispatch(other.handlers(), name, input);
      if (!envelope.ok) throw new Error(envelope.error.message);
      return envelope.value as any;
    };
    await otherCall('project.create', { path: otherFile });
    await importImages(otherCall, path.join(tmp.dir, 'other'), ['moth', 'beetle', 'ant'], 2, 500, () => 'test');
    other.dispose();
    const { stdout, stderr } = await runCli(
      ['eval', t.store.file, '--run', runs.released!, '--model', FIXTURE, '--on', otherFile, '--classes-from', otherFile, '--json'],
      path.join(tmp.dir, 'home'),
      { env: { MOCOOP_BACKEND: 'wasm' } }
    );
    expect(stderr).toBe('');
    const result = JSON.parse(stdout);
    expect(result.open_vocabulary).toMatchObject({ classes_from: otherFile, trained: ['moth', 'ant'], added: ['beetle'] });
    expect(result.per_class.map((c: { class: string; images: number }) => [c.class, c.images])).toEqual([
      ['moth', 2],
      ['beetle', 2],
      ['ant', 2]
    ]);
    expect(result.images).toBe(6);
    expect(result.class_match.run.missing).toEqual([]);
    // Without --classes-from, only the classes both sides have are candidates (beetle's images left out).
    const store = ProjectStore.open(otherFile);
    try {
      const plain = await t.evaluate(runs.released!, engine, model, { on: new TrainingService(store) });
      expect(plain.images).toBe(4);
      expect(plain.class_match!.test_project.unknown).toEqual([{ class: 'beetle', images: 2 }]);
    } finally {
      store.close();
    }
  });

  it('refuses runs that cannot name new classes, saying why', async () => {
    await expect(t.classFeatures(runs.probe!, engine, ['zebra'])).rejects.toThrow(/is a linear probe: it has weights only for the classes it was trained on/);
    const exported = path.join(tmp.dir, 'exported');
    t.exportRun(runs.coop!, exported);
    const imported = t.importRun(exported);
    await expect(t.classFeatures(imported, engine, ['zebra'])).rejects.toThrow(
      /has no learned prompts stored \(an imported run carries only its expert table\)/
    );
  });
});
