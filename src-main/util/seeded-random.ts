/**
 * Seeded pseudo-random numbers shared by every side that must draw the same numbers from the same seed
 * (few-shot sampling, shuffling, augmentation views, random prompt initialisation). Plain functions,
 * no Node APIs, so the main process, the compute worker and the renderer can all import them.
 */

/** mulberry32: a small, fast, seedable PRNG; the same seed gives the same sequence everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 32-bit seed from several parts (numbers or strings), FNV-1a over their text with a final avalanche:
 * streams for (seed, image, epoch) and (seed, image, epoch + 1) are unrelated.
 */
export function mixSeed(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  const text = parts.map(String).join('\u241f');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Standard normal draws (Box–Muller) from a uniform stream. */
export function normalRandom(random: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const out = spare;
      spare = null;
      return out;
    }
    const u = Math.max(random(), Number.MIN_VALUE);
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}
