import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../src-main/contract/dispatch';
import { AppServices } from '../../src-main/services/app-services';
import { makeImageFolder } from '../helpers/images';
import { tempDir } from '../helpers/temp';
import { TINY_CLIP } from '../helpers/fixtures';

const FIXTURE = TINY_CLIP;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Through the app's requests: a run's curves while it trains, after a cancel mid-epoch and across a resume; names and notes; settings that do not apply. */
describe('run history in the app', () => {
  let tmp: ReturnType<typeof tempDir>;
  let app: AppServices;
  let modelId: string;
  const call = async (name: string, input?: unknown) => {
    const envelope = await dispatch(app.handlers(), name, input);
    if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
    return envelope.value as any;
  };
  const progress: { runId: string; step: number; epoch: number }[] = [];
  const until = (test: (p: { runId: string; step: number; epoch: number }) => boolean) =>
    new Promise<void>((resolve) => {
      const off = app.events.subscribe((name, p) => {
        if (name === 'train.progress' && test(p as never)) {
          off();
          resolve();
        }
      });
    });
  const finished = (runId: string) =>
    new Promise<string>((resolve) => {
      const off = app.events.subscribe((name, payload) => {
        const p = payload as { runId: string; status: string };
        if (name === 'train.finished' && p.runId === runId) {
          off();
          resolve(p.status);
        }
      });
    });

  beforeAll(async () => {
    tmp = tempDir();
    process.env.MOCOOP_BACKEND = 'wasm';
    const root = path.join(tmp.dir, 'data');
    const files = await makeImageFolder(root, ['ant', 'bee', 'moth'], 5);
    const rows = ['path,label,split'];
    for (const [label, list] of Object.entries(files)) list.forEach((f, i) => rows.push(`${path.relative(root, f)},${label},${i < 3 ? 'train' : 'test'}`));
    fs.writeFileSync(path.join(root, 'labels.csv'), rows.join('\n'));
    app = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config'), version: 'test' });
    await call('project.create', { path: path.join(tmp.dir, 'p.mocoop') });
    await call('import.run', { importId: 'i', source: { kind: 'csv', file: path.join(root, 'labels.csv') } });
    modelId = (await call('models.import', { dir: FIXTURE })).id;
    await call('templates.setGroups', {
      groups: [
        { name: 'photo', templates: ['a photo of a {}.'] },
        { name: 'art', templates: ['art of the {}.'] }
      ]
    });
    await call('fewshot.create', { k: 3, seed: 1, baseNew: false });
    app.events.subscribe((name, p) => name === 'train.progress' && progress.push(p as never));
  });
  afterAll(() => {
    app.dispose();
    tmp.cleanup();
  });

  it('refuses settings that do not apply to the method, naming them', async () => {
    await expect(call('train.start', { modelId, method: 'coop', topK: 2, epochs: 1 })).rejects.toThrow(
      /invalid_input: K \(experts per image\) does not apply to coop: leave it out/
    );
    await expect(call('train.start', { modelId, method: 'zeroshot', epochs: 3, loss: { lambda1: 2 } })).rejects.toThrow(
      /epochs, λ1 \(gate loss weight\) do not apply to zeroshot/
    );
    expect(await call('runs.list')).toEqual([]);
  });

  it('keeps every step of a run cancelled mid-epoch and resumed: one continuous history, readable while it trains', async () => {
    // 9 images, batch 1: 9 steps an epoch.
    const { runId } = await call('train.start', {
      modelId,
      method: 'mocoop',
      schedule: 'batch1-10',
      epochs: 200,
      lr: 0.01,
      topK: 2,
      name: '  long one ',
      note: 'cancel me'
    });
    const end = finished(runId);
    await until((p) => p.runId === runId && p.step >= 12);
    // Mid-epoch 1: the worker has recorded epoch 0 only; the request adds the live steps.
    const live = await call('runs.steps', { runId });
    const seen = progress.filter((p) => p.runId === runId).map((p) => p.step);
    expect(live.steps.map((s: { step: number }) => s.step).slice(0, seen.length)).toEqual(seen);
    expect(live.total).toBeGreaterThanOrEqual(12);
    await call('train.cancel', { runId });
    expect(await end).toBe('cancelled');
    const received = progress.filter((p) => p.runId === runId).map((p) => p.step);
    const cancelled = await call('runs.steps', { runId });
    expect(cancelled.steps.map((s: { step: number }) => s.step)).toEqual(range(1, received.at(-1)!));

    const runs = await call('runs.list');
    expect(runs.find((r: { id: string }) => r.id === runId)).toMatchObject({ name: 'long one', note: 'cancel me', status: 'cancelled' });

    // Resumed from the checkpoint of the last whole epoch: the partial epoch is replayed, not doubled.
    const again = finished(runId);
    const before = progress.length;
    await call('train.resume', { runId });
    await until((p) => p.runId === runId && p.step >= received.at(-1)! + 3);
    await call('train.cancel', { runId });
    expect(await again).toBe('cancelled');
    const replayed = progress.slice(before).map((p) => p.step);
    // The replay starts at the first step of an epoch (a late event of the cancelled phase may come first).
    expect(Math.min(...replayed) % 9).toBe(1);
    const history = await call('runs.steps', { runId });
    expect(history.steps.map((s: { step: number }) => s.step)).toEqual(range(1, replayed.at(-1)!));
    expect(history.stride).toBe(1);
  });

  it('renames and annotates through the contract; an empty name removes it', async () => {
    const [run] = await call('runs.list');
    expect((await call('runs.rename', { runId: run.id, name: 'K=2, lr 0.01' })).name).toBe('K=2, lr 0.01');
    expect((await call('runs.annotate', { runId: run.id, note: 'stopped twice on purpose' })).note).toBe('stopped twice on purpose');
    expect((await call('runs.rename', { runId: run.id, name: '' })).name).toBeNull();
    await expect(call('runs.rename', { runId: run.id, name: 'x'.repeat(201) })).rejects.toThrow(/invalid_input/);
    await expect(call('runs.annotate', { runId: 'missing', note: 'x' })).rejects.toThrow(/not_found/);
  });
});
