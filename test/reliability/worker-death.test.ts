/**
 * The compute worker dies mid-run (killed, out of memory, crashed): the run is recorded as interrupted
 * in the project at once (status "cancelled", error "interrupted: …", listed with Resume), the compute
 * worker is free for the next run, and resuming continues from the last checkpoint to the end.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../src-main/contract/dispatch';
import { AppServices } from '../../src-main/services/app-services';
import { ProjectStore } from '../../src-main/store/project-store';
import { TrainingStore } from '../../src-main/store/training-store';
import { makeImageFolder } from '../helpers/images';
import { tempDir } from '../helpers/temp';
import { TINY_CLIP } from '../helpers/fixtures';

const FIXTURE = TINY_CLIP;

describe('the compute worker killed mid-run', () => {
  let tmp: ReturnType<typeof tempDir>;
  let app: AppServices;
  let modelId: string;
  let projectFile: string;
  const call = async (name: string, input?: unknown) => {
    const envelope = await dispatch(app.handlers(), name, input);
    if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
    return envelope.value as any;
  };
  const finished = (runId: string) =>
    new Promise<{ status: string; interrupted?: boolean; error?: string; at: number }>((resolve) => {
      const off = app.events.subscribe((name, payload) => {
        const p = payload as { runId: string; status: string; interrupted?: boolean; error?: string };
        if (name === 'train.finished' && p.runId === runId) {
          off();
          resolve({ ...p, at: performance.now() });
        }
      });
    });
  const progress = (until: (p: { runId: string; epoch: number; step: number }) => boolean) =>
    new Promise<{ runId: string; epoch: number; step: number }>((resolve) => {
      const off = app.events.subscribe((name, payload) => {
        const p = payload as { runId: string; epoch: number; step: number };
        if (name === 'train.progress' && until(p)) {
          off();
          resolve(p);
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
    projectFile = path.join(tmp.dir, 'p.mocoop');
    await call('project.create', { path: projectFile });
    await call('import.run', { importId: 'i', source: { kind: 'csv', file: path.join(root, 'labels.csv') } });
    modelId = (await call('models.import', { dir: FIXTURE })).id;
    await call('templates.setGroups', {
      groups: [
        { name: 'photo', templates: ['a photo of a {}.'] },
        { name: 'art', templates: ['art of the {}.'] }
      ]
    });
    await call('fewshot.create', { k: 3, seed: 1, baseNew: false });
  });
  afterAll(() => {
    app.dispose();
    tmp.cleanup();
  });

  it('records the run as interrupted at once, frees the worker for the next run, and resume finishes it from its checkpoint', async () => {
    // Batch 1 on 9 images: 9 steps an epoch, 6 epochs.
    const { runId } = await call('train.start', { modelId, method: 'mocoop', schedule: 'batch1-10', epochs: 6, lr: 0.01, topK: 2 });
    const end = finished(runId);
    await progress((p) => p.runId === runId && p.epoch >= 2);
    const worker = (app.clip.compute as unknown as { child: ChildProcess | null }).child;
    expect(worker?.pid).toBeGreaterThan(0);
    const killedAt = performance.now();
    worker!.kill('SIGKILL');

    const result = await end;
    expect(result.status).toBe('cancelled');
    expect(result.interrupted).toBe(true);
    expect(result.error).toMatch(/^interrupted: The compute worker was stopped \(SIGKILL\)\..*Resume it/);
    expect(result.at - killedAt).toBeLessThan(2000);
    // Recorded in the project itself, not only announced.
    const listed = (await call('runs.list')).find((r: { id: string }) => r.id === runId);
    expect(listed).toMatchObject({ status: 'cancelled', error: expect.stringMatching(/^interrupted:/) });
    const other = ProjectStore.open(projectFile);
    const checkpointEpoch = new TrainingStore(other).checkpoint(runId)?.epoch;
    other.close();
    expect(checkpointEpoch).toBeGreaterThanOrEqual(1);
    // Nothing is left to cancel.
    expect((await call('train.cancel', { runId })).cancelled).toBe(false);

    // The next (queued) run starts at once and finishes: nothing holds the worker or the project.
    const next = await call('train.start', { modelId, method: 'coop', epochs: 1, batchSize: 3, lr: 0.01 });
    expect((await finished(next.runId)).status).toBe('done');

    // Resume continues after the last checkpoint (its first step is past the first epoch) and ends done.
    const resumedEnd = finished(runId);
    const first = progress((p) => p.runId === runId);
    await call('train.resume', { runId });
    const firstStep = await first;
    expect(firstStep.epoch).toBe(checkpointEpoch! + 1);
    expect(firstStep.step).toBe((checkpointEpoch! + 1) * 9 + 1);
    expect((await resumedEnd).status).toBe('done');
    const done = (await call('runs.list')).find((r: { id: string }) => r.id === runId);
    expect(done).toMatchObject({ status: 'done', error: null });
    expect(done.accuracy).toBeGreaterThanOrEqual(0);
  });

  it('a run left "running" by a process that is gone is listed as interrupted, with nothing to cancel', async () => {
    // As after the app itself was killed mid-run: the row says running, its process is gone.
    const store = ProjectStore.open(projectFile);
    const dead = 2 ** 22 + 12345; // above the usual pid_max: no such process
    store.db.prepare("UPDATE runs SET status = 'running', error = NULL, pid = ? WHERE method = 'coop'").run(dead);
    store.close();
    const runs = await call('runs.list');
    const coop = runs.find((r: { method: string }) => r.method === 'coop');
    expect(coop).toMatchObject({ status: 'cancelled', error: expect.stringMatching(/^interrupted:/) });
  });
});
