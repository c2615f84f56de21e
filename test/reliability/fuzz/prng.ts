/**
 * A small seeded PRNG for generated test inputs: the same seed gives the same cases on every machine,
 * so a failing case is reproduced by its seed and index (both are in every case's name).
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [lo, hi] (both included). */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Buffer;
  /** A short string of `n` characters drawn from `alphabet`. */
  text(n: number, alphabet?: string): string;
}

/** mulberry32 over a 32-bit state, mixed from the seed and a stream number (one stream per case). */
export function makeRng(seed: number, stream = 0): Rng {
  let state = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    pick: (items) => items[int(0, items.length - 1)]!,
    chance: (p) => next() < p,
    bytes: (n) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = int(0, 255);
      return out;
    },
    text: (n, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 _-.,;:"\'{}[]()\\/\t\u00e9\u4e2d\u{1f600}\u0000\u202e') => {
      const chars = [...alphabet];
      let out = '';
      for (let i = 0; i < n; i++) out += chars[int(0, chars.length - 1)];
      return out;
    }
  };
}
