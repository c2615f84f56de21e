/**
 * Revisions of what two windows could both edit: the template groups, each few-shot set, the class
 * list and the project's settings. Triggers (schema version 7) move them on every change, whoever
 * writes; a save that names the revision it started from is refused when the revision moved since.
 */
import { AppError } from '../contract/errors';
import type { Db } from './database';

export type RevisionScope = 'templates' | 'classes' | 'settings' | `fewshot:${number}`;

export interface Revisions {
  templates: number;
  classes: number;
  settings: number;
  /** Per few-shot set, keyed by its id. */
  fewshot: Record<string, number>;
}

/** The current revision of a scope; 0 when it has none (a set that no longer exists). */
export function revisionOf(db: Db, scope: RevisionScope): number {
  return (db.prepare('SELECT value FROM revisions WHERE scope = ?').pluck().get(scope) as number | undefined) ?? 0;
}

export function allRevisions(db: Db): Revisions {
  const rows = db.prepare("SELECT scope, value FROM revisions WHERE scope != '#'").all() as { scope: string; value: number }[];
  const out: Revisions = { templates: 0, classes: 0, settings: 0, fewshot: {} };
  for (const { scope, value } of rows) {
    if (scope.startsWith('fewshot:')) out.fewshot[scope.slice('fewshot:'.length)] = value;
    else if (scope === 'templates' || scope === 'classes' || scope === 'settings') out[scope] = value;
  }
  return out;
}

/** What each scope is called in the message of a refused save. */
function describe(scope: RevisionScope, name?: string): string {
  if (scope === 'templates') return 'The template groups';
  if (scope === 'classes') return 'The classes';
  if (scope === 'settings') return "The project's settings";
  return name ? `The few-shot set "${name}"` : 'This few-shot set';
}

/** The refusal of a save made against an old revision: nothing was written; reload, or save again over the other change. */
export function staleRevisionError(scope: RevisionScope, name?: string): AppError {
  return new AppError(
    'stale_revision',
    `${describe(scope, name)} changed in another window — reload or overwrite. Nothing was saved: reload to see the other change, or overwrite it with yours.`
  );
}

/** Throws the stale-revision refusal when `expected` is given and is not the scope's revision now. */
export function expectRevision(db: Db, scope: RevisionScope, expected: number | undefined, name?: string): void {
  if (expected === undefined) return;
  const now = revisionOf(db, scope);
  if (now === 0 && scope.startsWith('fewshot:')) {
    throw new AppError('not_found', `This few-shot set no longer exists (it was deleted, perhaps in another window); nothing was saved. Reload the sets.`);
  }
  if (now !== expected) throw staleRevisionError(scope, name);
}

/**
 * Runs a write only if the scope is still at `expected` (when given): the check and the write are one
 * transaction, so no other writer can slip in between.
 */
export function guardedWrite<T>(db: Db, scope: RevisionScope, expected: number | undefined, write: () => T, name?: string): T {
  // Immediate: the write lock is taken before the check, so another process cannot write in between.
  return db
    .transaction(() => {
      expectRevision(db, scope, expected, name);
      return write();
    })
    .immediate();
}
