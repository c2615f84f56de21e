/** A finished run's experts out of a project (a folder: manifest and weights) and into another as a finished run. */
import { AppError } from '../contract/errors';
import { exportExperts, importExperts } from '../mocoop/export';
import { decodeTable, encodeTable } from '../mocoop/table-codec';
import type { ProjectTraining } from './types';

type Project = Pick<ProjectTraining, 'training'>;

export function exportRun(project: Project, runId: string, dir: string): { manifest: string; weights: string } {
  const run = project.training.run(runId);
  const bytes = project.training.expertTable(runId);
  if (!bytes) throw new AppError('invalid_input', `Run ${runId} has no trained experts to export (status: ${run.status}).`);
  const table = decodeTable(bytes);
  return exportExperts(dir, table, {
    format: 'mocoop-experts',
    version: 1,
    method: run.method,
    run: run.id,
    model: { id: run.modelId },
    classes: (run.settings.classes as string[]) ?? [],
    virtualClasses: (run.settings.virtualClasses as string[]) ?? [],
    experts: table.experts,
    dim: table.dim,
    topK: table.topK,
    tauGate: table.tauGate ?? 0.07,
    mixing: table.mixing ?? 'cosine',
    // Older runs have none stored: the importer then derives it from the settings, as here.
    ...(table.logitScale !== undefined ? { logitScale: table.logitScale } : {}),
    templates: (run.settings.groups as string[][]) ?? [],
    settings: run.settings
  });
}

/** Adds exported experts to this project as a finished run (no training needed to predict). */
export function importRun(project: Project, dir: string): string {
  const { training } = project;
  const { table, manifest } = importExperts(dir);
  const runId = `imported-${manifest.run}`.slice(0, 90);
  if (training.hasRun(runId)) {
    throw new AppError(
      'invalid_input',
      `${dir}: these experts (run ${manifest.run}) are already in this project as run ${runId}. Delete that run first to import them again.`
    );
  }
  training.startRun({
    id: runId,
    method: manifest.method,
    settings: { ...manifest.settings, importedFrom: dir },
    backend: 'imported',
    modelId: manifest.model.id,
    setId: null
  });
  training.saveExpertTable(runId, encodeTable(table));
  training.finishRun(runId, 'done', null);
  return runId;
}
