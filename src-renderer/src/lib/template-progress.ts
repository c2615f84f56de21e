import { formatDuration } from '$contract/format';
import type { TemplateAnalysisProgress } from '$contract/index';

const PHASES: Record<TemplateAnalysisProgress['phase'], { step: number; what: string }> = {
  images: { step: 1, what: 'Encoding images' },
  templates: { step: 2, what: 'Encoding prompts (templates × classes)' },
  scoring: { step: 3, what: 'Scoring' }
};

/** One line for a template measurement in progress: the step, its counts, the time left once known. */
export function describeAnalysisProgress(p: TemplateAnalysisProgress): string {
  const phase = PHASES[p.phase];
  const counts = p.phase === 'scoring' ? '' : ` ${p.done.toLocaleString('en')} / ${p.total.toLocaleString('en')}`;
  const left =
    p.phase === 'images' && p.total === 0
      ? 'all cached'
      : p.done >= p.total
        ? 'done'
        : p.etaSeconds === null
          ? 'estimating time left…'
          : `about ${formatDuration(p.etaSeconds)} left`;
  return `Step ${phase.step} of 3 · ${phase.what}${counts} · ${left} · ${formatDuration(p.elapsedSeconds)} so far`;
}

/** The share of a measurement done, 0–1, over its three steps (images weigh most). */
export function analysisFraction(p: TemplateAnalysisProgress): number {
  const within = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  if (p.phase === 'images') return 0.7 * within;
  if (p.phase === 'templates') return 0.7 + 0.28 * within;
  return 0.98 + 0.02 * within;
}
