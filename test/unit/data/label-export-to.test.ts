import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../src-main/contract/errors';
import { writeFileAtomically, folderNameFor } from '../../../src-main/data/export-writer';
import { runImport } from '../../../src-main/importing/importer';
import { exportTo } from '../../../src-main/services/label-export-to';
import { ProjectStore } from '../../../src-main/store/project-store';
import { makeImage } from '../../helpers/images';
import { tempDir } from '../../helpers/temp';

// Label exports saved on disk (CSV, CoOp, Label Studio, ImageFolder copy/links), written as one step.
let fixtures: ReturnType<typeof tempDir>;
let work: ReturnType<typeof tempDir>;
let root: string;
let source: ProjectStore;
let made = 0;
const stores: ProjectStore[] = [];

function newStore(): ProjectStore {
  const store = ProjectStore.create(path.join(work.dir, `p-${made++}.mocoop`));
  stores.push(store);
  return store;
}

const labelsOf = (store: ProjectStore, key: (p: string) => string = (p) => p) => {
  const names = new Map(store.listClasses().map((c) => [c.id, c.name]));
  return Object.fromEntries(
    store.images(store.imageIds({})).map((r) => [key(r.path), { label: r.labelId === null ? null : names.get(r.labelId), split: r.split }])
  );
};
const leftovers = (dir: string) => fs.readdirSync(dir).filter((n) => /\.(tmp|old)-/.test(n));

beforeAll(async () => {
  fixtures = tempDir('mocoop-export-to-');
  root = path.join(fixtures.dir, 'pets');
  let seed = 900;
  for (const name of ['cat', 'dog', 'a/b: odd?']) {
    const folder = name === 'a/b: odd?' ? 'odd' : name;
    for (let i = 0; i < 4; i++) await makeImage(path.join(root, folder, `${i}.jpg`), seed++, { width: 16, height: 16 });
  }
  // Same file name in the same class, from another folder.
  await makeImage(path.join(root, 'more', '0.jpg'), seed++, { width: 16, height: 16 });
  await makeImage(path.join(root, 'loose.jpg'), seed, { width: 16, height: 16 });
  const csv = ['path,label,split'];
  for (let i = 0; i < 4; i++)
    csv.push(`cat/${i}.jpg,cat,${i === 0 ? 'test' : 'train'}`, `dog/${i}.jpg,dog,${i === 1 ? 'val' : 'train'}`, `odd/${i}.jpg,a/b: odd?,train`);
  csv.push('more/0.jpg,cat,train', 'loose.jpg,,train');
  fs.writeFileSync(path.join(root, 'labels.csv'), csv.join('\n'));
});
afterAll(() => fixtures.cleanup());
beforeEach(async () => {
  work = tempDir('mocoop-export-to-work-');
  source = newStore();
  await runImport(source, { kind: 'csv', file: path.join(root, 'labels.csv') }, { importId: 'src' });
});
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  work.cleanup();
});

describe('ImageFolder export', () => {
  it('copies: one folder per class (safe names), same-name files kept apart, unlabeled left out; the folder imports back with the same labels', async () => {
    const out = path.join(work.dir, 'exports', 'pets-folder');
    const result = exportTo(source, { format: 'imagefolder', target: out, link: 'copy' });
    expect(result).toMatchObject({ format: 'imagefolder', savedTo: out, images: 13, left: 1, replaced: false, skipped: [] });
    expect(result.renamed).toEqual([{ name: 'a/b: odd?', folder: 'a_b_ odd_' }]);
    expect(fs.readdirSync(out).sort()).toEqual(['a_b_ odd_', 'cat', 'dog']);
    expect(fs.readdirSync(path.join(out, 'cat')).sort()).toEqual(['0 (2).jpg', '0.jpg', '1.jpg', '2.jpg', '3.jpg']);
    expect(fs.lstatSync(path.join(out, 'cat', '1.jpg')).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(path.join(out, 'cat', '1.jpg'))).toEqual(fs.readFileSync(path.join(root, 'cat', '1.jpg')));
    expect(leftovers(path.dirname(out))).toEqual([]);

    const back = newStore();
    const summary = await runImport(back, { kind: 'folder', dir: out }, { importId: 'back' });
    expect(summary.imported).toBe(13);
    expect(summary.perClass!.map((c) => [c.name, c.train + c.val + c.test])).toEqual([
      ['a_b_ odd_', 4],
      ['cat', 5],
      ['dog', 4]
    ]);
  });

  it('symbolic links point at the originals; hard links share their inode; by split: train/val/test folders', () => {
    const links = path.join(work.dir, 'links');
    exportTo(source, { format: 'imagefolder', target: links, link: 'symlink' });
    const link = path.join(links, 'dog', '2.jpg');
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(link)).toBe(path.join(root, 'dog', '2.jpg'));

    const hard = path.join(work.dir, 'hard');
    exportTo(source, { format: 'imagefolder', target: hard, link: 'hardlink', bySplit: true });
    // work and fixtures are both under the temp folder (one disk).
    expect(fs.statSync(path.join(hard, 'train', 'dog', '2.jpg')).ino).toBe(fs.statSync(path.join(root, 'dog', '2.jpg')).ino);
    expect(fs.readdirSync(hard).sort()).toEqual(['test', 'train', 'val']);
    expect(fs.readdirSync(path.join(hard, 'test'))).toEqual(['cat']);
    expect(fs.readdirSync(path.join(hard, 'val'))).toEqual(['dog']);
    expect(fs.readdirSync(path.join(hard, 'val', 'dog'))).toEqual(['1.jpg']);
  });

  it('an existing non-empty folder is not replaced without asking; with overwrite it is, in one step', () => {
    const out = path.join(work.dir, 'existing');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
    const error = (() => {
      try {
        exportTo(source, { format: 'imagefolder', target: out });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('conflict');
    expect((error as AppError).message).toMatch(/already exists and is not empty; nothing was written/);
    expect(fs.readdirSync(out)).toEqual(['keep.txt']);
    const result = exportTo(source, { format: 'imagefolder', target: out, overwrite: true });
    expect(result.replaced).toBe(true);
    expect(fs.readdirSync(out).sort()).toEqual(['a_b_ odd_', 'cat', 'dog']);
    expect(leftovers(work.dir)).toEqual([]);
    // An empty folder is simply used.
    const empty = path.join(work.dir, 'empty');
    fs.mkdirSync(empty);
    expect(exportTo(source, { format: 'imagefolder', target: empty }).replaced).toBe(false);
  });

  it('a file missing on disk is listed as not exported; a failure half-way leaves nothing behind', () => {
    const moved = path.join(root, 'dog', '3.jpg');
    const aside = moved + '.aside';
    fs.renameSync(moved, aside);
    try {
      const result = exportTo(source, { format: 'imagefolder', target: path.join(work.dir, 'partial') });
      expect(result.images).toBe(12);
      expect(result.skipped).toEqual([{ path: moved, reason: expect.stringMatching(/file not found/) }]);
    } finally {
      fs.renameSync(aside, moved);
    }
    // A target inside a read-only folder: the copy fails, no temporary folder is left.
    const locked = path.join(work.dir, 'locked');
    fs.mkdirSync(locked);
    const blocker = path.join(locked, 'x');
    fs.writeFileSync(blocker, 'a file where a folder is needed');
    expect(() => exportTo(source, { format: 'imagefolder', target: path.join(blocker, 'out') })).toThrow(/file, not a folder/);
    expect(fs.readdirSync(locked)).toEqual(['x']);
  });

  it("never replaces what the project stands on: the images' folder, an image, the project file", () => {
    const before = fs.readdirSync(path.join(root, 'cat')).sort();
    expect(() => exportTo(source, { format: 'imagefolder', target: root, overwrite: true })).toThrow(/holds images of this project .*nothing was written/);
    expect(() => exportTo(source, { format: 'imagefolder', target: path.dirname(root), overwrite: true })).toThrow(/holds images of this project/);
    // Through a link to the folder, too.
    const link = path.join(work.dir, 'link-to-pets');
    fs.symlinkSync(root, link);
    expect(() => exportTo(source, { format: 'imagefolder', target: link, overwrite: true })).toThrow(/holds images of this project/);
    expect(fs.readdirSync(path.join(root, 'cat')).sort()).toEqual(before);
    expect(() => exportTo(source, { format: 'csv', target: path.join(root, 'cat', '1.jpg'), overwrite: true })).toThrow(/is an image of this project/);
    expect(fs.readFileSync(path.join(root, 'cat', '1.jpg')).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(() => exportTo(source, { format: 'csv', target: source.file, overwrite: true })).toThrow(/is this project's file/);
    expect(() => exportTo(source, { format: 'imagefolder', target: work.dir, overwrite: true })).toThrow(/holds this project's file/);
    expect(source.summary().imageCount).toBe(14);
  });

  it('folder names: separators and forbidden characters become _, never . or .., reserved Windows names get a prefix', () => {
    expect(folderNameFor('a/b\\c')).toBe('a_b_c');
    expect(folderNameFor('..')).toBe('__');
    expect(folderNameFor('.')).toBe('_');
    expect(folderNameFor('dots...')).toBe('dots___');
    expect(folderNameFor('CON')).toBe('_CON');
    expect(folderNameFor('Ünïcode ok')).toBe('Ünïcode ok');
  });
});

describe('file exports saved on disk', () => {
  it('CSV, CoOp and Label Studio: written whole under the project name in a folder; an existing file is kept unless replacing is confirmed', () => {
    const dir = path.join(work.dir, 'out');
    fs.mkdirSync(dir);
    const csv = exportTo(source, { format: 'csv', target: dir });
    expect(path.basename(csv.savedTo)).toMatch(/-labels\.csv$/);
    expect(fs.readFileSync(csv.savedTo, 'utf8').split('\r\n')[0]).toBe('path,label,split');
    expect(csv.images).toBe(13);
    const coop = exportTo(source, { format: 'coop', target: path.join(dir, 'split.json') });
    expect(coop).toMatchObject({ images: 13, left: 0, imageRoot: root });
    expect(() => exportTo(source, { format: 'coop', target: path.join(dir, 'split.json') })).toThrow(/already exists; nothing was written/);
    fs.writeFileSync(path.join(dir, 'split.json'), 'old');
    expect(exportTo(source, { format: 'coop', target: path.join(dir, 'split.json'), overwrite: true }).replaced).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'split.json'), 'utf8')).test).toEqual([['cat/0.jpg', expect.any(Number), 'cat']]);
    const ls = exportTo(source, { format: 'labelstudio', target: path.join(dir, 'tasks.json') });
    expect(ls.images).toBe(14);
    expect(ls.labelConfig).toContain('<Choice value="a/b: odd?"/>');
    expect(csv.labelConfig).toBeNull();
    expect(leftovers(dir)).toEqual([]);
    expect(() => exportTo(source, { format: 'csv', target: 'relative/labels.csv' })).toThrow(/not a full path/);
  });

  it('writeFileAtomically: a folder in the way is refused; the temporary file never stays', () => {
    const dir = path.join(work.dir, 'atomic');
    fs.mkdirSync(path.join(dir, 'taken'), { recursive: true });
    expect(() => writeFileAtomically(path.join(dir, 'taken'), 'x')).toThrow(/is a folder/);
    writeFileAtomically(path.join(dir, 'new', 'a.txt'), 'hello');
    expect(fs.readFileSync(path.join(dir, 'new', 'a.txt'), 'utf8')).toBe('hello');
    expect(leftovers(path.join(dir, 'new'))).toEqual([]);
  });
});

describe('Label Studio round trip', () => {
  it("export → import gives every image its label and split back (this app's full paths)", async () => {
    const file = path.join(work.dir, 'tasks.json');
    exportTo(source, { format: 'labelstudio', target: file });
    const back = newStore();
    const summary = await runImport(back, { kind: 'labelStudio', file }, { importId: 'ls' });
    expect(summary.skipped).toEqual([]);
    expect(summary.imported).toBe(14);
    expect(labelsOf(back)).toEqual(labelsOf(source));
  });

  it('local-files URLs are read from the image root when one is given (the images moved with their folder)', async () => {
    const file = path.join(work.dir, 'tasks.json');
    exportTo(source, { format: 'labelstudio', target: file });
    const copy = path.join(work.dir, 'copy-of-pets');
    fs.cpSync(root, copy, { recursive: true });
    const back = newStore();
    const summary = await runImport(back, { kind: 'labelStudio', file, imageRoot: copy }, { importId: 'moved' });
    expect(summary.imported).toBe(14);
    const rel = (p: string) => path.relative(copy, p);
    expect(labelsOf(back, rel)).toEqual(labelsOf(source, (p) => path.relative(root, p)));
  });
});
