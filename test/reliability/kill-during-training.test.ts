/**
 * kill -9 of `mocoop train` at a seeded step leaves a project that passes PRAGMA integrity_check, and
 * `mocoop train --resume` then ends exactly like the same training never interrupted: byte-identical
 * experts, the same metrics and the same predictions.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '../../src-main/importing/importer';
import { TrainingService } from '../../src-main/training/training-service';
import { ProjectStore } from '../../src-main/store/project-store';
import { TrainingStore } from '../../src-main/store/training-store';
import { makeImageFolder } from '../helpers/images';
import { spawnCli } from '../helpers/killable-cli';
import { tempDir } from '../helpers/temp';
import { makeRng } from './fuzz/prng';
import { TINY_CLIP } from '../helpers/fixtures';

const SEED = Number(process.env.MOCOOP_FUZZ_SEED ?? 9);
const FIXTURE = TINY_CLIP;
// 6 few-shot images, batch 2, 3 epochs: 9 steps, a checkpoint after each epoch.
const EPOCHS = 3;
const STEPS = 9;
const TRAIN = [
  '--model',
  FIXTURE,
  '--method',
  'mocoop',
  '--epochs',
  String(EPOCHS),
  '--batch-size',
  '2',
  '--lr',
  '0.01',
  '--k-experts',
  '2',
  '--seed',
  '11',
  '--json'
];

/** What a finished run is: its experts, its metrics without timings, its predictions. */
function outcome(file: string, runId: string) {
  const store = ProjectStore.open(file);
  try {
    const training = new TrainingStore(store);
    const run = training.run(runId);
    const { run: _id, seconds: _s, ...metrics } = (run.metrics ?? {}) as Record<string, unknown>;
    return { status: run.status, experts: training.expertTable(runId), metrics, predictions: training.predictions(runId) };
  } finally {
    store.close();
  }
}

describe('kill -9 during training', () => {
  let tmp: ReturnType<typeof tempDir>;
  let project: string;
  let home: string;
  let reference: ReturnType<typeof outcome>;
  const env = { MOCOOP_BACKEND: 'wasm' };
  const events = (lines: string[]) =>
    lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event: string; step?: number; run?: string; status?: string; loss?: number });

  beforeAll(async () => {
    tmp = tempDir();
    home = path.join(tmp.dir, 'home');
    const root = path.join(tmp.dir, 'data');
    const files = await makeImageFolder(root, ['ant', 'bee', 'moth'], 4);
    const rows = ['path,label,split'];
    for (const [label, list] of Object.entries(files)) list.forEach((f, i) => rows.push(`${path.relative(root, f)},${label},${i < 2 ? 'train' : 'test'}`));
    fs.writeFileSync(path.join(root, 'labels.csv'), rows.join('\n'));
    project = path.join(tmp.dir, 'p.mocoop');
    const store = ProjectStore.create(project);
    await runImport(store, { kind: 'csv', file: path.join(root, 'labels.csv') }, { importId: 'csv' });
    new TrainingService(store).createFewShotSet(2, 7, false);
    store.close();

    // The same training, never interrupted.
    const whole = spawnCli(['train', project, ...TRAIN], home, env);
    expect((await whole.exited).code, whole.stderr()).toBe(0);
    const done = events(whole.lines).at(-1)!;
    expect(events(whole.lines).filter((e) => e.event === 'step')).toHaveLength(STEPS);
    reference = outcome(project, done.run!);
    expect(reference.status).toBe('done');
    expect(reference.experts?.length).toBeGreaterThan(0);
  });
  afterAll(() => tmp.cleanup());

  it.each([0, 1])('kill %i at a seeded step: integrity ok, and the resumed run equals the uninterrupted one', async (k) => {
    const killStep = makeRng(SEED, 200 + k).int(2, STEPS - 1);
    const cli = spawnCli(['train', project, ...TRAIN], home, env);
    const reached = await cli.line((l) => l.startsWith('{"event":"step"') && JSON.parse(l).step >= killStep);
    cli.child.kill('SIGKILL');
    expect((await cli.exited).signal, `training ended before step ${killStep}: ${cli.stderr()}`).toBe('SIGKILL');
    expect(reached).not.toBeNull();

    const db = new Database(project);
    const integrity = db.pragma('integrity_check', { simple: true });
    const killed = db.prepare("SELECT id, status FROM runs WHERE status = 'running'").all() as { id: string; status: string }[];
    db.close();
    expect(integrity).toBe('ok');
    expect(killed).toHaveLength(1);
    const runId = killed[0]!.id;

    const resumed = spawnCli(['train', project, '--resume', runId, '--json'], home, env);
    expect((await resumed.exited).code, resumed.stderr()).toBe(0);
    const after = events(resumed.lines);
    expect(after.at(-1)).toMatchObject({ event: 'done', run: runId, status: 'done' });
    // It went on from a checkpoint (or from the start when killed in the first epoch), to the last step.
    expect(after.filter((e) => e.event === 'step').at(-1)?.step).toBe(STEPS);

    const mine = outcome(project, runId);
    expect(mine.status).toBe('done');
    expect(Buffer.compare(mine.experts!, reference.experts!), `experts of the run killed at step ${killStep} differ`).toBe(0);
    expect(mine.metrics).toEqual(reference.metrics);
    expect(mine.predictions).toEqual(reference.predictions);
    const db2 = new Database(project, { readonly: true });
    expect(db2.pragma('integrity_check', { simple: true })).toBe('ok');
    db2.close();
  });
});
