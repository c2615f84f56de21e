/** What a run's report shows, gathered from the project: the run, its evaluation, steps, stored predictions and every run to compare. */
import { AppError } from '../contract/errors';
import type { ReportInput } from '../mocoop/report';
import type { ProjectTraining } from './types';

/** Everything a report shows for a finished run (predictions as stored at its evaluation). */
export function reportInput(project: Pick<ProjectTraining, 'store' | 'training'>, runId: string, codeVersion: string): ReportInput {
  const { store, training } = project;
  const run = training.run(runId);
  if (!run.metrics) throw new AppError('invalid_input', `Run ${runId} has no evaluation yet (status: ${run.status}). Evaluate it first.`);
  const classes = new Map(store.listClasses().map((c) => [c.id, c.name]));
  const predictions = training.predictions(runId);
  const rows = new Map(store.images(predictions.map((p) => p.imageId)).map((r) => [r.id, r]));
  return {
    run,
    evaluation: run.metrics as unknown as ReportInput['evaluation'],
    steps: training.steps(runId) as unknown as ReportInput['steps'],
    predictions: predictions.map((p) => ({
      path: rows.get(p.imageId)?.path ?? `#${p.imageId}`,
      label: classes.get(p.labelId) ?? `#${p.labelId}`,
      prediction: classes.get(p.predictedClassId) ?? `#${p.predictedClassId}`,
      correct: p.correct,
      topExperts: p.topExperts,
      topWeights: p.topWeights
    })),
    codeVersion,
    project: store.file,
    comparison: training.runs().map((r) => ({
      id: r.id,
      method: r.method,
      status: r.status,
      accuracy: (r.metrics?.accuracy as number | undefined) ?? null,
      base_accuracy: (r.metrics?.base_accuracy as number | null | undefined) ?? null,
      new_accuracy: (r.metrics?.new_accuracy as number | null | undefined) ?? null,
      h: (r.metrics?.h as number | null | undefined) ?? null
    }))
  };
}
