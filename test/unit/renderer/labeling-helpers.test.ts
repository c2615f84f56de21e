import { describe, expect, it } from 'vitest';
import { hasExactClass, pushRecent, rankClasses } from '../../../src-renderer/src/lib/class-search';
import { PALETTE, assignColorSlots, classColor, setProjectClasses } from '../../../src-renderer/src/lib/colors';
import { autoThumbBox, fitImage, thumbBox } from '../../../src-renderer/src/lib/thumb-size';

const classes = ['cat', 'Catamaran', 'golden retriever', 'bobcat', 'Éclair', 'great dane', 'dog'].map((name, i) => ({ id: i + 1, name }));
const names = (query: string) => rankClasses(classes, query).map((c) => c.name);

describe('class type-ahead', () => {
  it('ranks exact, prefix, word start, initials, substring, then letters in order; ties keep the class order', () => {
    expect(names('cat')).toEqual(['cat', 'Catamaran', 'bobcat']);
    expect(names('ret')).toEqual(['golden retriever', 'great dane']); // a word's start beats letters in order (g-r-e-a-t)
    expect(names('gr')).toEqual(['great dane', 'golden retriever']); // prefix beats initials
    expect(names('gd')).toEqual(['great dane', 'golden retriever']); // initials before letters in order
    expect(names('gldn')).toEqual(['golden retriever']);
    expect(names('ecl')).toEqual(['Éclair']); // accents and case folded
    expect(names('xyz')).toEqual([]);
    expect(names('  ')).toEqual(classes.map((c) => c.name));
  });

  it('knows an exact name regardless of case, and keeps recent classes unique, newest first, bounded', () => {
    expect(hasExactClass(classes, ' CAT ')).toBe(true);
    expect(hasExactClass(classes, 'ca')).toBe(false);
    let recent: number[] = [];
    for (const id of [1, 2, 3, 1, 4, 5, 6, 7, 8, 9, 10]) recent = pushRecent(recent, id);
    expect(recent).toEqual([10, 9, 8, 7, 6, 5, 4, 1]);
  });
});

describe('class colours', () => {
  it('gives 24 classes 24 different colours, each kept when others come and go', () => {
    expect(new Set(PALETTE).size).toBe(24);
    const ids = Array.from({ length: 24 }, (_, i) => i + 1);
    const slots = assignColorSlots(ids);
    expect(new Set(slots.values()).size).toBe(24);
    // Deleting class 3 and adding class 25: 25 takes the free slot; no other class changes colour.
    const after = assignColorSlots([...ids.filter((id) => id !== 3), 25]);
    expect(new Set(after.values()).size).toBe(24);
    for (const id of ids.filter((id) => id !== 3)) expect(after.get(id)).toBe(slots.get(id));
    setProjectClasses([1, 2, 4, 25]);
    expect(classColor(25)).toBe(PALETTE[0 + 2]); // slot 0 is class 1's, 1 is class 2's: the next free one
    expect(classColor(4)).toBe(PALETTE[3]);
  });

  it('keeps every pair of colours clearly apart (CIE76 ΔE ≥ 25)', () => {
    const lab = (hex: string) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
      const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
      const [x, y, z] = [
        (r! * 0.4124 + g! * 0.3576 + b! * 0.1805) / 0.95047,
        r! * 0.2126 + g! * 0.7152 + b! * 0.0722,
        (r! * 0.0193 + g! * 0.1192 + b! * 0.9505) / 1.08883
      ];
      return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
    };
    let min = Infinity;
    for (let i = 0; i < PALETTE.length; i++)
      for (let j = i + 1; j < PALETTE.length; j++) min = Math.min(min, Math.hypot(...lab(PALETTE[i]!).map((v, k) => v - lab(PALETTE[j]!)[k]!)));
    expect(min).toBeGreaterThanOrEqual(25);
  });
});

describe('thumbnail sizing', () => {
  it('gives tiny images small tiles at twice their size, larger ones the medium box', () => {
    expect(autoThumbBox([32, 32, 32])).toBe(64);
    expect(autoThumbBox([28, 28])).toBe(64);
    expect(autoThumbBox([48, 50, 400])).toBe(100);
    expect(autoThumbBox([500, 640])).toBe(116);
    expect(autoThumbBox([])).toBe(116);
    expect(thumbBox('large', [32])).toBe(160);
  });

  it('enlarges small images by whole factors (pixelated), shrinks large ones to fit', () => {
    expect(fitImage(32, 32, 64)).toEqual({ width: 64, height: 64, scale: 2, pixelated: true });
    expect(fitImage(32, 16, 100)).toEqual({ width: 96, height: 48, scale: 3, pixelated: true });
    expect(fitImage(60, 60, 100)).toEqual({ width: 60, height: 60, scale: 1, pixelated: false });
    expect(fitImage(400, 200, 100)).toEqual({ width: 100, height: 50, scale: 0.25, pixelated: false });
    expect(fitImage(32, 32, 700, 500)).toMatchObject({ width: 480, scale: 15 });
  });
});
