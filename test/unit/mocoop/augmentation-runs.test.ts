import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolViewKey } from '../../../src-main/clip/augment';
import { ClipEngine } from '../../../src-main/clip/engine';
import type { ModelInfo } from '../../../src-main/models/model-store';
import { estimateAugmentation } from '../../../src-main/services/augment-estimate';
import { TrainingService } from '../../../src-main/training/training-service';
import { useApp, writeLabelsCsv } from '../../helpers/app';
import { makeImageFolder } from '../../helpers/images';
import { TINY_CLIP } from '../../helpers/fixtures';
import { useEnv } from '../../helpers/suite';
import { useBackend } from '../../helpers/tf-backend';

const FIXTURE = TINY_CLIP;

describe('augmentation modes in runs: recorded settings, the pool cache, the estimate', () => {
  let engine: ClipEngine;
  let model: ModelInfo;
  let t: TrainingService;
  let setId: number;

  useEnv({ MOCOOP_BACKEND: 'wasm' });
  useBackend('wasm');
  const ctx = useApp();
  beforeAll(async () => {
    const { app, call } = ctx;
    const root = path.join(ctx.dir, 'data');
    const labels = writeLabelsCsv(root, await makeImageFolder(root, ['ant', 'bee'], 4), 3);
    await call('project.create', { path: path.join(ctx.dir, 'p.mocoop') });
    await call('import.run', { importId: 'p', source: { kind: 'csv', file: labels } });
    model = app.clip.models.get((await call('models.import', { dir: FIXTURE })).id);
    setId = (await call('fewshot.create', { k: 3, seed: 1, baseNew: false })).id;
    engine = ClipEngine.load(FIXTURE, { textGradients: true });
    t = new TrainingService(app.project);
  });
  afterAll(() => engine?.dispose());

  const base = () => ({ method: 'coop' as const, setId, epochs: 1, batchSize: 3, lr: 0.01, seed: 4 });

  it('on the CPU a run takes a pool of 8 views by default, records mode and N, and caches the pool by seed', async () => {
    const before = estimateAugmentation(
      t,
      model,
      { modelId: model.id, method: 'coop', setId, seed: 4, epochs: 1, batchSize: 3 },
      { provider: 'cpu', software: false },
      null
    );
    expect(before).toMatchObject({ mode: 'pool', isDefault: true, views: 8, images: 6, cached: 0, encodedUpFront: 48, encodedPerStep: 0, stepsPerEpoch: 2 });
    const runId = await t.train(engine, model, 'test', base(), () => {});
    const settings = t.training.run(runId).settings;
    expect(settings.augment).toBe('pool');
    expect(settings.augViews).toBe(8);
    const hashes = t.trainingImages(setId).rows.map((r) => r.hash);
    for (let v = 0; v < 8; v++) expect(ctx.app.project.cachedFeatures(model.id, hashes, poolViewKey(4, v)).size).toBe(6);
    expect(ctx.app.project.cachedFeatures(model.id, hashes, poolViewKey(5, 0)).size).toBe(0);
    // Nothing left to encode for this seed; the estimate at a measured speed gives seconds.
    const after = estimateAugmentation(t, model, { modelId: model.id, method: 'coop', setId, seed: 4 }, { provider: 'cpu', software: false }, 12);
    expect(after).toMatchObject({ cached: 48, encodedUpFront: 0, secondsUpFront: 0, secondsPerStep: 0 });
    expect(after.summary).toMatch(/^Pool of 8 .*all 48 pool views already encoded/);
  });

  it('records fresh (N 0) and off, and a pool of N views when asked', async () => {
    const fresh = await t.train(engine, model, 'test', { ...base(), augment: 'fresh' }, () => {});
    expect(t.training.run(fresh).settings).toMatchObject({ augment: 'fresh', augViews: 0 });
    const off = await t.train(engine, model, 'test', { ...base(), augment: 'off' }, () => {});
    expect(t.training.run(off).settings).toMatchObject({ augment: 'off', augViews: 0 });
    const pool = await t.train(engine, model, 'test', { ...base(), augment: 'pool', augViews: 2, seed: 9 }, () => {});
    expect(t.training.run(pool).settings).toMatchObject({ augment: 'pool', augViews: 2 });
    await expect(t.train(engine, model, 'test', { ...base(), augment: 'sometimes' as never }, () => {})).rejects.toThrow(/Unknown augmentation "sometimes"/);
  });

  it('the same seed gives the same trained experts with fresh views; another seed others', async () => {
    const table = async (seed: number) => {
      const id = await t.train(engine, model, 'test', { ...base(), augment: 'fresh', seed }, () => {});
      return Array.from((await import('../../../src-main/mocoop/table-codec')).decodeTable(t.training.expertTable(id)!).features);
    };
    const a = await table(3);
    expect(await table(3)).toEqual(a);
    expect(await table(8)).not.toEqual(a);
  });

  it('the estimate picks fresh on a GPU provider and counts a batch per step', () => {
    const gpu = estimateAugmentation(
      t,
      model,
      { modelId: model.id, method: 'coop', setId, epochs: 5, batchSize: 3 },
      { provider: 'cuda', software: false },
      30
    );
    expect(gpu).toMatchObject({ mode: 'fresh', gpu: true, encodedPerStep: 3, viewsToEncode: 3 * 2 * 5, secondsPerStep: 0.1 });
    expect(estimateAugmentation(t, model, { modelId: model.id, method: 'coop', setId }, { provider: 'webgpu', software: true }, null).mode).toBe('pool');
    expect(estimateAugmentation(t, model, { modelId: model.id, method: 'linear-probe', setId }, { provider: 'cuda', software: false }, null).mode).toBe('off');
  });
});
