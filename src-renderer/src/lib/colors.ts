/**
 * 24 class colours chosen by farthest-point sampling in CIELAB (lightness 38–72, so each reads on the
 * light and the dark theme): any two differ by ΔE ≥ 25, the first twelve by far more.
 */
export const PALETTE = [
  '#2f6fde',
  '#1bbb1b',
  '#df2020',
  '#1bbbbb',
  '#df209f',
  '#cfa730',
  '#8020df',
  '#d47d84',
  '#2d6186',
  '#2d8643',
  '#9c4e16',
  '#c57dd4',
  '#df2060',
  '#7b9c16',
  '#67b3e9',
  '#df20df',
  '#a1366b',
  '#d4a87d',
  '#8a40bf',
  '#86772d',
  '#df8020',
  '#a1363e',
  '#1bbb5e',
  '#2050df'
] as const;

/**
 * Palette slots for a project's classes: each class takes slot (id − 1) mod 24 — so its colour does not
 * change when other classes are added, renamed or reordered — unless a class with a lower id holds it
 * (ids grow past 24 after deletions), then the next free one. Up to 24 classes never share a colour.
 */
export function assignColorSlots(ids: readonly number[]): Map<number, number> {
  const slots = new Map<number, number>();
  const used = new Set<number>();
  for (const id of [...new Set(ids)].sort((a, b) => a - b)) {
    let slot = (((id - 1) % PALETTE.length) + PALETTE.length) % PALETTE.length;
    if (used.size < PALETTE.length) while (used.has(slot)) slot = (slot + 1) % PALETTE.length;
    used.add(slot);
    slots.set(id, slot);
  }
  return slots;
}

let slots = new Map<number, number>();

/** Tells the palette which classes the open project has (the labeling state does, whenever it loads them). */
export function setProjectClasses(ids: readonly number[]): void {
  slots = assignColorSlots(ids);
}

/** The colour of a class, the same on every page. */
export function classColor(id: number): string {
  const slot = slots.get(id) ?? (((id - 1) % PALETTE.length) + PALETTE.length) % PALETTE.length;
  return PALETTE[slot]!;
}
