/**
 * Type-ahead for the class picker: which classes a few typed letters mean, best first. An exact name
 * beats a prefix, a prefix beats the start of a later word ("ret" → golden retriever), which beats the
 * words' initials ("gr"), a substring and finally the letters in order ("gldn"); ties keep the class order.
 */
export interface Named {
  id: number;
  name: string;
}

const fold = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLocaleLowerCase();

function score(name: string, query: string): number | null {
  const n = fold(name);
  const q = fold(query.trim());
  if (!q) return 5;
  if (n === q) return 0;
  if (n.startsWith(q)) return 1;
  const words = n.split(/[\s_\-./()]+/).filter(Boolean);
  if (words.some((w) => w.startsWith(q))) return 2;
  const compact = q.replace(/\s+/g, '');
  if (
    compact.length >= 2 &&
    words
      .map((w) => w[0])
      .join('')
      .startsWith(compact)
  )
    return 3;
  if (n.includes(q)) return 4;
  let i = 0;
  for (const ch of n) if (ch === compact[i]) i++;
  return i === compact.length ? 6 : null;
}

/** The classes matching `query`, best first (all of them, in order, for an empty query). */
export function rankClasses<T extends Named>(classes: readonly T[], query: string): T[] {
  return classes
    .map((c, position) => ({ c, position, s: score(c.name, query) }))
    .filter((x): x is { c: T; position: number; s: number } => x.s !== null)
    .sort((a, b) => a.s - b.s || a.position - b.position)
    .map((x) => x.c);
}

/** Whether `query` names an existing class exactly (ignoring case, as class names do). */
export function hasExactClass(classes: readonly Named[], query: string): boolean {
  const q = fold(query.trim());
  return classes.some((c) => fold(c.name) === q);
}

/** The most recently used classes, most recent first, without repeats, at most `max`. */
export function pushRecent(recent: readonly number[], id: number, max = 8): number[] {
  return [id, ...recent.filter((r) => r !== id)].slice(0, max);
}
