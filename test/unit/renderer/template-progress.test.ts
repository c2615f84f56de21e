import { describe, expect, it } from 'vitest';
import { analysisFraction, describeAnalysisProgress } from '../../../src-renderer/src/lib/template-progress';

const at = (phase: 'images' | 'templates' | 'scoring', done: number, total: number, etaSeconds: number | null, elapsedSeconds = 4) => ({
  analysisId: 'a',
  phase,
  done,
  total,
  etaSeconds,
  elapsedSeconds
});

describe('template measurement progress', () => {
  it('names the step, the counts and the time left once known, instead of a bare "Measuring…"', () => {
    expect(describeAnalysisProgress(at('images', 480, 2000, null))).toBe('Step 1 of 3 · Encoding images 480 / 2,000 · estimating time left… · 4 s so far');
    expect(describeAnalysisProgress(at('images', 480, 2000, 70.2))).toBe('Step 1 of 3 · Encoding images 480 / 2,000 · about 1 min 11 s left · 4 s so far');
    expect(describeAnalysisProgress(at('images', 0, 0, null))).toContain('all cached');
    expect(describeAnalysisProgress(at('templates', 256, 2400, 9))).toBe(
      'Step 2 of 3 · Encoding prompts (templates × classes) 256 / 2,400 · about 9 s left · 4 s so far'
    );
    expect(describeAnalysisProgress(at('scoring', 0, 1, null))).toBe('Step 3 of 3 · Scoring · estimating time left… · 4 s so far');
  });

  it('fills the bar in order over the three steps', () => {
    const fractions = [at('images', 0, 10, null), at('images', 10, 10, 0), at('templates', 5, 10, 1), at('templates', 10, 10, 0), at('scoring', 1, 1, 0)].map(
      analysisFraction
    );
    expect(fractions).toEqual([...fractions].sort((x, y) => x - y));
    expect(fractions[0]).toBe(0);
    expect(fractions.at(-1)).toBe(1);
  });
});
