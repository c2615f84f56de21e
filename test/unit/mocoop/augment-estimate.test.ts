import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useApp, writeLabelsCsv } from '../../helpers/app';
import { makeImageFolder } from '../../helpers/images';
import { TINY_CLIP } from '../../helpers/fixtures';
import { useEnv } from '../../helpers/suite';

const FIXTURE = TINY_CLIP;

describe('train.estimate: the Train page’s augmentation note through the compute worker', () => {
  useEnv({ MOCOOP_BACKEND: 'wasm', MOCOOP_ONNX_PROVIDER: 'cpu' });
  const ctx = useApp();
  const { call } = ctx;
  let modelId: string;

  beforeAll(async () => {
    const root = path.join(ctx.dir, 'data');
    const labels = writeLabelsCsv(root, await makeImageFolder(root, ['ant', 'bee'], 4), 3);
    await call('project.create', { path: path.join(ctx.dir, 'p.mocoop') });
    await call('import.run', { importId: 'i', source: { kind: 'csv', file: labels } });
    modelId = (await call('models.import', { dir: FIXTURE })).id;
    await call('fewshot.create', { k: 3, seed: 1, baseNew: false });
  });

  it('says a pool runs on the CPU and what it costs; measures the encoding speed in the worker once, then remembers it', async () => {
    const counts = await call('train.estimate', { modelId, method: 'mocoop', epochs: 2, batchSize: 3 });
    expect(counts).toMatchObject({
      mode: 'pool',
      isDefault: true,
      provider: 'cpu',
      gpu: false,
      views: 8,
      images: 6,
      encodedUpFront: 48,
      imagesPerSecond: null,
      secondsUpFront: null
    });
    expect(counts.reason).toMatch(/CPU/);
    const measured = await call('train.estimate', { modelId, method: 'mocoop', epochs: 2, batchSize: 3, measure: true });
    expect(measured.imagesPerSecond).toBeGreaterThan(0);
    expect(measured.secondsUpFront).toBeCloseTo(48 / measured.imagesPerSecond, 6);
    const fresh = await call('train.estimate', { modelId, method: 'mocoop', augment: 'fresh', epochs: 2, batchSize: 3 });
    expect(fresh).toMatchObject({ mode: 'fresh', isDefault: false, encodedPerStep: 3, viewsToEncode: 12, imagesPerSecond: measured.imagesPerSecond });
    expect(fresh.secondsPerEpoch).toBeCloseTo((3 * 2) / measured.imagesPerSecond, 6);
    await expect(call('train.estimate', { modelId, method: 'mocoop', augment: 'sometimes' })).rejects.toThrow();
  });
});
