import { beforeAll, describe, expect, it } from 'vitest';
import '../helpers/fixtures'; // the tiny CLIP model (vitest.config leaves this file out without the shared fixtures)
import { type TrainProgress, useTrainingApp } from '../helpers/training-app';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Through the app's requests: a run's curves while it trains, after a cancel mid-epoch and across a resume; names and notes; settings that do not apply. */
describe('run history in the app', () => {
  const t = useTrainingApp();
  const { call } = t;
  const progress: TrainProgress[] = [];
  const finished = async (runId: string) => (await t.finished(runId)).status;
  // After useTrainingApp's beforeAll: every train.progress event of the suite.
  beforeAll(() => {
    t.app.events.subscribe((name, p) => name === 'train.progress' && progress.push(p as TrainProgress));
  });

  it('refuses settings that do not apply to the method, naming them', async () => {
    await expect(call('train.start', { modelId: t.modelId, method: 'coop', topK: 2, epochs: 1 })).rejects.toThrow(
      /invalid_input: K \(experts per image\) does not apply to coop: leave it out/
    );
    await expect(call('train.start', { modelId: t.modelId, method: 'zeroshot', epochs: 3, loss: { lambda1: 2 } })).rejects.toThrow(
      /epochs, λ1 \(gate loss weight\) do not apply to zeroshot/
    );
    expect(await call('runs.list')).toEqual([]);
  });

  it('keeps every step of a run cancelled mid-epoch and resumed: one continuous history, readable while it trains', async () => {
    // 9 images, batch 1: 9 steps an epoch.
    const { runId } = await call('train.start', {
      modelId: t.modelId,
      method: 'mocoop',
      schedule: 'batch1-10',
      epochs: 200,
      lr: 0.01,
      topK: 2,
      name: '  long one ',
      note: 'cancel me'
    });
    const end = finished(runId);
    await t.progress((p) => p.runId === runId && p.step >= 12);
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
    await t.progress((p) => p.runId === runId && p.step >= received.at(-1)! + 3);
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
