import { beforeEach, describe, expect, it, vi } from 'vitest';

// The import state: split on import reaches the service, and batched uploads add up their counts.
const fake = vi.hoisted(() => ({
  api: { import: { run: vi.fn(), upload: vi.fn(), cancel: vi.fn() } },
  bridge: { transport: 'web' as const, on: () => () => {}, mediaUrl: () => '' }
}));
vi.mock('../../../../src-renderer/src/lib/bridge', () => ({ api: fake.api, bridge: fake.bridge, RequestError: Error }));

const { importer, mergeSummaries } = await import('../../../../src-renderer/src/state/importing.svelte');

const summary = (over: Record<string, unknown> = {}) => ({
  importId: 'i',
  cancelled: false,
  imported: 0,
  classesCreated: [],
  duplicates: [],
  skipped: [],
  seconds: 1,
  ...over
});

beforeEach(() => {
  vi.clearAllMocks();
  importer.reset();
});

describe('import state: split on import', () => {
  it('sends the hold-out with the source, and none when none is asked for', async () => {
    fake.api.import.run.mockResolvedValue(summary({ imported: 3, splitCounts: { train: 2, val: 0, test: 1 } }));
    const holdOut = { testPercent: 20, valPercent: 10, seed: 1 };
    await importer.run({ kind: 'folder', dir: '/d' }, holdOut);
    expect(fake.api.import.run).toHaveBeenLastCalledWith(expect.objectContaining({ source: { kind: 'folder', dir: '/d' }, holdOut }));
    expect(importer.summary?.splitCounts).toEqual({ train: 2, val: 0, test: 1 });
    await importer.run({ kind: 'folder', dir: '/d' });
    expect(fake.api.import.run.mock.calls[1]![0]).not.toHaveProperty('holdOut');
  });

  it('web-mode uploads in several batches: counts per split and per class are added up (unlabeled last)', async () => {
    fake.api.import.upload
      .mockResolvedValueOnce(
        summary({
          imported: 2,
          splitCounts: { train: 1, val: 0, test: 1 },
          perClass: [{ name: null, train: 1, val: 0, test: 1 }],
          holdOut: { testPercent: 50, valPercent: 0, seed: 2 }
        })
      )
      .mockResolvedValueOnce(summary({ imported: 1, splitCounts: { train: 1, val: 0, test: 0 }, perClass: [{ name: null, train: 1, val: 0, test: 0 }] }));
    // 500 files make a batch: 501 go in two.
    const files = Array.from({ length: 501 }, (_, i) => new File([new Uint8Array([i % 256])], `${i}.jpg`));
    const result = await importer.drop(files, { testPercent: 50, valPercent: 0, seed: 2 });
    expect(fake.api.import.upload).toHaveBeenCalledTimes(2);
    expect(fake.api.import.upload.mock.calls[0]![0]).toMatchObject({ holdOut: { testPercent: 50, valPercent: 0, seed: 2 } });
    expect(result).toMatchObject({
      imported: 3,
      splitCounts: { train: 2, val: 0, test: 1 },
      perClass: [{ name: null, train: 2, val: 0, test: 1 }],
      holdOut: { testPercent: 50, valPercent: 0, seed: 2 }
    });
  });

  it('mergeSummaries keeps classes in first-seen order with unlabeled last', () => {
    const merged = mergeSummaries([
      summary({
        perClass: [
          { name: 'b', train: 1, val: 0, test: 0 },
          { name: null, train: 1, val: 0, test: 0 }
        ]
      }),
      summary({
        perClass: [
          { name: 'a', train: 0, val: 1, test: 0 },
          { name: 'b', train: 0, val: 0, test: 2 }
        ]
      })
    ]);
    expect(merged.perClass).toEqual([
      { name: 'b', train: 1, val: 0, test: 2 },
      { name: 'a', train: 0, val: 1, test: 0 },
      { name: null, train: 1, val: 0, test: 0 }
    ]);
  });
});

describe('import state: reset', () => {
  it('forgets the last summary and progress; one import at a time', async () => {
    let answer!: (value: unknown) => void;
    fake.api.import.run.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
    const running = importer.run({ kind: 'folder', dir: '/d' });
    expect(importer.running).toBe(true);
    expect(await importer.run({ kind: 'folder', dir: '/e' })).toBeNull();
    answer(summary({ imported: 2 }));
    expect(await running).toMatchObject({ imported: 2 });
    expect(importer.running).toBe(false);
    expect(importer.summary?.imported).toBe(2);
    importer.reset();
    expect(importer.summary).toBeNull();
    expect(importer.progress).toBeNull();
  });
});
