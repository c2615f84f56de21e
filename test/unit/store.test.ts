import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src-main/contract/errors';
import { openDatabase } from '../../src-main/store/database';
import { LATEST_SCHEMA_VERSION } from '../../src-main/store/migrations';
import { type NewImage, ProjectStore } from '../../src-main/store/project-store';
import { tempDir } from '../helpers/temp';

/** Runs `fn` and returns the AppError it throws (fails the test when it throws nothing or something else). */
function appErrorOf(fn: () => unknown): AppError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected an AppError to be thrown').toBeInstanceOf(AppError);
  return caught as AppError;
}

/** A database row for tests that do not need real image files. */
function fakeImage(n: number, overrides: Partial<NewImage> = {}): NewImage {
  return {
    path: `/photos/img_${n}.jpg`,
    hash: `hash-${n}`,
    width: 10 + n,
    height: 20 + n,
    bytes: 1000 + n,
    label: null,
    split: 'train',
    source: 'test',
    thumbnail: { mime: 'image/jpeg', data: Buffer.from([0xff, 0xd8, n]) },
    ...overrides
  };
}

const userVersion = (file: string): number => {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
};

const tableNames = (store: ProjectStore): string[] =>
  store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];

const count = (store: ProjectStore, table: string): number => store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

let tmp: ReturnType<typeof tempDir>;
const open: ProjectStore[] = [];
const track = (store: ProjectStore) => (open.push(store), store);

beforeEach(() => {
  tmp = tempDir('mocoop-store-');
});
afterEach(() => {
  for (const store of open.splice(0)) store.close();
  tmp.cleanup();
});

describe('migrations and opening files', () => {
  it('version 5 keeps the labels of sets already used by a run, and only of those', () => {
    const file = path.join(tmp.dir, 'v4.mocoop');
    const db = openDatabase(file, { create: true, targetVersion: 4 });
    db.prepare("INSERT INTO classes (id, name, position) VALUES (1, 'ant', 0), (2, 'bee', 1)").run();
    db.prepare(
      `INSERT INTO images (id, path, file_name, hash, width, height, bytes, label_id, split, source)
       VALUES (1, '/a.jpg', 'a.jpg', 'h1', 1, 1, 1, 1, 'train', 't'), (2, '/b.jpg', 'b.jpg', 'h2', 1, 1, 1, 2, 'train', 't')`
    ).run();
    db.prepare("INSERT INTO fewshot_sets (id, name, frozen) VALUES (1, 'used', 1), (2, 'fresh', 0)").run();
    db.prepare('INSERT INTO fewshot_members (set_id, image_id) VALUES (1, 1), (1, 2), (2, 1)').run();
    db.close();
    const store = track(ProjectStore.open(file));
    expect(store.db.prepare('SELECT set_id, image_id, label_id FROM fewshot_members ORDER BY set_id, image_id').all()).toEqual([
      { set_id: 1, image_id: 1, label_id: 1 },
      { set_id: 1, image_id: 2, label_id: 2 },
      { set_id: 2, image_id: 1, label_id: null }
    ]);
  });

  it('upgrades a version-1 file in place and keeps its data', () => {
    const file = path.join(tmp.dir, 'old.mocoop');
    const db = openDatabase(file, { create: true, targetVersion: 1 });
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    db.prepare("INSERT INTO project_meta (key, value) VALUES ('name', 'Old project')").run();
    db.prepare("INSERT INTO classes (id, name, position) VALUES (7, 'sparrow', 0)").run();
    db.prepare(
      `INSERT INTO images (id, path, file_name, hash, width, height, bytes, label_id, split, source)
       VALUES (3, '/birds/s1.jpg', 's1.jpg', 'abc123', 640, 480, 54321, 7, 'val', 'folder:/birds')`
    ).run();
    db.prepare("INSERT INTO thumbnails (image_id, mime, data) VALUES (3, 'image/jpeg', ?)").run(Buffer.from([1, 2, 3, 4]));
    const tablesAtV1 = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tablesAtV1).not.toContain('label_ops');
    db.close();
    expect(userVersion(file)).toBe(1);

    const store = track(ProjectStore.open(file));
    const summary = store.summary();
    expect(LATEST_SCHEMA_VERSION).toBeGreaterThan(1);
    expect(summary.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(summary).toMatchObject({ name: 'Old project', imageCount: 1, labeledCount: 1, classCount: 1, splitCounts: { train: 0, val: 1, test: 0 } });
    expect(store.listClasses()).toEqual([{ id: 7, name: 'sparrow', position: 0, imageCount: 1 }]);
    expect(store.images([3])).toEqual([
      {
        id: 3,
        path: '/birds/s1.jpg',
        fileName: 's1.jpg',
        hash: 'abc123',
        width: 640,
        height: 480,
        bytes: 54321,
        labelId: 7,
        split: 'val',
        missing: false,
        source: 'folder:/birds'
      }
    ]);
    expect(store.thumbnail(3)).toEqual({ mime: 'image/jpeg', data: Buffer.from([1, 2, 3, 4]) });
    expect(tableNames(store)).toEqual(expect.arrayContaining(['label_ops', 'imports', 'import_skips']));
    // The new tables work on the upgraded file.
    expect(store.assignLabel([3], null)).toEqual({ canUndo: true, canRedo: false });
    store.close();
    expect(userVersion(file)).toBe(LATEST_SCHEMA_VERSION);
  });

  it('refuses a project saved by a newer app and leaves the file unchanged', () => {
    const file = path.join(tmp.dir, 'future.mocoop');
    const made = ProjectStore.create(file, 'Future');
    made.db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`);
    made.close();
    const before = fs.readFileSync(file);

    const error = appErrorOf(() => ProjectStore.open(file));
    expect(error.code).toBe('bad_project');
    expect(error.message).toMatch(/newer/);
    expect(error.message).toContain(file);

    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(userVersion(file)).toBe(LATEST_SCHEMA_VERSION + 5);
  });

  it('does not change a newer project file even when it is not in WAL mode', () => {
    // A newer app (or a copy made with the sqlite3 tool) may keep the file in rollback-journal mode.
    // The refusal message promises "the file was not changed", so opening must not convert it to WAL.
    const file = path.join(tmp.dir, 'future-journal.mocoop');
    const db = new Database(file);
    db.exec('CREATE TABLE project_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    db.close();
    const before = fs.readFileSync(file);

    const error = appErrorOf(() => ProjectStore.open(file));
    expect(error.code).toBe('bad_project');
    expect(error.message).toMatch(/newer/);
    expect(userVersion(file)).toBe(LATEST_SCHEMA_VERSION + 1);
    const after = fs.readFileSync(file);
    // Bytes 18 and 19 of the header are the file format versions: 1 = rollback journal, 2 = WAL.
    expect([after[18], after[19]]).toEqual([before[18], before[19]]);
    expect(after.equals(before)).toBe(true);
  });

  it('refuses a file that is not an SQLite database', () => {
    const file = path.join(tmp.dir, 'notes.mocoop');
    fs.writeFileSync(file, 'These are my notes, not a database. '.repeat(20));
    const before = fs.readFileSync(file);
    const error = appErrorOf(() => ProjectStore.open(file));
    expect(error.code).toBe('bad_project');
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/not a MoCoOp Workbench project/);
    expect(error.message).toMatch(/not an SQLite database/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses an SQLite database that is not a project', () => {
    const file = path.join(tmp.dir, 'other.db');
    const db = new Database(file);
    db.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Ada');");
    db.close();
    const error = appErrorOf(() => ProjectStore.open(file));
    expect(error.code).toBe('bad_project');
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/SQLite database but not a MoCoOp Workbench project/);
    // Nothing was migrated into it.
    const check = new Database(file, { readonly: true });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all()).toEqual(['customers']);
    expect(check.pragma('user_version', { simple: true })).toBe(0);
    check.close();
  });

  it('leaves a foreign SQLite database byte-for-byte unchanged when refusing it', () => {
    const file = path.join(tmp.dir, 'someone-elses.db');
    const db = new Database(file);
    db.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);');
    db.close();
    const before = fs.readFileSync(file);
    expect(appErrorOf(() => ProjectStore.open(file)).code).toBe('bad_project');
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('reports a missing file and a folder clearly', () => {
    const missing = path.join(tmp.dir, 'nope.mocoop');
    const error = appErrorOf(() => ProjectStore.open(missing));
    expect(error.code).toBe('not_found');
    expect(error.message).toContain(missing);
    expect(fs.existsSync(missing)).toBe(false);

    const folder = path.join(tmp.dir, 'folder.mocoop');
    fs.mkdirSync(folder);
    const folderError = appErrorOf(() => ProjectStore.open(folder));
    expect(folderError.code).toBe('bad_project');
    expect(folderError.message).toMatch(/folder/);
  });

  it('create refuses an existing file and leaves it alone', () => {
    const file = path.join(tmp.dir, 'taken.mocoop');
    fs.writeFileSync(file, 'precious');
    const error = appErrorOf(() => ProjectStore.create(file));
    expect(error.code).toBe('conflict');
    expect(error.message).toContain(file);
    expect(fs.readFileSync(file, 'utf8')).toBe('precious');

    const existingProject = path.join(tmp.dir, 'real.mocoop');
    ProjectStore.create(existingProject, 'Real').close();
    expect(appErrorOf(() => ProjectStore.create(existingProject)).code).toBe('conflict');
    const reopened = track(ProjectStore.open(existingProject));
    expect(reopened.name).toBe('Real');
  });

  it('create refuses a folder that does not exist, and names new projects after the file', () => {
    const error = appErrorOf(() => ProjectStore.create(path.join(tmp.dir, 'no', 'such', 'dir', 'p.mocoop')));
    expect(error.code).toBe('not_found');
    expect(error.message).toContain(path.join(tmp.dir, 'no', 'such', 'dir'));

    const store = track(ProjectStore.create(path.join(tmp.dir, 'Bird survey.mocoop')));
    expect(store.name).toBe('Bird survey');
    expect(store.summary()).toMatchObject({ schemaVersion: LATEST_SCHEMA_VERSION, imageCount: 0, classCount: 0 });
  });
});

describe('insertImages is one transaction', () => {
  it('writes nothing (no images, thumbnails or classes) when a later item violates the unique hash', () => {
    const store = track(ProjectStore.create(path.join(tmp.dir, 'tx.mocoop')));
    const existingClass = store.createClass('existing');
    store.insertImages([fakeImage(100, { label: 'existing' })], []);
    expect(count(store, 'images')).toBe(1);
    expect(count(store, 'thumbnails')).toBe(1);

    const batch = [
      fakeImage(1, { label: 'alpha' }),
      fakeImage(2, { label: 'beta', split: 'val' }),
      fakeImage(3, { label: 'existing' }),
      fakeImage(4, { label: 'gamma', hash: 'hash-1' }) // same hash as the first item of the batch
    ];
    expect(() => store.insertImages(batch, [])).toThrow(/UNIQUE/);

    expect(count(store, 'images')).toBe(1);
    expect(count(store, 'thumbnails')).toBe(1);
    expect(store.listClasses().map((c) => c.name)).toEqual(['existing']);
    expect(store.listClasses()[0]).toMatchObject({ id: existingClass.id, imageCount: 1 });
    expect(store.imageByHash('hash-1')).toBeUndefined();
    expect(store.imageByHash('hash-100')).toBeDefined();
  });

  it('inserts a batch with its classes and thumbnails, reusing existing classes', () => {
    const store = track(ProjectStore.create(path.join(tmp.dir, 'ok.mocoop')));
    store.createClass('cat');
    const created: string[] = [];
    const n = store.insertImages([fakeImage(1, { label: 'cat' }), fakeImage(2, { label: 'dog' }), fakeImage(3, { label: 'dog' }), fakeImage(4)], created);
    expect(n).toBe(4);
    expect(created).toEqual(['dog']);
    expect(store.listClasses().map((c) => [c.name, c.position, c.imageCount])).toEqual([
      ['cat', 0, 1],
      ['dog', 1, 2]
    ]);
    expect(count(store, 'thumbnails')).toBe(4);
    const [first] = store.images(store.imageIds({}).slice(0, 1));
    expect(first).toMatchObject({ fileName: 'img_1.jpg', path: '/photos/img_1.jpg', width: 11, height: 21, bytes: 1001, split: 'train', missing: false });
  });
});

describe('labeling, undo and redo', () => {
  let store: ProjectStore;
  let file: string;
  let ids: number[];
  let cat: number;
  let dog: number;

  beforeEach(() => {
    file = path.join(tmp.dir, 'label.mocoop');
    store = track(ProjectStore.create(file));
    cat = store.createClass('cat').id;
    dog = store.createClass('dog').id;
    store.insertImages([fakeImage(1, { label: 'dog' }), fakeImage(2), fakeImage(3, { split: 'test' }), fakeImage(4, { label: 'cat', split: 'val' })], []);
    ids = store.imageIds({});
  });

  const state = () => store.images(ids).map((r) => [r.labelId, r.split]);

  it('round-trips assignLabel and setSplit through undo and redo, restoring exact values', () => {
    const initial = state();
    expect(initial).toEqual([
      [dog, 'train'],
      [null, 'train'],
      [null, 'test'],
      [cat, 'val']
    ]);
    expect(store.history()).toEqual({ canUndo: false, canRedo: false });

    expect(store.assignLabel([ids[0]!, ids[1]!, ids[2]!], cat)).toEqual({ canUndo: true, canRedo: false });
    const afterLabel = state();
    expect(afterLabel).toEqual([
      [cat, 'train'],
      [cat, 'train'],
      [cat, 'test'],
      [cat, 'val']
    ]);
    expect(store.setSplit([ids[1]!, ids[2]!, ids[3]!], 'val')).toEqual({ canUndo: true, canRedo: false });
    const afterSplit = state();
    expect(afterSplit).toEqual([
      [cat, 'train'],
      [cat, 'val'],
      [cat, 'val'],
      [cat, 'val']
    ]);

    const undoSplit = store.undo();
    expect(undoSplit).toMatchObject({ canUndo: true, canRedo: true });
    expect(undoSplit.description).toMatch(/^Undid: Move/);
    // Image 4 was already 'val', so it is not part of the change.
    expect(undoSplit.changedImageIds.sort()).toEqual([ids[1]!, ids[2]!].sort());
    expect(state()).toEqual(afterLabel);

    const undoLabel = store.undo();
    expect(undoLabel).toMatchObject({ canUndo: false, canRedo: true });
    expect(undoLabel.changedImageIds.sort()).toEqual([ids[0]!, ids[1]!, ids[2]!].sort());
    expect(undoLabel.description).toContain('cat');
    expect(state()).toEqual(initial);

    const nothing = store.undo();
    expect(nothing).toEqual({ canUndo: false, canRedo: true, changedImageIds: [], description: 'Nothing to undo' });
    expect(state()).toEqual(initial);

    expect(store.redo()).toMatchObject({ canUndo: true, canRedo: true });
    expect(state()).toEqual(afterLabel);
    expect(store.redo()).toMatchObject({ canUndo: true, canRedo: false });
    expect(state()).toEqual(afterSplit);
    expect(store.redo()).toMatchObject({ changedImageIds: [], description: 'Nothing to redo' });
    expect(state()).toEqual(afterSplit);
  });

  it('a new change after undo clears the redo stack', () => {
    store.assignLabel([ids[1]!], cat);
    store.assignLabel([ids[2]!], dog);
    store.undo();
    expect(store.history()).toEqual({ canUndo: true, canRedo: true });
    expect(store.setSplit([ids[0]!], 'test')).toEqual({ canUndo: true, canRedo: false });
    expect(store.redo().changedImageIds).toEqual([]);
    expect(store.images([ids[2]!])[0]!.labelId).toBeNull();
    store.undo();
    store.undo();
    expect(store.history()).toEqual({ canUndo: false, canRedo: true });
    expect(state()).toEqual([
      [dog, 'train'],
      [null, 'train'],
      [null, 'test'],
      [cat, 'val']
    ]);
  });

  it('unlabel is undoable and changes that change nothing are not recorded', () => {
    expect(store.assignLabel([ids[0]!], dog)).toEqual({ canUndo: false, canRedo: false });
    expect(count(store, 'label_ops')).toBe(0);
    store.assignLabel([ids[0]!, ids[3]!], null);
    expect(state().map((s) => s[0])).toEqual([null, null, null, null]);
    const step = store.undo();
    expect(step.description).toMatch(/Unlabel 2 images/);
    expect(state().map((s) => s[0])).toEqual([dog, null, null, cat]);
  });

  it('rejects unknown images and classes without recording anything', () => {
    const missing = appErrorOf(() => store.assignLabel([ids[0]!, 99999], cat));
    expect(missing.code).toBe('not_found');
    const noClass = appErrorOf(() => store.assignLabel([ids[0]!], 4242));
    expect(noClass.code).toBe('not_found');
    expect(appErrorOf(() => store.setSplit([77777], 'val')).code).toBe('not_found');
    expect(store.history()).toEqual({ canUndo: false, canRedo: false });
    expect(state()[0]).toEqual([dog, 'train']);
  });

  it('keeps undo history across closing and reopening the file', () => {
    store.assignLabel([ids[1]!, ids[2]!], dog);
    store.setSplit([ids[0]!], 'test');
    store.assignLabel([ids[3]!], null);
    store.undo();
    store.close();

    const reopened = track(ProjectStore.open(file));
    expect(reopened.history()).toEqual({ canUndo: true, canRedo: true });
    const rows = () => reopened.images(ids).map((r) => [r.labelId, r.split]);
    expect(rows()).toEqual([
      [dog, 'test'],
      [dog, 'train'],
      [dog, 'test'],
      [cat, 'val']
    ]);
    reopened.redo();
    expect(rows()[3]).toEqual([null, 'val']);
    reopened.undo();
    reopened.undo();
    reopened.undo();
    expect(reopened.history()).toEqual({ canUndo: false, canRedo: true });
    expect(rows()).toEqual([
      [dog, 'train'],
      [null, 'train'],
      [null, 'test'],
      [cat, 'val']
    ]);
  });

  it('deleteClass unlabels its images, returns the count and clears history', () => {
    store.assignLabel([ids[1]!], dog);
    expect(store.history().canUndo).toBe(true);
    expect(store.deleteClass(dog)).toBe(2);
    expect(store.listClasses()).toEqual([{ id: cat, name: 'cat', position: 0, imageCount: 1 }]);
    expect(state().map((s) => s[0])).toEqual([null, null, null, cat]);
    expect(store.history()).toEqual({ canUndo: false, canRedo: false });
    expect(store.imageIds({ unlabeled: true })).toEqual([ids[0]!, ids[1]!, ids[2]!]);
    expect(appErrorOf(() => store.deleteClass(dog)).code).toBe('not_found');
  });

  it('mergeClasses moves images into the target and removes the sources', () => {
    const bird = store.createClass('bird').id;
    store.assignLabel([ids[2]!], bird);
    const moved = store.mergeClasses([dog, bird, cat], cat);
    expect(moved).toBe(2);
    expect(store.listClasses()).toEqual([{ id: cat, name: 'cat', position: 0, imageCount: 3 }]);
    expect(state().map((s) => s[0])).toEqual([cat, null, cat, cat]);
    expect(store.history()).toEqual({ canUndo: false, canRedo: false });
    expect(appErrorOf(() => store.mergeClasses([12345], cat)).code).toBe('not_found');
    expect(appErrorOf(() => store.mergeClasses([cat], 12345)).code).toBe('not_found');
  });

  it('renameClass and createClass refuse a name that is taken', () => {
    const conflict = appErrorOf(() => store.renameClass(dog, 'cat'));
    expect(conflict.code).toBe('conflict');
    expect(conflict.message).toContain('"cat"');
    expect(store.getClass(dog).name).toBe('dog');
    expect(store.renameClass(dog, 'dog')).toMatchObject({ id: dog, name: 'dog' });
    expect(store.renameClass(dog, 'wolf')).toMatchObject({ id: dog, name: 'wolf', imageCount: 1 });
    expect(appErrorOf(() => store.createClass('wolf')).code).toBe('conflict');
    // Names that differ only in capitals are one class to CLIP; a class may change its own capitals.
    expect(appErrorOf(() => store.createClass('Wolf')).message).toBe(
      'A class named "wolf" already exists (class names differ only in capitals, which CLIP does not tell apart). Choose another name, or merge the two classes.'
    );
    expect(store.renameClass(dog, 'Wolf')).toMatchObject({ id: dog, name: 'Wolf' });
    expect(appErrorOf(() => store.renameClass(999, 'x')).code).toBe('not_found');
  });

  it('reorderClasses applies a full permutation and rejects anything else', () => {
    const bird = store.createClass('bird').id;
    expect(store.reorderClasses([bird, cat, dog]).map((c) => [c.id, c.position])).toEqual([
      [bird, 0],
      [cat, 1],
      [dog, 2]
    ]);
    for (const bad of [[bird, cat], [bird, cat, dog, 999], [bird, cat, cat], [bird, bird, dog], []]) {
      const error = appErrorOf(() => store.reorderClasses(bad));
      expect(error.code).toBe('invalid_input');
      expect(error.message).toMatch(/ids/);
    }
    expect(store.listClasses().map((c) => c.id)).toEqual([bird, cat, dog]);
  });
});

describe('imageIds filters', () => {
  it('filters by class, unlabeled, split, missing and literal search text', () => {
    const store = track(ProjectStore.create(path.join(tmp.dir, 'filters.mocoop')));
    store.insertImages(
      [
        fakeImage(1, { path: '/p/100%.jpg', label: 'a' }),
        fakeImage(2, { path: '/p/100x.jpg', label: 'a', split: 'val' }),
        fakeImage(3, { path: '/p/snake_case.png', label: 'b', split: 'test' }),
        fakeImage(4, { path: '/p/snakeXcase.png' }),
        fakeImage(5, { path: '/p/back\\slash.jpg', split: 'val' }),
        fakeImage(6, { path: '/p/UPPER Cat.jpg', label: 'b' })
      ],
      []
    );
    const ids = store.imageIds({});
    expect(ids).toHaveLength(6);
    const [i1, i2, i3, i4, i5, i6] = ids as [number, number, number, number, number, number];
    const [a, b] = store.listClasses().map((c) => c.id) as [number, number];
    store.setMissing([
      { id: i2, missing: true },
      { id: i6, missing: true }
    ]);

    expect(store.imageIds({ classId: a })).toEqual([i1, i2]);
    expect(store.imageIds({ classId: b })).toEqual([i3, i6]);
    expect(store.imageIds({ unlabeled: true })).toEqual([i4, i5]);
    expect(store.imageIds({ unlabeled: false })).toEqual(ids);
    expect(store.imageIds({ split: 'val' })).toEqual([i2, i5]);
    expect(store.imageIds({ split: 'test' })).toEqual([i3]);
    expect(store.imageIds({ missing: true })).toEqual([i2, i6]);
    expect(store.imageIds({ missing: false })).toEqual([i1, i3, i4, i5]);
    expect(store.imageIds({ classId: a, split: 'val', missing: true })).toEqual([i2]);
    expect(store.imageIds({ classId: b, unlabeled: true })).toEqual([]);

    // % and _ are literal characters, not LIKE wildcards.
    expect(store.imageIds({ search: '0%' })).toEqual([i1]);
    expect(store.imageIds({ search: '%' })).toEqual([i1]);
    expect(store.imageIds({ search: 'e_c' })).toEqual([i3]);
    expect(store.imageIds({ search: '_' })).toEqual([i3]);
    expect(store.imageIds({ search: 'k\\s' })).toEqual([i5]);
    // Plain text: substring, case-insensitive, trimmed; matches the file name, not the folder.
    expect(store.imageIds({ search: '  100  ' })).toEqual([i1, i2]);
    expect(store.imageIds({ search: 'upper cat' })).toEqual([i6]);
    expect(store.imageIds({ search: '/p/' })).toEqual([]);
    expect(store.imageIds({ search: '   ' })).toEqual(ids);
    expect(store.imageIds({ search: 'snake', split: 'test' })).toEqual([i3]);
    expect(store.summary()).toMatchObject({ imageCount: 6, labeledCount: 4, classCount: 2, missingCount: 2, splitCounts: { train: 3, val: 2, test: 1 } });
  });
});
