import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectStore } from '../../../src-main/store/project-store';
import { TrainingStore } from '../../../src-main/store/training-store';
import { runCli } from '../../helpers/cli';
import { makeImageFolder } from '../../helpers/images';
import { spawnCli } from '../../helpers/killable-cli';
import { tempDir } from '../../helpers/temp';
import { TINY_CLIP } from '../../helpers/fixtures';

const FIXTURE = TINY_CLIP;

describe('templates, few-shot sets, train and eval through the CLI', () => {
  let tmp: ReturnType<typeof tempDir>;
  let project: string;
  const env = { MOCOOP_BACKEND: 'wasm' };
  const mocoop = (...args: string[]) => runCli(args, path.join(tmp.dir, 'home'), { env });

  beforeAll(async () => {
    tmp = tempDir();
    const root = path.join(tmp.dir, 'data');
    const files = await makeImageFolder(root, ['ant', 'bee', 'moth', 'wasp'], 6);
    const rows = ['path,label,split'];
    for (const [label, list] of Object.entries(files)) list.forEach((f, i) => rows.push(`${path.relative(root, f)},${label},${i < 4 ? 'train' : 'test'}`));
    fs.writeFileSync(path.join(root, 'labels.csv'), rows.join('\n'));
    project = path.join(tmp.dir, 'p.mocoop');
    expect((await mocoop('project', 'create', project)).code).toBe(0);
    expect((await mocoop('import', project, '--csv', path.join(root, 'labels.csv'))).code).toBe(0);
  });
  afterAll(() => tmp.cleanup());

  it('imports and exports template groups, refusing a template without {}', async () => {
    const file = path.join(tmp.dir, 'groups.json');
    const groups = {
      groups: [
        { name: 'photos', templates: ['a photo of a {}.', 'a good photo of a {}.'] },
        { name: 'art', templates: ['art of the {}.'] }
      ]
    };
    fs.writeFileSync(file, JSON.stringify(groups));
    expect((await mocoop('templates', project, '--import', file)).code).toBe(0);
    const out = path.join(tmp.dir, 'out.json');
    expect((await mocoop('templates', project, '--export', out)).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toEqual(groups);
    fs.writeFileSync(file, JSON.stringify({ groups: [{ name: 'bad', templates: ['a photo'] }] }));
    const bad = await mocoop('templates', project, '--import', file);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('"a photo" must contain {} exactly once');
    fs.writeFileSync(file, JSON.stringify({ groups: [{ name: 'empty', templates: [] }] }));
    expect((await mocoop('templates', project, '--import', file)).stderr).toContain('has no templates');
  });

  it('samples the same few-shot set for the same seed, with base and new classes', async () => {
    const a = JSON.parse((await mocoop('fewshot', project, '--k', '2', '--seed', '3', '--base-new', '--json')).stdout);
    const b = JSON.parse((await mocoop('fewshot', project, '--k', '2', '--seed', '3', '--base-new', '--json')).stdout);
    expect(a.imageIds).toEqual(b.imageIds);
    expect(a.imageIds).toHaveLength(4);
    expect(a.baseClassIds).toHaveLength(2);
    expect(a.newClassIds).toHaveLength(2);
  });

  it('trains with JSON lines (the first step is the loss at initialisation) and evaluates base, new and H', async () => {
    const trained = await mocoop(
      'train',
      project,
      '--model',
      FIXTURE,
      '--epochs',
      '3',
      '--batch-size',
      '2',
      '--lr',
      '0.01',
      '--k-experts',
      '2',
      '--seed',
      '5',
      '--json'
    );
    expect(trained.code).toBe(0);
    const lines = trained.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const steps = lines.filter((l) => l.event === 'step');
    expect(steps).toHaveLength(3 * 2);
    expect(Object.keys(steps[0])).toEqual(expect.arrayContaining(['event', 'epoch', 'step', 'loss', 'l_ce', 'l_gate', 'l_text', 'lr']));
    expect(steps[0].step).toBe(1);
    expect(steps[0].lr).toBe(1e-5);
    const done = lines.at(-1);
    expect(done.event).toBe('done');
    const evaluated = JSON.parse((await mocoop('eval', project, '--run', done.run, '--json')).stdout);
    expect(Object.keys(evaluated)).toEqual(expect.arrayContaining(['accuracy', 'base_accuracy', 'new_accuracy', 'h', 'per_class']));
    const { base_accuracy: b, new_accuracy: n, h } = evaluated;
    expect(h).toBeCloseTo(b + n === 0 ? 0 : (2 * b * n) / (b + n), 10);
    expect(evaluated.per_class).toHaveLength(4);
    expect(evaluated.images).toBe(8);

    const out = path.join(tmp.dir, 'report');
    expect((await mocoop('report', project, '--run', done.run, '--out', out)).code).toBe(0);
    const metrics = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8'));
    expect(metrics.evaluation).toEqual(evaluated);
    expect(metrics.run.settings.seed).toBe(5);
    expect(metrics.steps).toHaveLength(6);
    const csv = fs.readFileSync(path.join(out, 'predictions.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('path,label,prediction,correct,top_experts,top_weights');
    expect(csv).toHaveLength(1 + 8);
    const correct = csv.slice(1).filter((line) => line.split(',')[3] === '1').length;
    expect(correct / 8).toBeCloseTo(evaluated.accuracy, 10);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|https?:\/\//);
    for (const c of evaluated.per_class) expect(html).toContain(c.class);

    // Export the experts, import them into another project with the same class names, and get the same
    // predictions there; evaluating across projects (domain shift) matches by class name.
    const exported = path.join(tmp.dir, 'experts');
    expect((await mocoop('export', project, '--run', done.run, '--out', exported)).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(exported, 'manifest.json'), 'utf8'))).toMatchObject({ format: 'mocoop-experts', run: done.run, experts: 2 });
    const other = path.join(tmp.dir, 'other.mocoop');
    expect((await mocoop('project', 'create', other)).code).toBe(0);
    expect((await mocoop('import', other, '--csv', path.join(tmp.dir, 'data', 'labels.csv'))).code).toBe(0);
    const imported = JSON.parse((await mocoop('import-experts', other, '--from', exported, '--json')).stdout);
    const there = JSON.parse((await mocoop('eval', other, '--run', imported.run, '--json')).stdout);
    expect(there.accuracy).toBe(evaluated.accuracy);
    expect(there.per_class).toEqual(evaluated.per_class);
    const shifted = JSON.parse((await mocoop('eval', project, '--run', done.run, '--on', other, '--json')).stdout);
    expect(shifted.per_class).toEqual(evaluated.per_class);

    const store = ProjectStore.open(project);
    const record = new TrainingStore(store).run(done.run);
    expect(record.status).toBe('done');
    expect(record.settings).toMatchObject({ method: 'mocoop', epochs: 3, batchSize: 2, lr: 0.01, topK: 2, seed: 5, lambda1: 1, lambda2: 5, tauCe: 0.07 });
    store.close();
  });

  it('a training process killed mid-run resumes from its last checkpoint and ends exactly like an uninterrupted run', async () => {
    expect((await mocoop('fewshot', project, '--k', '2', '--seed', '7', '--base-new')).code).toBe(0);
    const args = ['--model', FIXTURE, '--epochs', '6', '--batch-size', '1', '--lr', '0.01', '--k-experts', '2', '--seed', '11', '--json'];
    const whole = (await mocoop('train', project, ...args)).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const wholeRun = whole.at(-1).run;

    // Start the same training in a process of its own and kill it (SIGKILL: no clean-up) once epoch 3 is under way.
    const cli = spawnCli(['train', project, ...args], path.join(tmp.dir, 'home'), env);
    const third = await cli.line((l) => l.startsWith('{') && l.endsWith('}') && JSON.parse(l).epoch === 3);
    expect(third, `training ended before epoch 3: ${cli.stderr()}`).not.toBeNull();
    cli.child.kill('SIGKILL');
    expect((await cli.exited).signal).toBe('SIGKILL');
    const store = ProjectStore.open(project);
    const interrupted = new TrainingStore(store).runs().find((r) => r.status === 'running' && r.id !== wholeRun)!;
    expect(new TrainingStore(store).checkpoint(interrupted.id)?.epoch).toBeGreaterThanOrEqual(2);
    store.close();

    const resumed = (await mocoop('train', project, '--resume', interrupted.id, '--json')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const done = resumed.at(-1);
    expect(done.run).toBe(interrupted.id);
    expect(done.status).toBe('done');
    // Every step after the checkpoint is replayed with the same numbers, and the result is the same.
    const tail = whole.filter((l) => l.event === 'step').slice(-resumed.filter((l) => l.event === 'step').length);
    expect(resumed.filter((l) => l.event === 'step').map((l) => l.loss)).toEqual(tail.map((l) => l.loss));
    expect(done.metrics.per_class).toEqual(whole.at(-1).metrics.per_class);
    const a = path.join(tmp.dir, 'exp-a');
    const b = path.join(tmp.dir, 'exp-b');
    await mocoop('export', project, '--run', wholeRun, '--out', a);
    await mocoop('export', project, '--run', interrupted.id, '--out', b);
    expect(fs.readFileSync(path.join(b, 'experts.safetensors')).equals(fs.readFileSync(path.join(a, 'experts.safetensors')))).toBe(true);
  });

  it('caches a pool of augmented views once (--aug-views N: a pool of N per image, by seed) and trains on them', async () => {
    const trained = await mocoop('train', project, '--model', FIXTURE, '--epochs', '1', '--batch-size', '4', '--aug-views', '2', '--seed', '7', '--json');
    expect(trained.code).toBe(0);
    const store = ProjectStore.open(project);
    const count = (view: number) => store.db.prepare('SELECT count(*) FROM image_features WHERE view = ?').pluck().get(view) as number;
    const training = new TrainingStore(store);
    const setSize = training.fewShotSets().at(-1)!.imageIds.length;
    // Pool slots are keyed by (seed, view): -(seed·1024 + view + 1).
    expect(count(-(7 * 1024 + 1))).toBe(setSize);
    expect(count(-(7 * 1024 + 2))).toBe(setSize);
    const pair = store.db
      .prepare(
        'SELECT a.data AS a, b.data AS b FROM image_features a JOIN image_features b ON a.hash = b.hash AND a.model_id = b.model_id WHERE a.view = 0 AND b.view = ? LIMIT 1'
      )
      .get(-(7 * 1024 + 1)) as { a: Buffer; b: Buffer };
    expect(pair.a.equals(pair.b)).toBe(false);
    const done = trained.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .at(-1);
    expect(training.run(done.run).settings).toMatchObject({ augment: 'pool', augViews: 2 });
    store.close();
  });

  it('re-runs a run from its record with the same numbers, and lists runs for comparison', async () => {
    const runs = JSON.parse((await mocoop('runs', project, '--json')).stdout).runs;
    const source = runs.find((r: { method: string; status: string }) => r.method === 'mocoop' && r.status === 'done');
    const again = (await mocoop('train', project, '--rerun', source.id, '--json')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const done = again.at(-1);
    expect(done.run).not.toBe(source.id);
    expect(done.metrics.accuracy).toBe(source.accuracy);
    expect(done.metrics.h).toBe(source.h);
    const listed = JSON.parse((await mocoop('runs', project, '--json')).stdout).runs;
    expect(listed.map((r: { id: string }) => r.id)).toContain(done.run);
  });

  it('refuses to train without a model, and a few-shot set for classes without train images', async () => {
    const noModel = await mocoop('train', project, '--epochs', '1');
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toContain('needs --model');
    const empty = path.join(tmp.dir, 'empty.mocoop');
    await mocoop('project', 'create', empty);
    const refused = await mocoop('fewshot', empty, '--k', '2');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('at least two classes with labeled images');
  });

  it('takes loss weights and temperatures, records them with the run, and refuses a zero temperature', async () => {
    const base = ['train', project, '--model', FIXTURE, '--epochs', '1', '--batch-size', '4', '--lr', '0.01', '--seed', '5', '--json'];
    const plain = (await mocoop(...base)).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const tuned = (await mocoop(...base, '--lambda1', '0', '--lambda2', '0', '--tau-ce', '0.5')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // The first step reports the loss at initialisation: with λ1 = λ2 = 0 it is the classification loss alone.
    const [p0, t0] = [plain[0], tuned[0]];
    expect(t0.loss).toBeCloseTo(t0.l_ce, 6);
    expect(p0.loss).toBeGreaterThan(p0.l_ce);
    expect(t0.l_ce).not.toBeCloseTo(p0.l_ce, 3);
    const store = ProjectStore.open(project);
    try {
      expect(new TrainingStore(store).run(tuned.at(-1).run).settings).toMatchObject({ lambda1: 0, lambda2: 0, tauCe: 0.5, tauGate: 0.07 });
    } finally {
      store.close();
    }
    const zero = await mocoop(...base, '--tau-gate', '0');
    expect(zero.code).not.toBe(0);
    expect(zero.stderr).toContain('The gate temperature (--tau-gate) must be above 0 (the paper uses 0.07); it is 0.');
  });

  it('trains with a named schedule (flags override it), records it with the run, and states the default', async () => {
    const lines = (r: { stdout: string }) =>
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    const common = ['train', project, '--model', FIXTURE, '--epochs', '1', '--seed', '5', '--json'];
    const batch1 = lines(await mocoop(...common, '--schedule', 'batch1-10'));
    const lasp50 = lines(await mocoop(...common, '--schedule', 'lasp-50', '--batch-size', '4'));
    const plain = lines(await mocoop(...common, '--batch-size', '4'));
    const coop = lines(await mocoop(...common, '--method', 'coop', '--batch-size', '4'));
    const store = ProjectStore.open(project);
    try {
      const runs = new TrainingStore(store);
      const set = runs.fewShotSets().at(-1)!;
      // batch1-10: batch 1 (one step per image), lr 0.002, 1 warm-up epoch; --epochs 1 overrides its 10.
      expect(runs.run(batch1.at(-1).run).settings).toMatchObject({ schedule: 'batch1-10', epochs: 1, batchSize: 1, lr: 0.002, warmupEpochs: 1, lambda2: 5 });
      expect(batch1.filter((l) => l.event === 'step')).toHaveLength(set.imageIds.length);
      // lasp-50: λ2 = 10 and 5 warm-up epochs; --batch-size overrides its 32.
      expect(runs.run(lasp50.at(-1).run).settings).toMatchObject({ schedule: 'lasp-50', batchSize: 4, lr: 0.032, warmupEpochs: 5, lambda2: 10 });
      // None picked: lasp-25 for MoCoOp, CoOp's own for CoOp.
      expect(runs.run(plain.at(-1).run).settings).toMatchObject({ schedule: 'lasp-25', lr: 0.032, warmupEpochs: 3, batchSize: 4 });
      expect(runs.run(coop.at(-1).run).settings).toMatchObject({ schedule: 'coop', lr: 0.002, warmupEpochs: 1 });
      // Whole batches of 4 only: the last partial batch of the set is dropped.
      expect(plain.filter((l) => l.event === 'step')).toHaveLength(Math.max(1, Math.floor(set.imageIds.length / 4)));
    } finally {
      store.close();
    }
    const unknown = await mocoop(...common, '--schedule', 'lasp-30');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--schedule must be one of lasp-25, lasp-50, lasp-300, batch1-10, coop, kgcoop, cocoop (got "lasp-30").');
  });

  it('trains the same settings once per seed (--seeds), each on the set sampled with its seed, and reports mean ± std', async () => {
    const refused = await mocoop('train', project, '--model', FIXTURE, '--seeds', '1,2', '--seed', '1');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--seeds trains new runs: it cannot be combined with --seed, --resume or --rerun.');
    expect((await mocoop('train', project, '--model', FIXTURE, '--seeds', '1,x')).stderr).toContain('--seeds takes whole numbers separated by commas');

    const store = ProjectStore.open(project);
    const chosen = new TrainingStore(store).fewShotSets().at(-1)!;
    store.close();
    expect(chosen).toMatchObject({ k: 2, seed: 7 });
    const out = await mocoop('train', project, '--model', FIXTURE, '--seeds', '7,8', '--epochs', '1', '--batch-size', '4', '--json');
    expect(out.code).toBe(0);
    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const done = lines.filter((l) => l.event === 'done');
    expect(done).toHaveLength(2);
    const summary = lines.at(-1);
    expect(summary.event).toBe('seeds');
    expect(summary.seeds).toEqual([7, 8]);
    expect(summary.runs.map((r: { run: string; seed: number; set_created: boolean }) => [r.run, r.seed, r.set_created])).toEqual([
      [done[0].run, 7, false],
      [done[1].run, 8, true]
    ]);
    for (const key of ['accuracy', 'base_accuracy', 'new_accuracy', 'h']) {
      const values = done.map((d) => d.metrics[key] as number);
      const mean = (values[0]! + values[1]!) / 2;
      expect(summary.mean[key]).toBeCloseTo(mean, 12);
      expect(summary.std[key]).toBeCloseTo(Math.abs(values[0]! - values[1]!) / 2, 12);
    }
    const after = ProjectStore.open(project);
    try {
      const t = new TrainingStore(after);
      // Seed 8 trained on a new 2-shot base-to-new set sampled with seed 8, with the same classes.
      const set8 = t.fewShotSet(summary.runs[1].set);
      expect(set8).toMatchObject({ k: 2, seed: 8, baseClassIds: chosen.baseClassIds, newClassIds: chosen.newClassIds });
      expect(t.run(done[0].run).settings).toMatchObject({ seed: 7, setId: chosen.id, epochs: 1 });
      expect(t.run(done[1].run).settings).toMatchObject({ seed: 8, setId: set8.id, epochs: 1 });
    } finally {
      after.close();
    }
  });

  it('refuses K larger than the number of groups with a clear message', async () => {
    const result = await mocoop('train', project, '--model', FIXTURE, '--k-experts', '3', '--epochs', '1');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('between 1 and the number of template groups (2); it is 3');
  });

  it('refuses a second run while one is training in the same project', () => {
    const store = ProjectStore.open(project);
    const training = new TrainingStore(store);
    training.startRun({ id: 'r-a', method: 'mocoop', settings: {}, backend: 'cpu', modelId: 'm', setId: null });
    expect(() => training.startRun({ id: 'r-b', method: 'coop', settings: {}, backend: 'cpu', modelId: 'm', setId: null })).toThrow(/still training/);
    training.finishRun('r-a', 'cancelled', null);
    store.close();
  });
});
