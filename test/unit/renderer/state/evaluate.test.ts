import { beforeEach, describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => ({
  api: {
    runs: { details: vi.fn(), classCoverage: vi.fn(), evaluate: vi.fn(), report: vi.fn() },
    files: { zip: vi.fn() }
  }
}));
vi.mock('../../../../src-renderer/src/lib/bridge', () => ({
  api: fake.api,
  bridge: { transport: 'web', api: fake.api, on: () => () => {}, mediaUrl: () => '' },
  RequestError: Error
}));

const { evaluation } = await import('../../../../src-renderer/src/state/evaluate.svelte');
const { toasts } = await import('../../../../src-renderer/src/state/toasts.svelte');
const api = fake.api;

/** A promise answered by hand, to order answers as a slow server would. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
const metrics = (accuracy: number) => ({ run: 'r', method: 'coop', accuracy, images: 4, per_class: [] });
const details = (id: string, accuracy = 0.5) => ({ run: { id, method: 'coop', settings: {} }, metrics: metrics(accuracy), predictions: [] });
const coverage = (notInRun: string[] = []) => ({ trained: ['a', 'b'], notInRun, canAdd: true, reason: null });
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

beforeEach(() => {
  vi.clearAllMocks();
  evaluation.reset();
  toasts.reset();
  api.runs.classCoverage.mockResolvedValue(coverage());
});

describe('Evaluate page state', () => {
  it('opens a run with its class coverage; a slower answer for a run opened earlier is dropped', async () => {
    const first = deferred<ReturnType<typeof details>>();
    api.runs.details.mockImplementation(({ runId }: { runId: string }) => (runId === 'one' ? first.promise : Promise.resolve(details(runId))));
    api.runs.classCoverage.mockResolvedValue(coverage(['heron']));
    const opening = evaluation.open('one');
    await evaluation.open('two');
    first.resolve(details('one'));
    await opening;
    expect(evaluation.current?.run.id).toBe('two');
    expect(evaluation.coverage?.notInRun).toEqual(['heron']);
    expect(evaluation.testSet).toBe('test');
  });

  it('a run whose coverage cannot be read still opens (no added-classes choice)', async () => {
    api.runs.details.mockResolvedValue(details('one'));
    api.runs.classCoverage.mockRejectedValue(new Error('old run'));
    await evaluation.open('one');
    expect(evaluation.current?.run.id).toBe('one');
    expect(evaluation.coverage).toBeNull();
    expect(toasts.items).toHaveLength(0);
  });

  it('the stored test-split numbers need no request; other test sets are evaluated and labelled', async () => {
    api.runs.details.mockResolvedValue(details('one', 0.5));
    await evaluation.open('one');
    await evaluation.evaluate();
    expect(api.runs.evaluate).not.toHaveBeenCalled();
    expect(evaluation.metrics?.accuracy).toBe(0.5);

    api.runs.evaluate.mockResolvedValue(metrics(0.25));
    evaluation.testSet = 'val';
    await evaluation.evaluate();
    expect(api.runs.evaluate).toHaveBeenLastCalledWith({ runId: 'one', split: 'val' });
    expect(evaluation.alternative?.label).toBe('the validation split');
    expect(evaluation.metrics?.accuracy).toBe(0.25);

    evaluation.testSet = 'other';
    evaluation.otherProject = '/data/other/birds.mocoop';
    evaluation.includeAdded = true;
    await evaluation.evaluate();
    expect(api.runs.evaluate).toHaveBeenLastCalledWith({ runId: 'one', otherProject: '/data/other/birds.mocoop', classes: 'project' });
    expect(evaluation.alternative?.label).toBe('birds.mocoop, among all its classes');

    // Back on the test split with the added classes: still an evaluation; unticked, the stored numbers.
    evaluation.testSet = 'test';
    evaluation.testSetChanged();
    expect(evaluation.alternative).not.toBeNull();
    await evaluation.evaluate();
    expect(api.runs.evaluate).toHaveBeenLastCalledWith({ runId: 'one', classes: 'project' });
    expect(evaluation.alternative?.label).toBe("the test split, among all this project's classes");
    evaluation.includeAdded = false;
    evaluation.testSetChanged();
    expect(evaluation.alternative).toBeNull();
    expect(evaluation.metrics?.accuracy).toBe(0.5);
  });

  it('drops an evaluation answered after the stored numbers were chosen again, or another run was opened', async () => {
    api.runs.details.mockImplementation(({ runId }: { runId: string }) => Promise.resolve(details(runId)));
    await evaluation.open('one');
    const slow = deferred<ReturnType<typeof metrics>>();
    api.runs.evaluate.mockReturnValueOnce(slow.promise);
    evaluation.testSet = 'val';
    const running = evaluation.evaluate();
    expect(evaluation.evaluating).toBe(true);
    evaluation.testSet = 'test';
    evaluation.testSetChanged();
    expect(evaluation.evaluating).toBe(false);
    slow.resolve(metrics(0.1));
    await running;
    expect(evaluation.alternative).toBeNull();

    const failing = deferred<ReturnType<typeof metrics>>();
    api.runs.evaluate.mockReturnValueOnce(failing.promise);
    evaluation.testSet = 'val';
    const again = evaluation.evaluate();
    await evaluation.open('two');
    failing.reject(new Error('the model is gone'));
    await again;
    expect(evaluation.current?.run.id).toBe('two');
    expect(evaluation.alternative).toBeNull();
    // The failure belonged to a run no longer shown: no message about it.
    expect(toasts.items).toHaveLength(0);
  });

  it('an evaluation that fails says why and shows the stored numbers', async () => {
    api.runs.details.mockResolvedValue(details('one'));
    await evaluation.open('one');
    api.runs.evaluate.mockRejectedValue(new Error('No labeled validation images of these classes.'));
    evaluation.testSet = 'val';
    await evaluation.evaluate();
    expect(evaluation.alternative).toBeNull();
    expect(evaluation.evaluating).toBe(false);
    expect(toasts.items.map((t) => t.text).join()).toContain('No labeled validation images');
  });

  it('writes the report into a folder per run, and asks for a folder first', async () => {
    api.runs.details.mockResolvedValue(details('one'));
    await evaluation.open('one');
    await evaluation.saveReport();
    expect(api.runs.report).not.toHaveBeenCalled();
    expect(toasts.items.at(-1)?.text).toContain('Choose a folder');

    const written = { html: 'r/one/report.html', json: 'r/one/metrics.json', csv: 'r/one/predictions.csv' };
    api.runs.report.mockResolvedValue(written);
    evaluation.reportDir = ' /home/me/reports/ ';
    await evaluation.saveReport();
    expect(api.runs.report).toHaveBeenCalledWith({ runId: 'one', dir: '/home/me/reports/one' });
    expect(evaluation.written).toEqual(written);
  });

  it('reset drops an open still on its way', async () => {
    const slow = deferred<ReturnType<typeof details>>();
    api.runs.details.mockReturnValue(slow.promise);
    const opening = evaluation.open('one');
    evaluation.reset();
    slow.resolve(details('one'));
    await opening;
    await flush();
    expect(evaluation.current).toBeNull();
  });
});
