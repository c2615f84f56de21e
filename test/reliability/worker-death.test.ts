/**
 * The compute worker dies mid-run (killed, out of memory, crashed): the run is recorded as interrupted
 * in the project at once (status "cancelled", error "interrupted: …", listed with Resume), the compute
 * worker is free for the next run, and resuming continues from the last checkpoint to the end.
 */
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ProjectStore } from '../../src-main/store/project-store';
import { TrainingStore } from '../../src-main/store/training-store';
import '../helpers/fixtures'; // the tiny CLIP model (vitest.config leaves this file out without the shared fixtures)
import { useTrainingApp } from '../helpers/training-app';

// How soon the death is recorded is timed by the bench (npm run bench, responsiveness line), not here.
describe('the compute worker killed mid-run', () => {
  const t = useTrainingApp();
  const { call, finished, progress } = t;

  it('records the run as interrupted at once, frees the worker for the next run, and resume finishes it from its checkpoint', async () => {
    // Batch 1 on 9 images: 9 steps an epoch, 6 epochs.
    const { runId } = await call('train.start', { modelId: t.modelId, method: 'mocoop', schedule: 'batch1-10', epochs: 6, lr: 0.01, topK: 2 });
    const end = finished(runId);
    await progress((p) => p.runId === runId && p.epoch >= 2);
    const worker = (t.app.clip.compute as unknown as { child: ChildProcess | null }).child;
    expect(worker?.pid).toBeGreaterThan(0);
    worker!.kill('SIGKILL');

    const result = await end;
    expect(result.status).toBe('cancelled');
    expect(result.interrupted).toBe(true);
    expect(result.error).toMatch(/^interrupted: The compute worker was stopped \(SIGKILL\)\..*Resume it/);
    // Recorded in the project itself, not only announced.
    const listed = (await call('runs.list')).find((r: { id: string }) => r.id === runId);
    expect(listed).toMatchObject({ status: 'cancelled', error: expect.stringMatching(/^interrupted:/) });
    const other = ProjectStore.open(t.projectFile);
    const checkpointEpoch = new TrainingStore(other).checkpoint(runId)?.epoch;
    other.close();
    expect(checkpointEpoch).toBeGreaterThanOrEqual(1);
    // Nothing is left to cancel.
    expect((await call('train.cancel', { runId })).cancelled).toBe(false);

    // The next (queued) run starts at once and finishes: nothing holds the worker or the project.
    const next = await call('train.start', { modelId: t.modelId, method: 'coop', epochs: 1, batchSize: 3, lr: 0.01 });
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
    // Its accuracy is that of its stored predictions on the 6 test images.
    const { predictions } = await call('runs.details', { runId });
    expect(predictions).toHaveLength(6);
    expect(done.accuracy).toBeCloseTo(predictions.filter((p: { correct: boolean }) => p.correct).length / 6, 10);
  });

  it('a run left "running" by a process that is gone is listed as interrupted, with nothing to cancel', async () => {
    // As after the app itself was killed mid-run: the row says running, its process is gone.
    const store = ProjectStore.open(t.projectFile);
    const dead = 2 ** 22 + 12345; // above the usual pid_max: no such process
    store.db.prepare("UPDATE runs SET status = 'running', error = NULL, pid = ? WHERE method = 'coop'").run(dead);
    store.close();
    const runs = await call('runs.list');
    const coop = runs.find((r: { method: string }) => r.method === 'coop');
    expect(coop).toMatchObject({ status: 'cancelled', error: expect.stringMatching(/^interrupted:/) });
  });
});
