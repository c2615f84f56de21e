import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipEngine } from '../../../src-main/clip/engine';
import { tf } from '../../../src-main/clip/tf';
import { dispatch } from '../../../src-main/contract/dispatch';
import { defaultSchedule, scheduleFor } from '../../../src-main/contract/schedules';
import { COOP_BASE_TO_NEW_PROMPT, COOP_FEW_SHOT_PROMPT, coopPrompt, deviations, kgcoopTemplate, recogniseDataset } from '../../../src-main/mocoop/baselines';
import { classTokenIds, expertTemplate, layoutSequences } from '../../../src-main/mocoop/experts';
import { fitLinearProbe, probeAccuracy, searchC, fitLogistic } from '../../../src-main/mocoop/linear-probe';
import { learnedPrompts } from '../../../src-main/mocoop/open-vocabulary';
import { PromptLearner } from '../../../src-main/mocoop/prompt-learner';
import { decodeTable } from '../../../src-main/mocoop/table-codec';
import {
  PAPER_DEFAULTS,
  type PromptMethod,
  type StepEvent,
  type TrainData,
  initialContext,
  lossSettingsFor,
  trainPrompts
} from '../../../src-main/mocoop/trainer';
import { AppServices } from '../../../src-main/services/app-services';
import { loadTemplateLibrary } from '../../../src-main/services/clip-services';
import { TrainingService } from '../../../src-main/training/training-service';
import { clusteredData as clusteredFeatures } from '../../helpers/clustered-data';
import { makeImageFolder } from '../../helpers/images';
import { tempDir } from '../../helpers/temp';
import { seededRandom } from '../../../src-main/util/seeded-random';
import { TINY_CLIP } from '../../helpers/fixtures';
import { useEnv } from '../../helpers/suite';
import { useBackend } from '../../helpers/tf-backend';

const FIXTURE = TINY_CLIP;

describe('baselines as published', () => {
  let engine: ClipEngine;
  useBackend('wasm');
  beforeAll(async () => {
    engine = ClipEngine.load(FIXTURE, { textGradients: true });
  });
  afterAll(() => engine?.dispose());

  it('CoOp base-to-new: 4 vectors from "a photo of a", the class, a fixed "."', () => {
    const tok = engine.tokenizer;
    const e = expertTemplate(tok, COOP_BASE_TO_NEW_PROMPT);
    expect(e.prefixIds).toEqual(tok.encode('a photo of a'));
    expect(e.prefixIds).toHaveLength(4);
    expect(e.suffixIds).toEqual([]);
    expect(e.fixedSuffixIds).toEqual(tok.encode('.'));
    expect(e.randomPrefix).toBe(false);
    const layout = layoutSequences([e], classTokenIds(tok, ['golden retriever']), tok.sotId, tok.eotId);
    // The sequence is exactly the tokenised prompt "a photo of a golden retriever.".
    expect(layout.ids[0]).toEqual([tok.sotId, ...tok.encode('a photo of a golden retriever.'), tok.eotId]);
    expect(layout.suffixLength).toEqual([0]);
    const learner = new PromptLearner(layout, engine.model.text);
    const ctx = initialContext(learner, [e], 1);
    const words = tf.tidy(() => engine.model.text.embedTokens([tok.encode('a photo of a')], 4).reshape([4, -1]));
    expect(Array.from(ctx.prefix[0]!.dataSync())).toEqual(Array.from(words.dataSync()));
    expect(ctx.suffix[0]!.shape[0]).toBe(0);
    tf.dispose([...ctx.prefix, ...ctx.suffix, words]);
    learner.dispose();
  });

  it('CoOp few-shot: 16 random vectors N(0, 0.02²) seeded by the run, the class, a fixed "."', () => {
    const tok = engine.tokenizer;
    expect(coopPrompt(true)).toBe(COOP_BASE_TO_NEW_PROMPT);
    expect(coopPrompt(false)).toBe(COOP_FEW_SHOT_PROMPT);
    const e = expertTemplate(tok, COOP_FEW_SHOT_PROMPT);
    expect(e.prefixIds).toHaveLength(16);
    expect(e.randomPrefix).toBe(true);
    expect(e.fixedSuffixIds).toEqual(tok.encode('.'));
    const layout = layoutSequences([e], classTokenIds(tok, ['rose']), tok.sotId, tok.eotId);
    expect(layout.ids[0]!.slice(17)).toEqual([...tok.encode('rose.'), tok.eotId]);
    const learner = new PromptLearner(layout, engine.model.text);
    const a = initialContext(learner, [e], 1);
    const b = initialContext(learner, [e], 1);
    const c = initialContext(learner, [e], 2);
    const values = Array.from(a.prefix[0]!.dataSync());
    expect(a.prefix[0]!.shape).toEqual([16, engine.model.text.width]);
    expect(Array.from(b.prefix[0]!.dataSync())).toEqual(values);
    expect(Array.from(c.prefix[0]!.dataSync())).not.toEqual(values);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    expect(Math.abs(mean)).toBeLessThan(0.004);
    expect(std).toBeGreaterThan(0.017);
    expect(std).toBeLessThan(0.023);
    tf.dispose([...a.prefix, ...a.suffix, ...b.prefix, ...b.suffix, ...c.prefix, ...c.suffix]);
    learner.dispose();
  });

  it('KgCoOp: W = 8, 100 epochs at batch 128, and the data set’s own template (generic otherwise)', () => {
    expect(PAPER_DEFAULTS.lambdaKg).toBe(8);
    expect(defaultSchedule('kgcoop')).toBe('kgcoop');
    expect(scheduleFor('kgcoop', 16)).toMatchObject({ epochs: 100, batchSize: 128, lr: 0.002, warmupEpochs: 1 });
    const library = loadTemplateLibrary();
    const pets = library.groupings.find((g) => g.id === 'mocoop-OxfordPets')!.groups;
    expect(recogniseDataset(library, pets)).toBe('OxfordPets');
    expect(kgcoopTemplate(library, 'OxfordPets').template).toBe('a photo of a {}, a type of pet.');
    expect(kgcoopTemplate(library, recogniseDataset(library, [], 'describabletextures')).template).toBe('{} texture.');
    expect(recogniseDataset(library, [['a photo of my {}.']])).toBeNull();
    expect(kgcoopTemplate(library, null)).toMatchObject({ template: 'a photo of a {}.', source: expect.stringMatching(/^generic/) });
    expect(
      deviations({ method: 'kgcoop', schedule: 'kgcoop', augment: 'fresh', baseToNew: true, kgTemplateSource: kgcoopTemplate(library, null).source })
    ).toEqual([expect.stringContaining('generic "a photo of a {}."')]);
    expect(deviations({ method: 'coop', schedule: 'coop', augment: 'pool', augViews: 8, baseToNew: true })).toEqual([expect.stringContaining('pool of 8')]);
  });

  it('KgCoOp’s knowledge term compares with its hand-written template: 0 at the start when it is the learned prompt’s own text', async () => {
    const data: TrainData = { ...clusteredFeatures(['ant', 'bee'], 4, engine.dim, 2, { virtualNames: [], groups: [['a photo of a {}.']] }) };
    const first = async (kgTemplate: string) => {
      const steps: StepEvent[] = [];
      await trainPrompts(
        engine,
        data,
        { ...PAPER_DEFAULTS, method: 'kgcoop', epochs: 1, lr: 1e-9, batchSize: 8, promptTemplate: COOP_BASE_TO_NEW_PROMPT, kgTemplate },
        { onStep: (e) => steps.push(e) }
      );
      return steps[0]!;
    };
    const own = await first('a photo of a {}.');
    const pets = await first('a photo of a {}, a type of pet.');
    expect(own.l_kg).toBeLessThan(1e-5);
    expect(pets.l_kg).toBeGreaterThan(1e-3);
    expect(pets.loss).toBeCloseTo(pets.l_ce + 8 * pets.l_kg!, 4);
  });

  it('Table 2 ablations by name: +MoE only (L_ce), +gate (L_ce + λ1 L_gate), +text (the full loss)', async () => {
    const s = (method: PromptMethod) => lossSettingsFor({ ...PAPER_DEFAULTS, method, epochs: 1, lr: 0.01 }, 2);
    expect(s('mocoop-moe')).toMatchObject({ lambda1: 0, lambda2: 0, lambdaKg: 0 });
    expect(s('mocoop-gate')).toMatchObject({ lambda1: 1, lambda2: 0 });
    expect(s('mocoop-text')).toMatchObject({ lambda1: 1, lambda2: 5 });
    expect(s('mocoop-text')).toEqual(s('mocoop'));
    const data = clusteredFeatures(['ant', 'bee'], 4, engine.dim, 3, {
      virtualNames: ['moth'],
      groups: [['a photo of a {}.', 'a good photo of a {}.'], ['art of the {}.']]
    });
    for (const [method, total] of [
      ['mocoop-moe', (e: StepEvent) => e.l_ce],
      ['mocoop-gate', (e: StepEvent) => e.l_ce + e.l_gate],
      ['mocoop-text', (e: StepEvent) => e.l_ce + e.l_gate + 5 * e.l_text]
    ] as const) {
      const steps: StepEvent[] = [];
      await trainPrompts(engine, data, { ...PAPER_DEFAULTS, method, epochs: 1, lr: 0.01, batchSize: 4 }, { onStep: (e) => steps.push(e) });
      expect(steps.length).toBe(2);
      for (const e of steps) expect(e.loss).toBeCloseTo(total(e), 4);
      expect(steps[0]!.l_gate).toBeGreaterThan(0);
    }
  });
});

describe('linear probe by CoOp’s protocol', () => {
  /** Features in `dim` dimensions: class means apart by `gap`, noise `noise`. */
  const blobs = (n: number, classes: number, dim: number, gap: number, noise: number, seed: number) => {
    const random = seededRandom(seed);
    const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
    const centers = Array.from({ length: classes }, () => Float32Array.from({ length: dim }, () => gap * gauss()));
    const features: Float32Array[] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = i % classes;
      features.push(centers[c]!.map((x) => x + noise * gauss()));
      labels.push(c);
    }
    return { features, labels };
  };

  it('fits separable data to the last image, and C grows the fit (weaker penalty)', () => {
    const train = blobs(30, 3, 16, 1, 0.2, 1);
    const strong = fitLogistic(train.features, train.labels, 3, 1e-4);
    const weak = fitLogistic(train.features, train.labels, 3, 1e4, { maxIterations: 300 });
    expect(probeAccuracy(weak, train.features, train.labels)).toBe(1);
    const norm = (f: { weights: Float32Array }) => Math.hypot(...f.weights);
    expect(norm(weak)).toBeGreaterThan(10 * norm(strong));
    expect(weak.loss).toBeLessThan(strong.loss);
  });

  it('searches C on the validation images: a large C on separable data, a small one on noise', () => {
    const sep = blobs(60, 3, 16, 1, 0.1, 2);
    const sepVal = blobs(30, 3, 16, 1, 0.1, 2);
    const fitSep = (C: number) => fitLogistic(sep.features, sep.labels, 3, C, { maxIterations: 200 });
    const separable = searchC(fitSep, sepVal);
    expect(separable.tried).toHaveLength(7 + 16);
    expect(separable.C).toBeGreaterThanOrEqual(1);
    expect(probeAccuracy(fitSep(separable.C), sepVal.features, sepVal.labels)).toBe(1);

    // Noise: 10 training images in 64 dimensions whose labels carry a faint signal; a weak penalty
    // memorises the noise, so validation favours a strong one (small C).
    const noisy = blobs(10, 2, 64, 0.15, 1, 3);
    const noisyVal = blobs(200, 2, 64, 0.15, 1, 3);
    const fitNoisy = (C: number) => fitLogistic(noisy.features, noisy.labels, 2, C, { maxIterations: 200 });
    const found = searchC(fitNoisy, noisyVal);
    expect(found.C).toBeLessThan(separable.C);
    // The chosen C is the best of everything tried, up to ties.
    const best = Math.max(...found.tried.map((t) => t.accuracy));
    expect(found.tried.find((t) => t.C === found.C)!.accuracy).toBe(best);
    // fitLinearProbe wires the search in and refits with the C found.
    const probe = fitLinearProbe(sep.features, sep.labels, 3, { validation: sepVal, maxIterations: 200 });
    expect(probe.search!.C).toBe(separable.C);
    expect(probe.C).toBe(separable.C);
  });
});

describe('baselines through the training service', () => {
  let tmp: ReturnType<typeof tempDir>;
  let app: AppServices;
  let engine: ClipEngine;
  let t: TrainingService;
  let model: ReturnType<AppServices['clip']['models']['get']>;
  let call: (name: string, input?: unknown) => Promise<any>;

  useEnv({ MOCOOP_BACKEND: 'wasm' });
  useBackend('wasm');
  beforeAll(async () => {
    tmp = tempDir();
    app = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config'), version: 'test' });
    call = async (name: string, input?: unknown) => {
      const envelope = await dispatch(app.handlers(), name, input);
      if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
      return envelope.value as any;
    };
    const root = path.join(tmp.dir, 'data');
    const files = await makeImageFolder(root, ['ant', 'bee', 'moth', 'wasp'], 5);
    const rows = ['path,label,split'];
    for (const [label, list] of Object.entries(files))
      list.forEach((f, i) => rows.push(`${path.relative(root, f)},${label},${i < 3 ? 'train' : i < 4 ? 'val' : 'test'}`));
    fs.writeFileSync(path.join(root, 'labels.csv'), rows.join('\n'));
    await call('project.create', { path: path.join(tmp.dir, 'p.mocoop') });
    await call('import.run', { importId: 'p', source: { kind: 'csv', file: path.join(root, 'labels.csv') } });
    model = app.clip.models.get((await call('models.import', { dir: FIXTURE })).id);
    engine = ClipEngine.load(FIXTURE, { textGradients: true });
    t = new TrainingService(app.project);
  });
  afterAll(() => {
    engine?.dispose();
    app?.dispose();
    tmp?.cleanup();
  });

  it('CoOp records its layout and CLIP’s logit scale; its checkpoint learns 4 vectors and no "."; classes added later use the same layout', async () => {
    const set = await call('fewshot.create', { k: 3, seed: 1, baseNew: true });
    const runId = await t.train(engine, model, 'test', { method: 'coop', setId: set.id, epochs: 1, batchSize: 3, lr: 0.01, augment: 'off' }, () => {});
    const run = t.training.run(runId);
    expect(run.settings).toMatchObject({ promptTemplate: COOP_BASE_TO_NEW_PROMPT, schedule: 'coop' });
    expect(run.settings.tauCe).toBeCloseTo(1 / engine.logitScale, 10);
    expect(decodeTable(t.training.expertTable(runId)!).logitScale).toBeCloseTo(engine.logitScale, 4);
    const prompts = learnedPrompts(t.training.checkpoint(runId)!.state, 1);
    expect(prompts.prefix[0]!.shape[0]).toBe(4);
    expect(prompts.suffix[0]!.shape[0]).toBe(0);
    const rows = await t.classFeatures(runId, engine, ['ant']);
    const table = decodeTable(t.training.expertTable(runId)!);
    const own = table.features.subarray(0, engine.dim);
    expect(Math.max(...Array.from(rows).map((v, i) => Math.abs(v - own[i]!)))).toBeLessThan(1e-5);
    const fewShot = await call('fewshot.create', { k: 3, seed: 2, baseNew: false });
    const fs16 = await t.train(engine, model, 'test', { method: 'coop', setId: fewShot.id, epochs: 1, batchSize: 3, lr: 0.01, augment: 'off' }, () => {});
    expect(t.training.run(fs16).settings.promptTemplate).toBe(COOP_FEW_SHOT_PROMPT);
    expect(learnedPrompts(t.training.checkpoint(fs16)!.state, 1).prefix[0]!.shape[0]).toBe(16);
  });

  it('KgCoOp records W = 8, its schedule and its template with where it came from; deviations are listed', async () => {
    const set = t.training.fewShotSets().at(-1)!;
    const runId = await t.train(engine, model, 'test', { method: 'kgcoop', setId: set.id, epochs: 1, lr: 0.01, augment: 'pool', augViews: 2 }, () => {});
    const st = t.training.run(runId).settings;
    expect(st).toMatchObject({ lambdaKg: 8, schedule: 'kgcoop', batchSize: 128, kgTemplate: 'a photo of a {}.', promptTemplate: COOP_BASE_TO_NEW_PROMPT });
    expect(st.kgTemplateSource).toMatch(/^generic/);
    expect(st.deviations).toEqual([expect.stringContaining('pool of 2'), expect.stringContaining('generic')]);
    await call('templates.setGroups', {
      groups: loadTemplateLibrary()
        .groupings.find((g) => g.id === 'mocoop-OxfordPets')!
        .groups.map((templates, i) => ({ name: `g${i}`, templates }))
    });
    const pets = await t.train(engine, model, 'test', { method: 'kgcoop', setId: set.id, epochs: 1, lr: 0.01, augment: 'off' }, () => {});
    expect(t.training.run(pets).settings).toMatchObject({ dataset: 'OxfordPets', kgTemplate: 'a photo of a {}, a type of pet.' });
  });

  it('the linear probe searches C on the validation split and records it', async () => {
    const set = t.training.fewShotSets().at(-1)!;
    const runId = await t.train(engine, model, 'test', { method: 'linear-probe', setId: set.id }, () => {});
    const st = t.training.run(runId).settings;
    expect(st.linearProbeC).toEqual(expect.any(Number));
    expect(st.linearProbeValidation).toMatch(/validation split \(4 images/);
    expect(st.deviations).toEqual([expect.stringContaining('C was searched on the validation split')]);
  });
});
