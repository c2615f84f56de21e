import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBridge, flush, setInfo } from './fake-bridge';

const fake = vi.hoisted(() => ({ current: null as ReturnType<typeof import('./fake-bridge').fakeBridge> | null }));
vi.mock('../../../../src-renderer/src/lib/bridge', async () => {
  const { fakeBridge: make } = await import('./fake-bridge');
  fake.current = make();
  // The requests of run history, beside the shared fake's.
  Object.assign(fake.current.api.runs, { steps: vi.fn(), rename: vi.fn(), annotate: vi.fn() });
  return { api: fake.current.api, bridge: fake.current.bridge, RequestError: Error };
});

// The browser's storage, as a page has it (the form is kept per project).
const stored = new Map<string, string>();
vi.stubGlobal('localStorage', {
  getItem: (k: string) => stored.get(k) ?? null,
  setItem: (k: string, v: string) => void stored.set(k, v),
  removeItem: (k: string) => void stored.delete(k)
});

const { training, mergeSteps } = await import('../../../../src-renderer/src/state/training.svelte');
const { toasts } = await import('../../../../src-renderer/src/state/toasts.svelte');
const { api, emit } = fake.current! as ReturnType<typeof fakeBridge>;
const runsApi = api.runs as typeof api.runs & { steps: ReturnType<typeof vi.fn>; rename: ReturnType<typeof vi.fn>; annotate: ReturnType<typeof vi.fn> };

const step = (n: number, perEpoch = 10) => ({
  step: n,
  epoch: Math.floor((n - 1) / perEpoch),
  loss: 1,
  l_ce: 1,
  l_gate: 0,
  l_text: 0,
  lr: 0.01,
  accuracy: 0.5,
  images_per_s: 10,
  eta_s: 1
});
const run = (id: string, status: string, extra: Record<string, unknown> = {}) => ({
  id,
  method: 'mocoop',
  status,
  createdAt: '',
  finishedAt: null,
  error: null,
  settings: { setId: 1, epochs: 5, batchSize: 2 },
  accuracy: null,
  baseAccuracy: null,
  newAccuracy: null,
  h: null,
  name: null,
  note: null,
  ...extra
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
let clock = 0;

beforeEach(() => {
  vi.clearAllMocks();
  toasts.reset();
  training.enterProject(`/p${Math.random()}.mocoop`);
  clock = 0;
  training.clock = () => clock;
  api.fewshot.list.mockResolvedValue([
    setInfo(1, {
      perClass: [
        { classId: 1, images: 10 },
        { classId: 2, images: 10 }
      ]
    })
  ]);
});

describe("a run's curves from step 1, whatever happened to the page", () => {
  it('a page reloaded mid-run shows the recorded steps, then the live ones, without a gap or a double', async () => {
    api.runs.list.mockResolvedValue([run('r1', 'running')]);
    let answer!: (v: unknown) => void;
    runsApi.steps.mockReturnValue(new Promise((resolve) => (answer = resolve)));
    await training.load();
    expect(training.activeRun).toBe('r1');
    expect(runsApi.steps).toHaveBeenCalledWith({ runId: 'r1' });
    // Live steps arrive while the history is on its way; the history already has step 24.
    clock = 1000;
    emit('train.progress', { runId: 'r1', event: 'step', ...step(24) });
    emit('train.progress', { runId: 'r1', event: 'step', ...step(25) });
    answer({ runId: 'r1', steps: range(1, 24).map((n) => step(n)), total: 24, stride: 1 });
    await flush();
    // Steps reach the chart in batches (a short timer): wait for the batch.
    await vi.waitFor(() => expect(training.steps.map((s) => s.step)).toEqual(range(1, 25)));
    expect(training.shown).toEqual(['r1']);
  });

  it('a resumed run shows its recorded history first; a finished run keeps its curves on the chart', async () => {
    api.runs.list.mockResolvedValue([run('r2', 'cancelled')]);
    await training.load();
    runsApi.steps.mockResolvedValue({ runId: 'r2', steps: range(1, 10).map((n) => step(n)), total: 10, stride: 1 });
    await training.loadHistory('r2');
    expect(training.curvesOf('r2')!.map((s) => s.step)).toEqual(range(1, 10));
    api.train.resume.mockResolvedValue({ runId: 'r2' });
    api.runs.list.mockResolvedValue([run('r2', 'running')]);
    await training.resume('r2');
    await flush();
    expect(training.steps.map((s) => s.step)).toEqual(range(1, 10));
    clock = 500;
    emit('train.progress', { runId: 'r2', event: 'step', ...step(11) });
    expect(training.steps.map((s) => s.step)).toEqual(range(1, 11));
    api.runs.list.mockResolvedValue([run('r2', 'done')]);
    emit('train.finished', { runId: 'r2', status: 'done' });
    await flush();
    expect(training.activeRun).toBeNull();
    expect(training.curvesOf('r2')!.map((s) => s.step)).toEqual(range(1, 11));
    expect(training.shown).toEqual(['r2']);
  });

  it('a run whose first steps come before its id keeps them: they are read from the server', async () => {
    api.runs.list.mockResolvedValue([run('f1', 'running')]);
    let started!: (v: unknown) => void;
    api.train.start.mockReturnValue(new Promise((resolve) => (started = resolve)));
    runsApi.steps.mockResolvedValue({ runId: 'f1', steps: [step(1)], total: 1, stride: 1 });
    const starting = training.start({ modelId: 'm', method: 'coop' });
    emit('train.progress', { runId: 'f1', event: 'step', ...step(1) });
    started({ runId: 'f1' });
    await starting;
    clock = 1000;
    emit('train.progress', { runId: 'f1', event: 'step', ...step(2) });
    await flush();
    await vi.waitFor(() => expect(training.steps.map((s) => s.step)).toEqual([1, 2]));
  });

  it('shows the runs chosen for comparison, each loaded once', async () => {
    api.runs.list.mockResolvedValue([run('a', 'done'), run('b', 'cancelled'), run('c', 'done')]);
    await training.load();
    expect(training.shown).toEqual(['c']);
    runsApi.steps.mockImplementation(async ({ runId }: { runId: string }) => ({ runId, steps: [step(1)], total: 1, stride: 1 }));
    training.toggleCompare('a');
    training.toggleCompare('b');
    expect(training.shown).toEqual(['a', 'b']);
    await Promise.all(training.shown.map((id) => training.loadHistory(id)));
    await training.loadHistory('a');
    expect(runsApi.steps).toHaveBeenCalledTimes(2);
    training.toggleCompare('a');
    expect(training.shown).toEqual(['b']);
  });

  it('counts steps of the whole run and says "estimating" before the time left', async () => {
    api.runs.list.mockResolvedValue([run('r3', 'running')]);
    runsApi.steps.mockResolvedValue({ runId: 'r3', steps: [], total: 0, stride: 1 });
    await training.load();
    await flush();
    // 20 images, batch 2: 10 steps an epoch, 5 epochs. The first step took 20 s to arrive.
    clock = 20_000;
    emit('train.progress', { runId: 'r3', event: 'step', ...step(1) });
    let p = training.progress(clock)!;
    expect(p).toMatchObject({ step: 1, total: 50, epochs: 5, eta: { kind: 'estimating' } });
    for (let n = 2; n <= 8; n++) {
      clock += 400;
      emit('train.progress', { runId: 'r3', event: 'step', ...step(n) });
    }
    await vi.waitFor(() => expect(training.progress(clock)!.eta).toMatchObject({ kind: 'eta', secondsPerStep: 0.4 }));
    p = training.progress(clock)!;
    expect(p.eta.kind === 'eta' && p.eta.seconds).toBeCloseTo(42 * 0.4, 6);
    expect(p.percent).toBeCloseTo(16, 6);
  });
});

describe('names and notes', () => {
  it('renames and annotates a run in the list; a refusal keeps the list and says why', async () => {
    api.runs.list.mockResolvedValue([run('r1', 'done')]);
    await training.load();
    runsApi.rename.mockResolvedValue(run('r1', 'done', { name: 'baseline' }));
    expect(await training.rename('r1', 'baseline')).toBe(true);
    expect(runsApi.rename).toHaveBeenCalledWith({ runId: 'r1', name: 'baseline' });
    runsApi.annotate.mockResolvedValue(run('r1', 'done', { name: 'baseline', note: 'first try' }));
    expect(await training.annotate('r1', 'first try')).toBe(true);
    expect(training.runs[0]).toMatchObject({ name: 'baseline', note: 'first try' });
    runsApi.rename.mockRejectedValue(new Error('a run name can be at most 200 characters'));
    expect(await training.rename('r1', 'x'.repeat(300))).toBe(false);
    expect(training.runs[0]!.name).toBe('baseline');
    expect(toasts.items.at(-1)).toMatchObject({ kind: 'error', text: 'a run name can be at most 200 characters' });
  });
});

describe('the form survives a reload, per project', () => {
  it('brings back what was left in this project, and ignores what is not a valid value', () => {
    training.enterProject('/one.mocoop');
    Object.assign(training.form, { method: 'coop', epochs: 7, seed: 4, setId: 2, name: 'draft' });
    training.loss.tauCe = 0.05;
    training.saveForm();
    training.enterProject('/two.mocoop');
    training.form.method = 'kgcoop';
    training.form.setId = 9;
    training.saveForm();
    // The page is reloaded: the state starts over and the project opens again.
    Object.assign(training.form, { method: 'mocoop', epochs: undefined, seed: 1, name: '' });
    training.loss.tauCe = undefined;
    training.enterProject('/one.mocoop');
    expect(training.form).toMatchObject({ method: 'coop', epochs: 7, seed: 4, setId: 2, name: 'draft' });
    expect(training.loss.tauCe).toBe(0.05);
    training.enterProject('/two.mocoop');
    expect(training.form).toMatchObject({ method: 'kgcoop', setId: 9 });
    stored.set('mocoop.trainForm:/bad.mocoop', JSON.stringify({ form: { method: 'rm -rf', epochs: 'many', seed: 3 }, loss: { tauCe: 'x' } }));
    training.enterProject('/bad.mocoop');
    expect(training.form.method).toBe('kgcoop');
    // "many" is no number of epochs: the value in use stays.
    expect(training.form.epochs).toBe(7);
    expect(training.form.seed).toBe(3);
    stored.set('mocoop.trainForm:/broken.mocoop', '{not json');
    expect(() => training.enterProject('/broken.mocoop')).not.toThrow();
  });
});

describe('merging steps', () => {
  it('keeps one step per number, in order, the later list winning', () => {
    const a = [step(1), step(2), step(3)];
    const b = [{ ...step(3), loss: 9 }, step(4)];
    expect(mergeSteps(a, b).map((s) => [s.step, s.loss])).toEqual([
      [1, 1],
      [2, 1],
      [3, 9],
      [4, 1]
    ]);
    expect(mergeSteps([], b)).toHaveLength(2);
    expect(mergeSteps(a, [])).toHaveLength(3);
  });
});
