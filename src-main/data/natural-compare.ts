/**
 * Natural order of names: runs of digits compare by their value, so img2.jpg comes before img10.jpg
 * (0, 1, 2, … 10, not 0, 1, 10, 11). Text between the numbers compares as people read it: letters
 * without case or accents first; then accents, then case (lower before upper), then leading zeros
 * (2 before 02) break ties; names that still tie are ordered by their code points, so two different
 * names never compare equal. No locale data is used: every machine sorts the same way.
 */

interface Chunk {
  /** Digits: the value without leading zeros. Text: letters folded (no case, no accents). */
  primary: string;
  digits: boolean;
  /** Text: lower case with its accents; digits: the run as written (its leading zeros). */
  secondary: string;
  /** Text: as written, case swapped so that lower case comes first. */
  tertiary: string;
}

export type NaturalKey = { name: string; chunks: Chunk[] };

const CHUNK = /(\d+)|(\D+)/g;
const MARKS = /[\u0300-\u036f]/g;
const ASCII = /^[\x00-\x7f]*$/;
const swapCase = (text: string) =>
  ASCII.test(text)
    ? text.replace(/[A-Za-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) ^ 0x20))
    : [...text].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');

/** The parts of a name that natural order compares (compute once per name when sorting many). */
export function naturalKey(name: string): NaturalKey {
  const chunks: Chunk[] = [];
  for (const match of name.matchAll(CHUNK)) {
    if (match[1] !== undefined) {
      const run = match[1];
      chunks.push({ primary: run.replace(/^0+(?=\d)/, ''), digits: true, secondary: run, tertiary: '' });
    } else {
      const text = match[2]!;
      if (ASCII.test(text)) {
        // The common case: nothing to normalise.
        const lower = text.toLowerCase();
        chunks.push({ primary: lower, digits: false, secondary: lower, tertiary: swapCase(text) });
      } else {
        const lower = text.normalize('NFC').toLowerCase();
        chunks.push({ primary: lower.normalize('NFKD').replace(MARKS, ''), digits: false, secondary: lower, tertiary: swapCase(text) });
      }
    }
  }
  return { name, chunks };
}

const byCodePoints = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Compares two runs of digits (leading zeros removed) by value, of any length. */
const byValue = (a: string, b: string) => (a.length !== b.length ? a.length - b.length : byCodePoints(a, b));

export function compareNaturalKeys(a: NaturalKey, b: NaturalKey): number {
  if (a.name === b.name) return 0;
  const n = Math.min(a.chunks.length, b.chunks.length);
  for (let i = 0; i < n; i++) {
    const p = a.chunks[i]!;
    const q = b.chunks[i]!;
    // Numbers come before text at the same position.
    if (p.digits !== q.digits) return p.digits ? -1 : 1;
    const c = p.digits ? byValue(p.primary, q.primary) : byCodePoints(p.primary, q.primary);
    if (c !== 0) return Math.sign(c);
  }
  if (a.chunks.length !== b.chunks.length) return a.chunks.length - b.chunks.length;
  for (let i = 0; i < n; i++) {
    const p = a.chunks[i]!;
    const q = b.chunks[i]!;
    // Accents (text), then fewer leading zeros first (digits).
    const c = p.digits ? p.secondary.length - q.secondary.length : byCodePoints(p.secondary, q.secondary);
    if (c !== 0) return Math.sign(c);
  }
  for (let i = 0; i < n; i++) {
    const c = byCodePoints(a.chunks[i]!.tertiary, b.chunks[i]!.tertiary);
    if (c !== 0) return c;
  }
  return byCodePoints(a.name, b.name);
}

/**
 * Negative when `a` comes first, positive when `b` does, 0 only for identical strings. For sorting
 * many names, naturalSort computes each name's key once.
 */
export function naturalCompare(a: string, b: string): number {
  return a === b ? 0 : compareNaturalKeys(naturalKey(a), naturalKey(b));
}

/** Sorts items by a name in natural order (a copy; the input is not changed). */
export function naturalSort<T>(items: readonly T[], name: (item: T) => string): T[] {
  return items
    .map((item) => ({ item, key: naturalKey(name(item)) }))
    .sort((x, y) => compareNaturalKeys(x.key, y.key))
    .map((x) => x.item);
}
