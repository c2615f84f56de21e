import { vi } from 'vitest';

/** A stand-in for the renderer's bridge: every request a vi.fn, events emitted by hand. */
export function fakeBridge() {
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const api = {
    fewshot: { list: vi.fn(), create: vi.fn(), createManual: vi.fn(), update: vi.fn(), delete: vi.fn(), classCounts: vi.fn() },
    runs: { list: vi.fn() },
    train: { start: vi.fn(), cancel: vi.fn(), resume: vi.fn() },
    images: { get: vi.fn() },
    project: { current: vi.fn(), info: vi.fn() }
  };
  const bridge = {
    transport: 'web' as const,
    api,
    on: (name: string, listener: (payload: unknown) => void) => {
      if (!listeners.has(name)) listeners.set(name, new Set());
      listeners.get(name)!.add(listener);
      return () => listeners.get(name)?.delete(listener);
    },
    mediaUrl: () => ''
  };
  const emit = (name: string, payload: unknown) => listeners.get(name)?.forEach((l) => l(payload));
  return { api, bridge, emit };
}

/** A few-shot set as the contract describes it. */
export function setInfo(id: number, overrides: Record<string, unknown> = {}) {
  return {
    id,
    name: `set ${id}`,
    k: 2,
    seed: 1,
    baseNew: false,
    frozen: false,
    imageIds: [],
    baseClassIds: [1, 2],
    newClassIds: [],
    perClass: [],
    ...overrides
  };
}

export const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
