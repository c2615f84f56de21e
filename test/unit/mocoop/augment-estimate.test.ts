import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../../src-main/contract/dispatch';
import { AppServices } from '../../../src-main/services/app-services';
import { makeImageFolder } from '../../helpers/images';
import { tempDir } from '../../helpers/temp';
import { TINY_CLIP } from '../../helpers/fixtures';
import { useEnv } from '../../helpers/suite';

const FIXTURE = TINY_CLIP;

describe('train.estimate: the Train page’s augmentation note through the compute worker', () => {
  let tmp: ReturnType<typeof tempDir>;
  let app: AppServices;
  let modelId: string;
  const call = async (name: string, input?: unknown) => {
    const envelope = await dispatch(app.handlers(), name, input);
    if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
    return envelope.value as any;
  };

  useEnv({ MOCOOP_BACKEND: 'wasm', MOCOOP_ONNX_PROVIDER: 'cpu' });
  beforeAll(async () => {
    tmp = tempDir();
    const root = path.join(tmp.dir, 'data');
    const files = await makeImageFolder(root, ['ant', 'bee'], 4);
    const rows = ['path,label,split'];
    for (const [label, list] of Object.entries(files)) list.forEach((f, i) => rows.push(`${path.relative(root, f)},${label},${i < 3 ? 'train' : 'test'}`));
    fs.writeFileSync(path.join(root, 'labels.csv'), rows.join('\n'));
    app = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config'), version: 'test' });
    await call('project.create', { path: path.join(tmp.dir, 'p.mocoop') });
    await call('import.run', { importId: 'i', source: { kind: 'csv', file: path.join(root, 'labels.csv') } });
    modelId = (await call('models.import', { dir: FIXTURE })).id;
    await call('fewshot.create', { k: 3, seed: 1, baseNew: false });
  });
  afterAll(() => {
    app.dispose();
    tmp.cleanup();
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
