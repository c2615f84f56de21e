/**
 * How soon training stops when asked, in ms (median and worst of BENCH_STOP_REPEATS, default 5):
 * - cancelMs: `train.cancel` until the run's train.finished (status cancelled);
 * - workerDeathMs: the compute worker killed (SIGKILL) until the run is announced interrupted.
 * The tests check that both happen and what is recorded (test/unit/mocoop/train-services.test.ts,
 * test/reliability/worker-death.test.ts); the times live here. The tiny CLIP model of ../shared/fixtures.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TINY_CLIP } from '../helpers/fixtures';
import { openTrainingApp } from '../helpers/training-app';

const REPEATS = Number(process.env.BENCH_STOP_REPEATS ?? 5);

export async function benchResponsiveness(work: string): Promise<Record<string, unknown>> {
  const dir = path.join(work, 'responsiveness');
  fs.mkdirSync(dir, { recursive: true });
  const t = await openTrainingApp(dir, { modelDir: TINY_CLIP });
  const stats = (ms: number[]) => {
    const sorted = [...ms].sort((a, b) => a - b);
    return { medianMs: Math.round(sorted[Math.floor(sorted.length / 2)]!), maxMs: Math.round(sorted.at(-1)!) };
  };
  try {
    const cancel: number[] = [];
    const death: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      for (const how of ['cancel', 'kill'] as const) {
        const { runId } = await t.call('train.start', { modelId: t.modelId, method: 'mocoop', schedule: 'batch1-10', epochs: 200, lr: 0.01, topK: 2 });
        const end = t.finished(runId);
        await t.progress((p) => p.runId === runId && p.epoch >= 1);
        const asked = performance.now();
        if (how === 'cancel') await t.call('train.cancel', { runId });
        else (t.app.clip.compute as unknown as { child: ChildProcess | null }).child!.kill('SIGKILL');
        const result = await end;
        (how === 'cancel' ? cancel : death).push(performance.now() - asked);
        if (result.status !== 'cancelled') throw new Error(`expected a cancelled run, got ${result.status}`);
      }
    }
    return { repeats: REPEATS, cancel: stats(cancel), workerDeath: stats(death) };
  } finally {
    t.dispose();
  }
}
