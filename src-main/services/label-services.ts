/**
 * Data management on the Images page, independent of the CLI: a stratified hold-out for images
 * already in the project ("split later") and label exports (CSV, CoOp split JSON, Label Studio JSON),
 * returned for a download and optionally saved on the machine running the services.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { ExportResult, SplitRequest, SplitResult } from '../contract';
import type { Handlers } from '../contract/dispatch';
import { AppError } from '../contract/errors';
import { type ExportFormat, toCoopSplit, toCsv, toLabelStudio } from '../data/label-export';
import { type SplitItem, stratifiedSplit } from '../data/stratified-split';
import type { ProjectStore } from '../store/project-store';
import type { EventBus } from './events';
import { writeFileAtomically } from '../data/export-writer';
import { exportBaseName, exportRows } from './label-export-to';
import { checkOutputFolder } from './output-folder';
import { currentClientId } from '../contract/request-context';

type Names = 'labels.autoSplit' | 'labels.export';

const FORMATS: Record<ExportFormat, { suffix: string; mime: string }> = {
  csv: { suffix: 'labels.csv', mime: 'text/csv' },
  coop: { suffix: 'split_coop.json', mime: 'application/json' },
  labelstudio: { suffix: 'labelstudio.json', mime: 'application/json' }
};

export class LabelServices {
  constructor(
    private readonly project: () => ProjectStore,
    private readonly events: EventBus
  ) {}

  // ---- split later ----------------------------------------------------------------------------

  autoSplit(request: z.output<typeof SplitRequest>): z.output<typeof SplitResult> {
    const store = this.project();
    const includeUnlabeled = request.includeUnlabeled ?? false;
    const keepSets = request.keepFewShotInTrain ?? true;
    if (request.testPercent + request.valPercent >= 100)
      throw new AppError('invalid_input', 'Test and validation together must be less than 100%, so every class keeps images in the train pool.');
    const rows = store.db.prepare('SELECT id, label_id AS labelId, split FROM images ORDER BY id').all() as {
      id: number;
      labelId: number | null;
      split: 'train' | 'val' | 'test';
    }[];
    const inSets = keepSets ? new Set(store.db.prepare('SELECT DISTINCT image_id FROM fewshot_members').pluck().all() as number[]) : new Set<number>();
    const items: (SplitItem<number> & { id: number })[] = rows
      .filter((r) => includeUnlabeled || r.labelId !== null)
      .map((r) => ({ id: r.id, key: r.id, stratum: r.labelId, ...(inSets.has(r.id) ? { fixed: 'train' as const } : {}) }));
    const { splits, counts } = stratifiedSplit(items, { testFraction: request.testPercent / 100, valFraction: request.valPercent / 100, seed: request.seed });
    const classes = new Map(store.listClasses().map((c) => [c.id, c]));
    const perClass = counts
      .map((c) => ({
        classId: c.stratum === null ? null : Number(c.stratum),
        name: c.stratum === null ? '(unlabeled)' : (classes.get(Number(c.stratum))?.name ?? `#${c.stratum}`),
        train: c.train,
        val: c.val,
        test: c.test
      }))
      .sort((a, b) => (a.classId === null ? 1 : b.classId === null ? -1 : (classes.get(a.classId)?.position ?? 0) - (classes.get(b.classId)?.position ?? 0)));
    const total = { train: 0, val: 0, test: 0 };
    perClass.forEach((c) => {
      total.train += c.train;
      total.val += c.val;
      total.test += c.test;
    });
    const current = new Map(rows.map((r) => [r.id, r.split]));
    const updates = items.map((item, i) => ({ id: item.id, split: splits[i]! }));
    const wouldMove = updates.filter((u) => current.get(u.id) !== u.split).length;
    const kept = items.filter((i) => i.fixed).length;
    // The split is a step of the asking window's own label history (its undo, nobody else's).
    const clientId = currentClientId();
    if (request.preview) return { moved: wouldMove, applied: false, total, perClass, kept, history: store.history(clientId) };
    const pct = (x: number) => `${Number(x.toFixed(2))}%`;
    const { moved, history } = store.assignSplits(
      updates,
      `Split ${items.length} images: ${pct(request.testPercent)} test, ${pct(request.valPercent)} validation, seed ${request.seed}`,
      clientId
    );
    if (moved > 0) this.events.emit('project.changed', { reason: 'split' });
    return { moved, applied: true, total, perClass, kept, history };
  }

  // ---- export ---------------------------------------------------------------------------------

  exportLabels(format: ExportFormat, includeUnlabeled: boolean, file?: string): z.output<typeof ExportResult> {
    const store = this.project();
    const classes = store.listClasses();
    const rows = exportRows(store, includeUnlabeled);
    let content: string;
    let imageRoot: string | null = null;
    let left = 0;
    if (format === 'csv') content = toCsv(rows);
    else if (format === 'coop') ({ json: content, imageRoot, left } = toCoopSplit(rows, classes));
    else ({ json: content, imageRoot } = toLabelStudio(rows));
    const base = exportBaseName(store);
    const fileName = `${base}-${FORMATS[format].suffix}`;
    const savedTo = file?.trim() ? this.save(file.trim(), fileName, content) : null;
    return { fileName, mime: FORMATS[format].mime, content, images: rows.length - left, left, imageRoot, savedTo };
  }

  /**
   * Writes to a full path. A folder (one that exists, or a new path ending in a separator or without a
   * file extension) gets the export under its own file name.
   */
  private save(target: string, fileName: string, content: string): string {
    if (!path.isAbsolute(target))
      throw new AppError(
        'invalid_input',
        `"${target}" is not a full path; type where to save the export (for example ${path.join(process.env.HOME ?? '/home/you', fileName)}).`
      );
    const abs = path.resolve(target);
    const exists = fs.existsSync(abs);
    const folder = exists ? fs.statSync(abs).isDirectory() : /[\\/]$/.test(target) || path.extname(abs) === '';
    const file = folder ? path.join(abs, fileName) : abs;
    checkOutputFolder(path.dirname(file), 'the export');
    try {
      // A temporary file renamed into place; an existing file is never replaced from here.
      writeFileAtomically(file, content);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError('bad_source', `The export could not be written to ${file}: ${(error as Error).message}`);
    }
    return file;
  }

  handlers(): Pick<Handlers, Names> {
    return {
      'labels.autoSplit': (request) => {
        try {
          return this.autoSplit(request);
        } catch (error) {
          if (error instanceof RangeError) throw new AppError('invalid_input', `${error.message}.`);
          throw error;
        }
      },
      'labels.export': ({ format, includeUnlabeled, file }) => this.exportLabels(format, includeUnlabeled ?? format === 'labelstudio', file)
    };
  }
}
