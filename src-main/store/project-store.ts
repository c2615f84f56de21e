import path from 'node:path';
import type { ClassInfo, HistoryState, HistoryStep, ImageFilter, ImageRow, ProjectSummary, Split } from '../contract';
import { AppError } from '../contract/errors';
import { type Db, openDatabase, schemaVersion } from './database';
import { FeatureStore } from './feature-store';
import { LabelHistory } from './label-history';

export interface NewImage {
  path: string;
  hash: string;
  width: number;
  height: number;
  bytes: number;
  label: string | null;
  split: Split;
  source: string;
  thumbnail: { mime: string; data: Buffer };
}

interface ImageRecord {
  id: number;
  path: string;
  file_name: string;
  hash: string;
  width: number;
  height: number;
  bytes: number;
  label_id: number | null;
  split: Split;
  missing: number;
  source: string;
}

/** The last two folder names of a path ("train/cat" of /data/train/cat/0001.jpg), for the search. */
export function folderTail(file: string, depth = 2): string {
  const parts = file.split(/[\\/]+/).filter(Boolean);
  return parts.slice(Math.max(0, parts.length - 1 - depth), -1).join('/');
}

const likePattern = (term: string) => `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const toRow = (r: ImageRecord): ImageRow => ({
  id: r.id,
  path: r.path,
  fileName: r.file_name,
  hash: r.hash,
  width: r.width,
  height: r.height,
  bytes: r.bytes,
  labelId: r.label_id,
  split: r.split,
  missing: r.missing === 1,
  source: r.source
});

/**
 * Everything the app keeps in one project file. Every multi-row write is one transaction. Images,
 * classes and the project's own settings live here; the label history (`labels`) and the image-feature
 * cache (`features`) are their own modules on the same connection, reached through the methods below too.
 */
export class ProjectStore {
  /** Labeling with undo/redo (`label_ops`). */
  readonly labels: LabelHistory;
  /** The image-feature cache table (`image_features`). */
  readonly features: FeatureStore;

  private constructor(
    readonly file: string,
    readonly db: Db
  ) {
    this.labels = new LabelHistory(db);
    this.features = new FeatureStore(db);
    // The search matches an image's folders (e.g. "train/cat" of …/train/cat/0001.jpg), not only its file name.
    db.function('mocoop_folders', { deterministic: true }, (p: unknown) => folderTail(String(p ?? '')));
  }

  static create(file: string, name?: string): ProjectStore {
    const db = openDatabase(file, { create: true });
    const store = new ProjectStore(file, db);
    const projectName = name?.trim() || path.basename(file).replace(/\.mocoop$/i, '');
    db.prepare('INSERT INTO project_meta (key, value) VALUES (?, ?), (?, ?)').run('name', projectName, 'created_at', new Date().toISOString());
    return store;
  }

  static open(file: string): ProjectStore {
    const db = openDatabase(file, { create: false });
    return new ProjectStore(file, db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ---- project ----------------------------------------------------------------------------

  get name(): string {
    const row = this.db.prepare("SELECT value FROM project_meta WHERE key = 'name'").pluck().get() as string | undefined;
    return row ?? path.basename(this.file);
  }

  rename(name: string): void {
    this.db.prepare("INSERT INTO project_meta (key, value) VALUES ('name', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(name);
  }

  summary(): ProjectSummary {
    const counts = this.db
      .prepare(
        `SELECT count(*) AS images, count(label_id) AS labeled, coalesce(sum(missing), 0) AS missing,
                coalesce(sum(split = 'train'), 0) AS train, coalesce(sum(split = 'val'), 0) AS val, coalesce(sum(split = 'test'), 0) AS test
         FROM images`
      )
      .get() as { images: number; labeled: number; missing: number; train: number; val: number; test: number };
    const classCount = this.db.prepare('SELECT count(*) FROM classes').pluck().get() as number;
    return {
      path: this.file,
      name: this.name,
      schemaVersion: schemaVersion(this.db),
      imageCount: counts.images,
      labeledCount: counts.labeled,
      classCount,
      missingCount: counts.missing,
      splitCounts: { train: counts.train, val: counts.val, test: counts.test }
    };
  }

  // ---- classes ----------------------------------------------------------------------------

  listClasses(): ClassInfo[] {
    return this.db
      .prepare(
        `SELECT c.id, c.name, c.position, count(i.id) AS imageCount
         FROM classes c LEFT JOIN images i ON i.label_id = c.id
         GROUP BY c.id ORDER BY c.position, c.id`
      )
      .all() as ClassInfo[];
  }

  /** Labeled images per (class, split), present and missing files counted apart. */
  labelCountsBySplit(): { classId: number; split: string; present: number; missing: number }[] {
    return this.db
      .prepare(
        'SELECT label_id AS classId, split, sum(missing = 0) AS present, sum(missing != 0) AS missing FROM images WHERE label_id IS NOT NULL GROUP BY label_id, split'
      )
      .all() as { classId: number; split: string; present: number; missing: number }[];
  }

  getClass(id: number): ClassInfo {
    const found = this.listClasses().find((c) => c.id === id);
    if (!found) throw new AppError('not_found', `Class #${id} no longer exists; reload the class list.`);
    return found;
  }

  private classIdByName(name: string): number | undefined {
    return this.db.prepare('SELECT id FROM classes WHERE name = ?').pluck().get(name) as number | undefined;
  }

  /** CLIP lowercases prompts, so "Cat" and "cat" would be the same class to the model. */
  private assertNameFree(name: string, exceptId?: number): void {
    const key = name.toLocaleLowerCase();
    const clash = this.listClasses().find((c) => c.id !== exceptId && c.name.toLocaleLowerCase() === key);
    if (clash) {
      const same = clash.name === name;
      throw new AppError(
        'conflict',
        `A class named "${clash.name}" already exists${same ? '' : ' (class names differ only in capitals, which CLIP does not tell apart)'}. Choose another name, or merge the two classes.`
      );
    }
  }

  createClass(name: string): ClassInfo {
    this.assertNameFree(name);
    const id = this.insertClass(name);
    return this.getClass(id);
  }

  private insertClass(name: string): number {
    const position = (this.db.prepare('SELECT coalesce(max(position), -1) + 1 FROM classes').pluck().get() as number) ?? 0;
    return Number(this.db.prepare('INSERT INTO classes (name, position) VALUES (?, ?)').run(name, position).lastInsertRowid);
  }

  /** Returns the id of the class with this name, creating it (and recording that) when new. */
  ensureClass(name: string, created: string[]): number {
    const existing = this.classIdByName(name);
    if (existing !== undefined) return existing;
    created.push(name);
    return this.insertClass(name);
  }

  renameClass(id: number, name: string): ClassInfo {
    this.getClass(id);
    this.assertNameFree(name, id);
    this.db.prepare('UPDATE classes SET name = ? WHERE id = ?').run(name, id);
    return this.getClass(id);
  }

  /**
   * Refuses to merge or delete a class of a few-shot set that runs used: the runs' record (and a
   * resume or rerun of them) depends on it.
   */
  private assertNotTrainedOn(classIds: number[], action: string): void {
    if (classIds.length === 0) return;
    const row = this.db
      .prepare(
        `SELECT c.name AS className, s.name AS setName FROM fewshot_classes fc
         JOIN fewshot_sets s ON s.id = fc.set_id JOIN classes c ON c.id = fc.class_id
         WHERE fc.class_id IN (${classIds.map(() => '?').join(', ')}) AND EXISTS (SELECT 1 FROM runs r WHERE r.set_id = s.id) LIMIT 1`
      )
      .get(...classIds) as { className: string; setName: string } | undefined;
    if (row) {
      throw new AppError(
        'conflict',
        `"${row.className}" is a class of the few-shot set "${row.setName}", which training runs used; ${action} it would change what those runs trained on. Delete those runs first (Train page), or keep the class.`
      );
    }
  }

  /** Moves every image of the source classes to the target and deletes the sources. Clears label history. */
  mergeClasses(sourceIds: number[], targetId: number): number {
    this.getClass(targetId);
    const sources = [...new Set(sourceIds)].filter((id) => id !== targetId);
    for (const id of sources) this.getClass(id);
    this.assertNotTrainedOn(sources, 'merging');
    return this.transaction(() => {
      let moved = 0;
      for (const id of sources) {
        moved += this.db.prepare('UPDATE images SET label_id = ? WHERE label_id = ?').run(targetId, id).changes;
        this.db.prepare('DELETE FROM classes WHERE id = ?').run(id);
      }
      this.labels.clear();
      this.compactPositions();
      return moved;
    });
  }

  /** Deletes a class; its images become unlabeled. Clears label history (it refers to the class). */
  deleteClass(id: number): number {
    this.getClass(id);
    this.assertNotTrainedOn([id], 'deleting');
    return this.transaction(() => {
      const unlabeled = this.db.prepare('UPDATE images SET label_id = NULL WHERE label_id = ?').run(id).changes;
      this.db.prepare('DELETE FROM classes WHERE id = ?').run(id);
      this.labels.clear();
      this.compactPositions();
      return unlabeled;
    });
  }

  reorderClasses(ids: number[]): ClassInfo[] {
    const existing = this.listClasses().map((c) => c.id);
    const wanted = new Set(ids);
    if (wanted.size !== ids.length || existing.length !== ids.length || existing.some((id) => !wanted.has(id))) {
      throw new AppError('invalid_input', 'ids: the new order must list every class exactly once.');
    }
    this.transaction(() => {
      const update = this.db.prepare('UPDATE classes SET position = ? WHERE id = ?');
      ids.forEach((id, position) => update.run(position, id));
    });
    return this.listClasses();
  }

  private compactPositions(): void {
    const ids = this.db.prepare('SELECT id FROM classes ORDER BY position, id').pluck().all() as number[];
    const update = this.db.prepare('UPDATE classes SET position = ? WHERE id = ?');
    ids.forEach((id, position) => update.run(position, id));
  }

  // ---- images -----------------------------------------------------------------------------

  private filterSql(filter: ImageFilter): { where: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (filter.classId !== undefined) {
      clauses.push('label_id = ?');
      params.push(filter.classId);
    }
    if (filter.unlabeled) clauses.push('label_id IS NULL');
    if (filter.split) {
      clauses.push('split = ?');
      params.push(filter.split);
    }
    if (filter.missing !== undefined) {
      clauses.push('missing = ?');
      params.push(filter.missing ? 1 : 0);
    }
    // Every word must match the file name, one of its two innermost folders or the image's class name.
    for (const term of filter.search?.trim().split(/\s+/).filter(Boolean) ?? []) {
      clauses.push(
        "(file_name LIKE ? ESCAPE '\\' OR mocoop_folders(path) LIKE ? ESCAPE '\\' OR label_id IN (SELECT id FROM classes WHERE name LIKE ? ESCAPE '\\'))"
      );
      const pattern = likePattern(term);
      params.push(pattern, pattern, pattern);
    }
    const prediction = filter.prediction;
    if (prediction) {
      // Only the images the run evaluated have stored predictions (its test split).
      const parts = ['run_id = ?'];
      params.push(prediction.runId);
      if (prediction.predictedClassId !== undefined) {
        parts.push('predicted_class_id = ?');
        params.push(prediction.predictedClassId);
      }
      if (prediction.correct !== undefined) {
        parts.push('correct = ?');
        params.push(prediction.correct ? 1 : 0);
      }
      if (prediction.minConfidence !== undefined) {
        parts.push("json_extract(data, '$.confidence') >= ?");
        params.push(prediction.minConfidence);
      }
      if (prediction.maxConfidence !== undefined) {
        parts.push("json_extract(data, '$.confidence') <= ?");
        params.push(prediction.maxConfidence);
      }
      clauses.push(`id IN (SELECT image_id FROM run_predictions WHERE ${parts.join(' AND ')})`);
    }
    return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  imageIds(filter: ImageFilter): number[] {
    const { where, params } = this.filterSql(filter);
    return this.db
      .prepare(`SELECT id FROM images ${where} ORDER BY id`)
      .pluck()
      .all(...params) as number[];
  }

  images(ids: number[]): ImageRow[] {
    if (ids.length === 0) return [];
    const rows = this.db.prepare(`SELECT * FROM images WHERE id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(ids)) as ImageRecord[];
    const byId = new Map(rows.map((r) => [r.id, toRow(r)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  allImagePaths(): { id: number; path: string; missing: boolean; bytes: number; hash: string }[] {
    return (
      this.db.prepare('SELECT id, path, missing, bytes, hash FROM images ORDER BY id').all() as {
        id: number;
        path: string;
        missing: number;
        bytes: number;
        hash: string;
      }[]
    ).map((r) => ({ ...r, missing: r.missing === 1 }));
  }

  imageByHash(hash: string): { id: number; path: string } | undefined {
    return this.db.prepare('SELECT id, path FROM images WHERE hash = ?').get(hash) as { id: number; path: string } | undefined;
  }

  imagePath(id: number): string | undefined {
    return this.db.prepare('SELECT path FROM images WHERE id = ?').pluck().get(id) as string | undefined;
  }

  thumbnail(id: number): { mime: string; data: Buffer } | undefined {
    return this.db.prepare('SELECT mime, data FROM thumbnails WHERE image_id = ?').get(id) as { mime: string; data: Buffer } | undefined;
  }

  /** Inserts new images (and their classes) in one transaction; nothing is written if any insert fails. */
  insertImages(items: NewImage[], created: string[]): number {
    const insertImage = this.db.prepare(
      `INSERT INTO images (path, file_name, hash, width, height, bytes, label_id, split, source)
       VALUES (@path, @fileName, @hash, @width, @height, @bytes, @labelId, @split, @source)`
    );
    const insertThumb = this.db.prepare('INSERT INTO thumbnails (image_id, mime, data) VALUES (?, ?, ?)');
    return this.transaction(() => {
      const classIds = new Map<string, number>();
      for (const item of items) {
        const labelId = item.label === null ? null : (classIds.get(item.label) ?? this.ensureClass(item.label, created));
        if (item.label !== null) classIds.set(item.label, labelId!);
        const id = insertImage.run({
          path: item.path,
          fileName: path.basename(item.path),
          hash: item.hash,
          width: item.width,
          height: item.height,
          bytes: item.bytes,
          labelId,
          split: item.split,
          source: item.source
        }).lastInsertRowid;
        insertThumb.run(id, item.thumbnail.mime, item.thumbnail.data);
      }
      return items.length;
    });
  }

  setMissing(updates: { id: number; missing: boolean }[]): void {
    const update = this.db.prepare('UPDATE images SET missing = ? WHERE id = ?');
    this.transaction(() => updates.forEach((u) => update.run(u.missing ? 1 : 0, u.id)));
  }

  relink(updates: { id: number; path: string }[]): void {
    const update = this.db.prepare('UPDATE images SET path = ?, file_name = ?, missing = 0 WHERE id = ?');
    this.transaction(() => updates.forEach((u) => update.run(u.path, path.basename(u.path), u.id)));
  }

  /** Where each import came from ("coop-split:/data/split_zhou_OxfordPets.json", "folder:…"), oldest first. */
  importSources(): string[] {
    return (this.db.prepare('SELECT source FROM imports ORDER BY finished_at, rowid').all() as { source: string }[]).map((r) => r.source);
  }

  recordImport(id: string, source: string, imported: number, skipped: { path: string; reason: string }[]): void {
    this.transaction(() => {
      this.db.prepare('INSERT INTO imports (id, source, imported) VALUES (?, ?, ?)').run(id, source, imported);
      const insert = this.db.prepare('INSERT INTO import_skips (import_id, path, reason) VALUES (?, ?, ?)');
      skipped.forEach((s) => insert.run(id, s.path, s.reason));
    });
  }

  recentSkips(limit = 200): { path: string; reason: string }[] {
    return this.db
      .prepare('SELECT s.path, s.reason FROM import_skips s JOIN imports i ON i.id = s.import_id ORDER BY i.finished_at DESC, s.id LIMIT ?')
      .all(limit) as { path: string; reason: string }[];
  }

  // ---- feature cache (features/feature-cache.ts fills it; the SQL is store/feature-store.ts) ----

  /** Cached features of these content hashes for a model and view (hashes not cached are absent). */
  cachedFeatures(modelId: string, hashes: string[], view = 0): Map<string, Float32Array> {
    return this.features.cached(modelId, hashes, view);
  }

  storeFeatures(modelId: string, items: { hash: string; vector: Float32Array }[], view = 0): void {
    this.features.store(modelId, items, view);
  }

  featureCount(modelId: string, view = 0): number {
    return this.features.count(modelId, view);
  }

  // ---- labeling with undo/redo (store/label-history.ts) -----------------------------------------

  assignLabel(imageIds: number[], classId: number | null, clientId: string | null = null): HistoryState {
    const name = classId === null ? null : this.getClass(classId).name;
    return this.labels.assignLabel(imageIds, classId, name, clientId);
  }

  /** Sets each image's own split in one transaction, as one undoable step (a "split later" hold-out). Returns how many moved. */
  assignSplits(updates: { id: number; split: Split }[], description: string, clientId: string | null = null): { moved: number; history: HistoryState } {
    return this.labels.assignSplits(updates, description, clientId);
  }

  setSplit(imageIds: number[], split: Split, clientId: string | null = null): HistoryState {
    return this.labels.setSplit(imageIds, split, clientId);
  }

  /** Whether this client (window) has steps to undo and redo. */
  history(clientId: string | null = null): HistoryState {
    return this.labels.history(clientId);
  }

  undo(clientId: string | null = null): HistoryStep {
    return this.labels.undo(clientId);
  }

  redo(clientId: string | null = null): HistoryStep {
    return this.labels.redo(clientId);
  }
}
