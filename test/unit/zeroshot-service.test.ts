import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AppServices } from '../../src-main/services/app-services';
import { runCli } from '../helpers/cli';
import { startFakeHub } from '../helpers/fake-hub';
import { tempDir } from '../helpers/temp';
import { TINY_CLIP } from '../helpers/fixtures';

const FIXTURE = TINY_CLIP;
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'expected.json'), 'utf8'));

describe('feature cache and zero-shot on the tiny model', () => {
  let tmp: ReturnType<typeof tempDir>;
  let app: AppServices;
  let project: string;
  let modelId: string;

  beforeAll(async () => {
    tmp = tempDir();
    vi.stubEnv('MOCOOP_BACKEND', 'wasm');
    app = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config'), version: 'test' });
    // The fixture images, labelled alternately, through a CSV import.
    const rows = expected.images.map((img: { file: string }, i: number) => `${path.join(FIXTURE, img.file)},${i % 2 ? 'dog' : 'cat'}`);
    fs.writeFileSync(path.join(tmp.dir, 'labels.csv'), ['path,label', ...rows].join('\n'));
    project = path.join(tmp.dir, 'zs.mocoop');
    app.createProject(project);
    const summary = await app.importSource('i1', { kind: 'csv', file: path.join(tmp.dir, 'labels.csv') });
    expect(summary.imported).toBe(6);
    modelId = (await app.clip.models.register(FIXTURE, { source: 'import' })).id;
  });
  afterAll(() => {
    app.dispose();
    tmp.cleanup();
    vi.unstubAllEnvs();
  });

  it('caches image features that match the reference embeddings, and reuses them', async () => {
    const events: { phase: string; done: number; total: number }[] = [];
    const off = app.events.subscribe((name, payload) => name === 'zeroshot.progress' && events.push(payload as (typeof events)[number]));
    const first = await app.clip.runZeroShot('r1', modelId, ['a photo of a {}.', 'a drawing of a {}.'], undefined);
    off();
    expect(first.images).toBe(6);
    expect(first.featuresComputed).toBe(6);
    expect(first.backend).toContain('wasm');
    expect(events.some((e) => e.phase === 'features' && e.done === 6 && e.total === 6)).toBe(true);

    const store = app.project;
    const rows = store.images(store.imageIds({}));
    const cached = store.cachedFeatures(
      modelId,
      rows.map((r) => r.hash)
    );
    expect(cached.size).toBe(6);
    rows.forEach((row) => {
      const index = expected.images.findIndex((img: { file: string }) => row.path.endsWith(img.file));
      const want: number[] = expected.image_embeds_normalized[index];
      const got = cached.get(row.hash)!;
      const diff = Math.max(...want.map((w, k) => Math.abs(w - got[k]!)));
      // JPEG decoders may differ slightly from the reference's; PNGs are exact.
      expect(diff).toBeLessThan(row.path.endsWith('.png') ? 1e-4 : 2e-2);
    });

    const second = await app.clip.runZeroShot('r2', modelId, ['a photo of a {}.', 'a drawing of a {}.'], undefined);
    expect(second.featuresCached).toBe(6);
    expect(second.featuresComputed).toBe(0);
    expect(second.predictions).toEqual(first.predictions);
    expect(second.accuracy).toBe(second.predictions.filter((p) => p.correct).length / 6);
    expect(second.perTemplate.map((t) => t.template)).toEqual(['a photo of a {}.', 'a drawing of a {}.']);
  });

  it('refuses templates without exactly one {} and an unknown model', async () => {
    await expect(app.clip.runZeroShot('r3', modelId, ['a photo'], undefined)).rejects.toThrow(/must contain \{\} exactly once/);
    await expect(app.clip.runZeroShot('r4', 'nope', ['a {}'], undefined)).rejects.toThrow(/No installed model "nope"/);
  });

  it('cancels a running evaluation, and the next one still works', async () => {
    const store = app.project;
    const rows = store.images(store.imageIds({}));
    app.project.db.prepare('DELETE FROM image_features').run();
    const running = app.clip.imageFeatures(store, app.clip.models.get(modelId), rows, AbortSignal.timeout(1), () => {});
    await expect(running).rejects.toThrow(/Cancelled/);
    const after = await app.clip.runZeroShot('r5', modelId, ['a photo of a {}.'], undefined);
    expect(after.images).toBe(6);
  });

  it('runs end to end through the CLI with one JSON document', async () => {
    const { code, stdout, stderr } = await runCli(
      ['zeroshot', project, '--model', FIXTURE, '--template', 'a photo of a {}.', '--backend', 'cpu', '--json'],
      path.join(tmp.dir, 'cli-home')
    );
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.images).toBe(6);
    expect(report.backend).toMatch(/^cpu/);
    expect(report.classes.map((c: { name: string }) => c.name)).toEqual(['cat', 'dog']);
    expect(report.predictions).toHaveLength(6);
    expect(report.perClass.reduce((n: number, c: { correct: number }) => n + c.correct, 0)).toBe(
      report.predictions.filter((p: { correct: boolean }) => p.correct).length
    );
  });
});

describe('model manager', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => (tmp = tempDir()));
  afterAll(() => tmp.cleanup());

  it('downloads a model from a hub, registers it and lists it', async () => {
    const files: Record<string, Buffer> = {};
    for (const f of ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt']) files[f] = fs.readFileSync(path.join(FIXTURE, f));
    const hub = await startFakeHub({ repos: { 'test/tiny-clip': files } });
    const app = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config'), version: 'test' });
    try {
      const progress: number[] = [];
      app.events.subscribe((name, p) => name === 'models.downloadProgress' && progress.push((p as { bytesDone: number }).bytesDone));
      const model = await app.clip.download('d1', 'test/tiny-clip', hub.url);
      expect(model.available).toBe(true);
      expect(model.source).toBe('hub');
      expect(fs.readFileSync(path.join(model.dir, 'model.safetensors')).equals(files['model.safetensors']!)).toBe(true);
      expect(progress.length).toBeGreaterThan(0);
      expect(app.clip.models.list().map((m) => m.id)).toEqual([model.id]);
      expect(model.id).toMatch(/^test-tiny-clip@[0-9a-f]{12}$/);
    } finally {
      app.dispose();
      await hub.close();
    }
  });

  it('forces a compute backend from the setting, saves it, and refuses one that cannot load', async () => {
    vi.stubEnv('MOCOOP_BACKEND', undefined);
    const configDir = path.join(tmp.dir, 'config3');
    const app = new AppServices({ mode: 'web', configDir, version: 'test' });
    try {
      expect((await app.clip.setBackend('cpu')).name).toBe('cpu');
      const again = new AppServices({ mode: 'web', configDir, version: 'test' });
      expect((await again.clip.compute.backendInfo()).name).toBe('cpu');
      again.dispose();
      await expect(app.clip.setBackend('tensorflow-gpu')).rejects.toThrow(/could not start.*tensorflow-gpu/);
    } finally {
      app.dispose();
      vi.unstubAllEnvs();
    }
  });

  it('refuses to import a folder that is not a CLIP model, naming what is missing', async () => {
    const app = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config2'), version: 'test' });
    const dir = path.join(tmp.dir, 'notamodel');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(FIXTURE, 'config.json'), path.join(dir, 'config.json'));
    await expect(app.clip.models.register(dir, { source: 'import' })).rejects.toThrow(
      /missing model\.safetensors, vocab\.json, merges\.txt \(a CLIP model folder needs all of/
    );
    fs.rmSync(path.join(dir, 'config.json'));
    await expect(app.clip.models.register(dir, { source: 'import' })).rejects.toThrow(/is not a CLIP model folder: it has none of config\.json/);
    app.dispose();
  });
});
