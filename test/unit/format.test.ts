import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration } from '../../src-main/contract/format';

describe('formatBytes', () => {
  it('uses binary units and switches unit at each power of 1024', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KB');
    expect(formatBytes(15 * 1024)).toBe('15 KB');
    expect(formatBytes(2 ** 20)).toBe('1.0 MB');
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1.50 GB');
  });
  it('says nothing rather than nonsense for impossible sizes', () => {
    expect(formatBytes(-1)).toBe('—');
    expect(formatBytes(Number.NaN)).toBe('—');
  });
});

describe('formatDuration', () => {
  it('rounds up and pads the smaller unit', () => {
    expect(formatDuration(0.2)).toBe('1 s');
    expect(formatDuration(59)).toBe('59 s');
    expect(formatDuration(65)).toBe('1 min 05 s');
    expect(formatDuration(2 * 3600 + 10 * 60)).toBe('2 h 10 min');
  });
  it('is a dash when the time is unknown', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('—');
  });
});
