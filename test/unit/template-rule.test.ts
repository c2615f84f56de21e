import { describe, expect, it } from 'vitest';
import { classSlotCount, hasOneClassSlot } from '../../src-main/contract/template-rule';

describe('the {} rule of templates', () => {
  it('counts the class slots and accepts exactly one', () => {
    expect(classSlotCount('a photo of a {}.')).toBe(1);
    expect(classSlotCount('a photo.')).toBe(0);
    expect(classSlotCount('{} and {}')).toBe(2);
    expect(hasOneClassSlot('{} texture.')).toBe(true);
    expect(hasOneClassSlot('a { } photo')).toBe(false);
    expect(hasOneClassSlot('{}{}')).toBe(false);
  });
});
