import { classSlotCount } from '$contract/template-rule';

export interface TemplateProblem {
  level: 'error' | 'warning';
  message: string;
}

/** Validation as the user types: exactly one {}, not empty, and a warning for duplicates. */
export function templateProblem(text: string, all: readonly string[]): TemplateProblem | null {
  const t = text.trim();
  if (!t) return { level: 'error', message: 'Empty template: write one or remove it.' };
  const holes = classSlotCount(t);
  if (holes === 0) return { level: 'error', message: 'Needs {} where the class name goes, e.g. "a photo of a {}."' };
  if (holes > 1) return { level: 'error', message: 'Use {} only once.' };
  if (all.filter((x) => x === t).length > 1) return { level: 'warning', message: 'Duplicate: this template appears more than once.' };
  return null;
}
