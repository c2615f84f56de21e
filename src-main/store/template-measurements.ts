/**
 * Measured template accuracies (templates.analyze), kept in the project per model and templates, so
 * the Templates page shows them again when the user comes back (schema version 7).
 */
import { createHash } from 'node:crypto';
import type { TemplateAnalysis } from '../contract';
import type { Db } from './database';

/** The key of a grouping: its templates, trimmed, in order (group names do not change a measurement). */
export function groupsKey(groups: string[][]): string {
  return createHash('sha256')
    .update(JSON.stringify(groups.map((g) => g.map((t) => t.trim()))))
    .digest('hex');
}

export function saveMeasurement(db: Db, modelId: string, groups: string[][], result: TemplateAnalysis, seconds: number): TemplateAnalysis {
  const measuredAt = new Date().toISOString();
  const stored = { ...result, modelId, measuredAt, seconds };
  db.prepare('INSERT OR REPLACE INTO template_measurements (model_id, groups_key, result, seconds, measured_at) VALUES (?, ?, ?, ?, ?)').run(
    modelId,
    groupsKey(groups),
    JSON.stringify(stored),
    seconds,
    measuredAt
  );
  return stored;
}

/** The last measurement of these templates with this model (or, without one, with any model); null when none. */
export function findMeasurement(db: Db, groups: string[][], modelId?: string): TemplateAnalysis | null {
  const key = groupsKey(groups);
  const row = (
    modelId === undefined
      ? db.prepare('SELECT result FROM template_measurements WHERE groups_key = ? ORDER BY measured_at DESC LIMIT 1').get(key)
      : db.prepare('SELECT result FROM template_measurements WHERE groups_key = ? AND model_id = ?').get(key, modelId)
  ) as { result: string } | undefined;
  if (!row) return null;
  try {
    return JSON.parse(row.result) as TemplateAnalysis;
  } catch {
    return null;
  }
}
