import { beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestError } from '../../../../src-main/contract/client';

vi.mock('../../../../src-renderer/src/lib/bridge', () => ({
  api: { project: {} },
  bridge: { transport: 'web', on: () => () => {}, mediaUrl: () => '' },
  RequestError: Error
}));

const { toasts } = await import('../../../../src-renderer/src/state/toasts.svelte');
const { conflicts } = await import('../../../../src-renderer/src/state/conflicts.svelte');

const stale = (message = 'The classes changed in another window — reload or overwrite.') => new RequestError('stale_revision', message);

beforeEach(() => {
  toasts.reset();
  conflicts.reset();
});

describe('toasts', () => {
  it('reset takes every toast down, and the timers of those taken down leave the new ones be', () => {
    vi.useFakeTimers();
    try {
      toasts.show('one');
      toasts.error(new Error('two'));
      expect(toasts.items.map((t) => [t.kind, t.text])).toEqual([
        ['info', 'one'],
        ['error', 'two']
      ]);
      vi.advanceTimersByTime(2000);
      toasts.reset();
      expect(toasts.items).toEqual([]);
      toasts.show('three');
      // The old toasts' timers run out: the new one stays up until its own does.
      vi.advanceTimersByTime(3999);
      expect(toasts.items.map((t) => t.text)).toEqual(['three']);
      vi.advanceTimersByTime(1);
      expect(toasts.items).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('conflicts', () => {
  it('reset forgets the choice waiting', () => {
    expect(conflicts.handle(stale(), { scope: 'classes', reload: async () => {}, overwrite: async () => {} })).toBe(true);
    expect(conflicts.of('classes')?.message).toContain('another window');
    expect(conflicts.current?.scope).toBe('classes');
    conflicts.reset();
    expect(conflicts.current).toBeNull();
    expect(conflicts.of('classes')).toBeNull();
    expect(conflicts.busy).toBe(false);
  });

  it('an overwrite still on its way when reset is not offered again, and does not end a later choice', async () => {
    let fail!: (error: unknown) => void;
    conflicts.handle(stale(), { scope: 'fewshot', reload: async () => {}, overwrite: () => new Promise((_, reject) => (fail = reject)) });
    const resolving = conflicts.resolve('overwrite');
    expect(conflicts.busy).toBe(true);
    conflicts.reset();
    expect(conflicts.busy).toBe(false);
    // The next project's own choice, being carried out when the old overwrite fails.
    let done!: () => void;
    conflicts.handle(stale(), { scope: 'classes', reload: async () => {}, overwrite: () => new Promise<void>((resolve) => (done = resolve)) });
    const next = conflicts.resolve('overwrite');
    toasts.reset();
    fail(stale('The few-shot set changed again.'));
    await resolving;
    expect(conflicts.current).toBeNull();
    expect(conflicts.busy).toBe(true);
    expect(toasts.items).toEqual([]);
    done();
    await next;
    expect(conflicts.busy).toBe(false);
  });
});
