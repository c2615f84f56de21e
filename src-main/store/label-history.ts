/**
 * Labeling with undo/redo: every label or split change is one step in `label_ops` (its changes as
 * before/after values per image), per client (window). Shares the project's connection.
 */
import type { HistoryState, HistoryStep, Split } from '../contract';
import { AppError } from '../contract/errors';
import type { Db } from './database';

interface LabelChange {
  id: number;
  field: 'label_id' | 'split';
  before: number | string | null;
  after: number | string | null;
}

export class LabelHistory {
  constructor(private readonly db: Db) {}

  private transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Forgets every step of every client (a class they refer to was merged or deleted). */
  clear(): void {
    this.db.prepare('DELETE FROM label_ops').run();
  }

  private applyChanges(changes: LabelChange[], direction: 'before' | 'after'): void {
    const setLabel = this.db.prepare('UPDATE images SET label_id = ? WHERE id = ?');
    const setSplit = this.db.prepare('UPDATE images SET split = ? WHERE id = ?');
    for (const c of changes) (c.field === 'label_id' ? setLabel : setSplit).run(c[direction], c.id);
  }

  /**
   * Label history is per client (window): each window undoes and redoes its own steps only. `clientId`
   * null is the unnamed history of callers without a window (the CLI, and steps from before version 7).
   */
  private record(
    field: LabelChange['field'],
    imageIds: number[],
    value: number | string | null,
    description: string,
    clientId: string | null = null
  ): HistoryState {
    this.transaction(() => {
      const current = this.db
        .prepare(`SELECT id, ${field} AS value FROM images WHERE id IN (SELECT value FROM json_each(?))`)
        .all(JSON.stringify(imageIds)) as { id: number; value: number | string | null }[];
      if (current.length !== new Set(imageIds).size) {
        throw new AppError('not_found', 'Some of the selected images no longer exist; reload the grid.');
      }
      const changes: LabelChange[] = current.filter((r) => r.value !== value).map((r) => ({ id: r.id, field, before: r.value, after: value }));
      if (changes.length === 0) return;
      this.applyChanges(changes, 'after');
      this.addOp(description, changes, clientId);
    });
    return this.history(clientId);
  }

  /** Records a step of this client's history; its redo steps are dropped (another window's are kept). */
  private addOp(description: string, changes: LabelChange[], clientId: string | null): void {
    this.db.prepare('DELETE FROM label_ops WHERE undone = 1 AND client_id IS ?').run(clientId);
    this.db.prepare('INSERT INTO label_ops (description, changes, client_id) VALUES (?, ?, ?)').run(description, JSON.stringify(changes), clientId);
  }

  /** Labels the images with a class (its name, for the step's description), or unlabels them (null). */
  assignLabel(imageIds: number[], classId: number | null, className: string | null, clientId: string | null = null): HistoryState {
    const what = `${imageIds.length} image${imageIds.length === 1 ? '' : 's'}`;
    return this.record('label_id', imageIds, classId, className === null ? `Unlabel ${what}` : `Label ${what} as ${className}`, clientId);
  }

  /** Sets each image's own split in one transaction, as one undoable step (a "split later" hold-out). Returns how many moved. */
  assignSplits(updates: { id: number; split: Split }[], description: string, clientId: string | null = null): { moved: number; history: HistoryState } {
    let moved = 0;
    this.transaction(() => {
      const current = new Map(
        (
          this.db.prepare('SELECT id, split FROM images WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(updates.map((u) => u.id))) as {
            id: number;
            split: Split;
          }[]
        ).map((r) => [r.id, r.split])
      );
      if (current.size !== new Set(updates.map((u) => u.id)).size) throw new AppError('not_found', 'Some images no longer exist; reload the grid.');
      const changes: LabelChange[] = updates
        .filter((u) => current.get(u.id) !== u.split)
        .map((u) => ({ id: u.id, field: 'split', before: current.get(u.id)!, after: u.split }));
      moved = changes.length;
      if (changes.length === 0) return;
      this.applyChanges(changes, 'after');
      this.addOp(description, changes, clientId);
    });
    return { moved, history: this.history(clientId) };
  }

  setSplit(imageIds: number[], split: Split, clientId: string | null = null): HistoryState {
    return this.record('split', imageIds, split, `Move ${imageIds.length} image${imageIds.length === 1 ? '' : 's'} to ${split}`, clientId);
  }

  /** Whether this client (window) has steps to undo and redo. */
  history(clientId: string | null = null): HistoryState {
    const row = this.db
      .prepare('SELECT coalesce(sum(undone = 0), 0) AS done, coalesce(sum(undone = 1), 0) AS undone FROM label_ops WHERE client_id IS ?')
      .get(clientId) as {
      done: number;
      undone: number;
    };
    return { canUndo: row.done > 0, canRedo: row.undone > 0 };
  }

  /**
   * Undoes (redoes) this client's last (next) step. An image another window changed since keeps that
   * window's value: only the images still as this step left them (found them) are changed back.
   */
  private step(direction: 'undo' | 'redo', clientId: string | null): HistoryStep {
    return this.transaction(() => {
      const op = this.db
        .prepare(
          direction === 'undo'
            ? 'SELECT id, description, changes FROM label_ops WHERE undone = 0 AND client_id IS ? ORDER BY id DESC LIMIT 1'
            : 'SELECT id, description, changes FROM label_ops WHERE undone = 1 AND client_id IS ? ORDER BY id ASC LIMIT 1'
        )
        .get(clientId) as { id: number; description: string; changes: string } | undefined;
      if (!op) return { ...this.history(clientId), changedImageIds: [], description: direction === 'undo' ? 'Nothing to undo' : 'Nothing to redo' };
      const changes = JSON.parse(op.changes) as LabelChange[];
      const expected = direction === 'undo' ? 'after' : 'before';
      const now = new Map<string, number | string | null>();
      for (const field of ['label_id', 'split'] as const) {
        const ids = changes.filter((c) => c.field === field).map((c) => c.id);
        if (ids.length === 0) continue;
        const rows = this.db.prepare(`SELECT id, ${field} AS value FROM images WHERE id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(ids)) as {
          id: number;
          value: number | string | null;
        }[];
        for (const r of rows) now.set(`${field}:${r.id}`, r.value);
      }
      const applicable = changes.filter((c) => now.has(`${c.field}:${c.id}`) && now.get(`${c.field}:${c.id}`) === c[expected]);
      this.applyChanges(applicable, direction === 'undo' ? 'before' : 'after');
      this.db.prepare('UPDATE label_ops SET undone = ? WHERE id = ?').run(direction === 'undo' ? 1 : 0, op.id);
      const kept = new Set(changes.filter((c) => !applicable.includes(c)).map((c) => c.id)).size;
      const note = kept
        ? ` (${kept} image${kept === 1 ? '' : 's'} changed since in another window or deleted kept as ${kept === 1 ? 'it is' : 'they are'})`
        : '';
      return {
        ...this.history(clientId),
        changedImageIds: [...new Set(applicable.map((c) => c.id))],
        description: `${direction === 'undo' ? 'Undid' : 'Redid'}: ${op.description}${note}`
      };
    });
  }

  undo(clientId: string | null = null): HistoryStep {
    return this.step('undo', clientId);
  }

  redo(clientId: string | null = null): HistoryStep {
    return this.step('redo', clientId);
  }
}
