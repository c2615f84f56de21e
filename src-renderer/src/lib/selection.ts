export type ClickMode = 'single' | 'toggle' | 'range' | 'addRange';

/**
 * Grid selection as file managers do it: a click selects one, ctrl/cmd toggles one, shift selects
 * the range from the anchor, ctrl+shift adds that range. Returns the new selection and anchor.
 */
export function selectionAfterClick(
  ids: readonly number[],
  selected: readonly number[],
  anchor: number,
  index: number,
  mode: ClickMode
): { selection: number[]; anchor: number } {
  const id = ids[index];
  if (id === undefined) return { selection: [...selected], anchor };
  switch (mode) {
    case 'single':
      return { selection: [id], anchor: index };
    case 'toggle': {
      const set = new Set(selected);
      if (set.has(id)) set.delete(id);
      else set.add(id);
      return { selection: [...set], anchor: index };
    }
    case 'range':
    case 'addRange': {
      const from = Math.max(0, Math.min(anchor, ids.length - 1));
      const [lo, hi] = from <= index ? [from, index] : [index, from];
      const range = ids.slice(lo, hi + 1);
      return { selection: mode === 'range' ? range : [...new Set([...selected, ...range])], anchor };
    }
  }
}

/** How many tiles fit across, and which rows of a virtual grid are visible (with overscan). */
export function visibleRange(
  total: number,
  columns: number,
  rowHeight: number,
  scrollTop: number,
  viewport: number,
  overscan = 2
): { start: number; end: number; firstRow: number } {
  const cols = Math.max(1, columns);
  const firstRow = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const lastRow = Math.ceil((scrollTop + viewport) / rowHeight) + overscan;
  return { start: Math.min(total, firstRow * cols), end: Math.min(total, lastRow * cols), firstRow };
}
