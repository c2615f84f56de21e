/**
 * Natural order of names: runs of digits compare by their value, so img2.jpg comes before img10.jpg
 * (0, 1, 2, … 10, not 0, 1, 10, 11). Text between the numbers compares as people read it (case and
 * accents only break ties); names that still tie are ordered by their code points, so two different
 * names never compare equal and every sort is the same on every machine.
 */

// A fixed locale: the order must not change with the machine's language settings.
const text = new Intl.Collator('en', { sensitivity: 'base', numeric: false });
const textExact = new Intl.Collator('en', { sensitivity: 'variant', numeric: false });

const CHUNK = /(\d+)|(\D+)/g;

type Chunk = { digits: string } | { text: string };

function chunks(name: string): Chunk[] {
  const out: Chunk[] = [];
  for (const match of name.matchAll(CHUNK)) out.push(match[1] !== undefined ? { digits: match[1] } : { text: match[2]! });
  return out;
}

/** Compares two runs of ASCII digits by value, of any length (no overflow past 2^53). */
function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

const codePoints = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Negative when `a` comes first, positive when `b` does, 0 only for identical strings. Numbers come
 * before text at the same position; equal numbers with fewer leading zeros come first (2 before 02).
 */
export function naturalCompare(a: string, b: string): number {
  if (a === b) return 0;
  const x = chunks(a);
  const y = chunks(b);
  let tie = 0;
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    if ('digits' in p && 'digits' in q) {
      const byValue = compareDigits(p.digits, q.digits);
      if (byValue !== 0) return byValue;
      if (tie === 0) tie = p.digits.length - q.digits.length;
    } else if ('text' in p && 'text' in q) {
      const byText = text.compare(p.text, q.text);
      if (byText !== 0) return byText;
      if (tie === 0) tie = textExact.compare(p.text, q.text);
    } else return 'digits' in p ? -1 : 1;
  }
  if (x.length !== y.length) return x.length - y.length;
  return tie !== 0 ? Math.sign(tie) : codePoints(a, b);
}

/** Sorts names in natural order (a copy; the input is not changed). */
export function naturalSort<T>(items: readonly T[], name: (item: T) => string): T[] {
  return [...items].sort((a, b) => naturalCompare(name(a), name(b)));
}
