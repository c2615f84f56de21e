import { beforeEach, describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => ({ toasts: { show: vi.fn(), error: vi.fn() } }));
vi.mock('../../../src-renderer/src/state/toasts.svelte', () => ({ toasts: fake.toasts }));

const { attempt } = await import('../../../src-renderer/src/lib/attempt');
const { toasts } = fake;

beforeEach(() => vi.clearAllMocks());

describe('attempt: one error toast instead of a try/catch per method', () => {
  it('answers what the work answered, with no toast unless a success text is given', async () => {
    expect(await attempt(() => Promise.resolve(42))).toBe(42);
    expect(toasts.show).not.toHaveBeenCalled();
    expect(toasts.error).not.toHaveBeenCalled();
  });

  it('shows a failure as an error toast and answers undefined instead of throwing', async () => {
    const error = new Error('the server is gone');
    expect(await attempt(() => Promise.reject(error), { success: 'never shown' })).toBeUndefined();
    expect(toasts.error).toHaveBeenCalledExactlyOnceWith(error);
    expect(toasts.show).not.toHaveBeenCalled();
  });

  it('an error thrown before the first await is caught the same way', async () => {
    const work = async () => {
      throw new Error('bad input');
    };
    expect(await attempt(work)).toBeUndefined();
    expect(toasts.error).toHaveBeenCalledOnce();
  });

  it('shows the success text, or the one made from the result, once the work has succeeded', async () => {
    await attempt(() => Promise.resolve(), { success: 'Saved' });
    expect(toasts.show).toHaveBeenLastCalledWith('Saved');
    await attempt(() => Promise.resolve({ name: 'tiny-clip' }), { success: (model) => `Installed ${model.name}` });
    expect(toasts.show).toHaveBeenLastCalledWith('Installed tiny-clip');
  });

  it('turns the busy flag on before the work starts and off after it ends, on success and on failure', async () => {
    const seen: string[] = [];
    const busy = (on: boolean) => seen.push(on ? 'on' : 'off');
    await attempt(
      async () => {
        seen.push('work');
      },
      { busy }
    );
    expect(seen).toEqual(['on', 'work', 'off']);

    seen.length = 0;
    await attempt(
      async () => {
        seen.push('work');
        throw new Error('no');
      },
      { busy }
    );
    expect(seen).toEqual(['on', 'work', 'off']);
  });

  it('is busy while the work is pending', async () => {
    let busy = false;
    let finish!: () => void;
    const running = attempt(() => new Promise<void>((resolve) => (finish = resolve)), { busy: (on) => (busy = on) });
    expect(busy).toBe(true);
    finish();
    await running;
    expect(busy).toBe(false);
  });
});
