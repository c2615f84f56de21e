import { describe, expect, it } from 'vitest';
import { templateProblem } from '../../src-renderer/src/lib/templates';

describe('template validation as you type', () => {
  it('flags empty templates, missing or repeated {} and duplicates', () => {
    expect(templateProblem('  ', [])?.level).toBe('error');
    expect(templateProblem('a photo', [])?.message).toContain('Needs {}');
    expect(templateProblem('{} and {}', [])?.message).toContain('only once');
    expect(templateProblem('a photo of a {}.', ['a photo of a {}.', 'a photo of a {}.'])?.level).toBe('warning');
    expect(templateProblem('a photo of a {}.', ['a photo of a {}.'])).toBeNull();
  });
});
