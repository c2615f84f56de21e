import { describe, expect, it } from 'vitest';
import { pointInPolygon } from '../../src-renderer/src/lib/geometry';
import { selectionAfterClick, visibleRange } from '../../src-renderer/src/lib/selection';

const ids = [10, 11, 12, 13, 14, 15, 16, 17];
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe('selectionAfterClick', () => {
  it('single selects only the clicked image and moves the anchor', () => {
    expect(selectionAfterClick(ids, [10, 12, 15], 0, 3, 'single')).toEqual({ selection: [13], anchor: 3 });
    expect(selectionAfterClick(ids, [], -1, 0, 'single')).toEqual({ selection: [10], anchor: 0 });
  });

  it('toggle adds or removes one image and keeps the rest', () => {
    const added = selectionAfterClick(ids, [10, 12], 0, 5, 'toggle');
    expect(sorted(added.selection)).toEqual([10, 12, 15]);
    expect(added.anchor).toBe(5);
    const removed = selectionAfterClick(ids, [10, 12, 15], 5, 2, 'toggle');
    expect(sorted(removed.selection)).toEqual([10, 15]);
    expect(removed.anchor).toBe(2);
    expect(selectionAfterClick(ids, [13], 3, 3, 'toggle').selection).toEqual([]);
  });

  it('range selects from the anchor to the click, forwards and backwards, keeping the anchor', () => {
    expect(selectionAfterClick(ids, [10, 17], 2, 5, 'range')).toEqual({ selection: [12, 13, 14, 15], anchor: 2 });
    expect(selectionAfterClick(ids, [10, 17], 6, 3, 'range')).toEqual({ selection: [13, 14, 15, 16], anchor: 6 });
    expect(selectionAfterClick(ids, [], 4, 4, 'range')).toEqual({ selection: [14], anchor: 4 });
    // Shift-click again from the same anchor replaces the previous range.
    const first = selectionAfterClick(ids, [], 1, 6, 'range');
    const second = selectionAfterClick(ids, first.selection, first.anchor, 0, 'range');
    expect(second).toEqual({ selection: [10, 11], anchor: 1 });
  });

  it('addRange adds the range to the existing selection without duplicates', () => {
    const forward = selectionAfterClick(ids, [10, 13, 17], 2, 4, 'addRange');
    expect(sorted(forward.selection)).toEqual([10, 12, 13, 14, 17]);
    expect(forward.selection).toHaveLength(new Set(forward.selection).size);
    expect(forward.anchor).toBe(2);
    const backward = selectionAfterClick(ids, [17], 5, 1, 'addRange');
    expect(sorted(backward.selection)).toEqual([11, 12, 13, 14, 15, 17]);
    expect(backward.anchor).toBe(5);
  });

  it('clamps an anchor that is out of range (no anchor yet, or the list shrank)', () => {
    expect(selectionAfterClick(ids, [], -1, 2, 'range')).toEqual({ selection: [10, 11, 12], anchor: -1 });
    expect(selectionAfterClick(ids, [], 50, 5, 'range').selection).toEqual([15, 16, 17]);
    expect(selectionAfterClick(ids, [11], 99, 6, 'addRange').selection.sort()).toEqual([11, 16, 17]);
  });

  it('ignores a click outside the list', () => {
    const selected = [11, 12];
    for (const mode of ['single', 'toggle', 'range', 'addRange'] as const) {
      const result = selectionAfterClick(ids, selected, 1, 8, mode);
      expect(result, mode).toEqual({ selection: [11, 12], anchor: 1 });
      expect(result.selection).not.toBe(selected);
      expect(selectionAfterClick(ids, selected, 1, -1, mode)).toEqual({ selection: [11, 12], anchor: 1 });
    }
    expect(selectionAfterClick([], [], 0, 0, 'range')).toEqual({ selection: [], anchor: 0 });
  });
});

describe('visibleRange', () => {
  it('covers the rows in the viewport plus overscan', () => {
    // 6 columns, 100px rows, viewport 350px at the top: rows 0..3 visible (ceil(350/100)=4), +2 overscan.
    expect(visibleRange(1000, 6, 100, 0, 350)).toEqual({ start: 0, end: 36, firstRow: 0 });
    // Scrolled to 1050px: first visible row 10, minus 2 overscan = 8; last = ceil(1400/100)+2 = 16.
    expect(visibleRange(1000, 6, 100, 1050, 350)).toEqual({ start: 48, end: 96, firstRow: 8 });
    expect(visibleRange(1000, 6, 100, 1050, 350, 0)).toEqual({ start: 60, end: 84, firstRow: 10 });
  });

  it('clamps to the number of images and never starts before zero', () => {
    expect(visibleRange(20, 6, 100, 0, 10_000)).toEqual({ start: 0, end: 20, firstRow: 0 });
    expect(visibleRange(20, 6, 100, 5000, 300)).toEqual({ start: 20, end: 20, firstRow: 48 });
    expect(visibleRange(0, 6, 100, 0, 300)).toEqual({ start: 0, end: 0, firstRow: 0 });
    expect(visibleRange(1000, 4, 176, 100, 600, 5).firstRow).toBe(0);
  });

  it('treats zero or negative columns as one column', () => {
    expect(visibleRange(100, 0, 50, 500, 100)).toEqual({ start: 8, end: 14, firstRow: 8 });
    expect(visibleRange(100, -3, 50, 500, 100)).toEqual(visibleRange(100, 1, 50, 500, 100));
  });

  it('always includes the tile at the top and at the bottom edge of the viewport', () => {
    const total = 5000;
    const cols = 7;
    const rowHeight = 176;
    for (const scrollTop of [0, 1, 175, 176, 177, 5000, 12345.5]) {
      for (const viewport of [1, 176, 600, 1080]) {
        const { start, end } = visibleRange(total, cols, rowHeight, scrollTop, viewport);
        const topIndex = Math.floor(scrollTop / rowHeight) * cols;
        const bottomIndex = Math.floor((scrollTop + viewport - 1) / rowHeight) * cols + cols - 1;
        expect(start % cols).toBe(0);
        expect(start).toBeLessThanOrEqual(topIndex);
        expect(end).toBeGreaterThan(Math.min(total - 1, bottomIndex));
      }
    }
  });
});

describe('lasso selection', () => {
  const square = [
    { x: 0, y: 0 },
    { x: 10, y: 0 },
    { x: 10, y: 10 },
    { x: 0, y: 10 }
  ];
  it('keeps points inside the drawn polygon only', () => {
    expect(pointInPolygon({ x: 5, y: 5 }, square)).toBe(true);
    expect(pointInPolygon({ x: 15, y: 5 }, square)).toBe(false);
    expect(pointInPolygon({ x: 5, y: -1 }, square)).toBe(false);
    const triangle = [
      { x: 0, y: 0 },
      { x: 10, y: 0 },
      { x: 0, y: 10 }
    ];
    expect(pointInPolygon({ x: 2, y: 2 }, triangle)).toBe(true);
    expect(pointInPolygon({ x: 8, y: 8 }, triangle)).toBe(false);
  });
});
