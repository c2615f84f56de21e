import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src-main/contract/errors';
import { countSplits, runImport } from '../../../src-main/importing/importer';
import { ProjectStore } from '../../../src-main/store/project-store';
import { makeImage } from '../../helpers/images';
import { tempDir } from '../../helpers/temp';

// Natural sort, stratified hold-out and the per-split/per-class summary of an import.
let fixtures: ReturnType<typeof tempDir>;
let root: string;
const CLASSES = ['c01', 'c02', 'c03', 'c04', 'c05', 'c06'];
const PER_CLASS = 10;
const stores: ProjectStore[] = [];
let made = 0;

function newStore(): ProjectStore {
  const store = ProjectStore.create(path.join(fixtures.dir, `p-${made++}.mocoop`));
  stores.push(store);
  return store;
}

const splitsByPath = (store: ProjectStore) => Object.fromEntries(store.images(store.imageIds({})).map((r) => [r.path, r.split]));

beforeAll(async () => {
  fixtures = tempDir('mocoop-split-import-');
  root = path.join(fixtures.dir, 'folder');
  let seed = 500;
  // File names 0 … 9 plus 10 and 11 in the first class: natural order puts 2 before 10.
  for (const name of CLASSES) for (let i = 0; i < PER_CLASS; i++) await makeImage(path.join(root, name, `img${i}.jpg`), seed++, { width: 16, height: 16 });
  await makeImage(path.join(root, 'c01', 'img10.jpg'), seed++, { width: 16, height: 16 });
  await makeImage(path.join(root, 'c01', 'img11.jpg'), seed++, { width: 16, height: 16 });
  await makeImage(path.join(fixtures.dir, 'loose', 'x2.png'), seed++, { width: 16, height: 16 });
  await makeImage(path.join(fixtures.dir, 'loose', 'x10.png'), seed++, { width: 16, height: 16 });
  for (let i = 0; i < 8; i++) await makeImage(path.join(fixtures.dir, 'loose', 'more', `m${i}.png`), seed++, { width: 16, height: 16 });
});
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});
afterAll(() => fixtures.cleanup());

describe('import order', () => {
  it('walks folders in natural order: img2 before img10, and the grid (ids) follows it', async () => {
    const store = newStore();
    await runImport(store, { kind: 'folder', dir: root }, { importId: 'order' });
    const names = store.images(store.imageIds({ classId: store.listClasses()[0]!.id })).map((r) => r.fileName);
    expect(names).toEqual([
      'img0.jpg',
      'img1.jpg',
      'img2.jpg',
      'img3.jpg',
      'img4.jpg',
      'img5.jpg',
      'img6.jpg',
      'img7.jpg',
      'img8.jpg',
      'img9.jpg',
      'img10.jpg',
      'img11.jpg'
    ]);
    const loose = newStore();
    await runImport(loose, { kind: 'paths', paths: [path.join(fixtures.dir, 'loose')] }, { importId: 'loose' });
    expect(loose.images(loose.imageIds({})).map((r) => path.relative(fixtures.dir, r.path))).toEqual([
      ...Array.from({ length: 8 }, (_, i) => path.join('loose', 'more', `m${i}.png`)),
      path.join('loose', 'x2.png'),
      path.join('loose', 'x10.png')
    ]);
  });
});

describe('split on import', () => {
  it('holds out a stratified share per class in the import itself; the summary counts per split and per class', async () => {
    const store = newStore();
    const summary = await runImport(store, { kind: 'folder', dir: root }, { importId: 's1', holdOut: { testPercent: 20, valPercent: 10, seed: 1 } });
    expect(summary.imported).toBe(CLASSES.length * PER_CLASS + 2);
    expect(summary.holdOut).toEqual({ testPercent: 20, valPercent: 10, seed: 1 });
    // c01 has 12 images: round(2.4) = 2 test, round(1.2) = 1 val; the others 10: 2 test, 1 val.
    expect(summary.perClass).toEqual(CLASSES.map((name) => ({ name, train: name === 'c01' ? 9 : 7, val: 1, test: 2 })));
    expect(summary.splitCounts).toEqual({ train: 9 + 7 * 5, val: 6, test: 12 });
    // What the summary says is what the project holds.
    const info = store.summary();
    expect(info.splitCounts).toEqual(summary.splitCounts);
    for (const c of store.listClasses()) {
      const counts = { train: 0, val: 0, test: 0 };
      for (const r of store.images(store.imageIds({ classId: c.id }))) counts[r.split]++;
      expect(counts).toEqual({ train: c.name === 'c01' ? 9 : 7, val: 1, test: 2 });
    }
  });

  it('the same files, shares and seed give the same split; another seed gives another', async () => {
    const a = newStore();
    const b = newStore();
    const c = newStore();
    await runImport(a, { kind: 'folder', dir: root }, { importId: 'a', holdOut: { testPercent: 30, valPercent: 0, seed: 7 } });
    await runImport(b, { kind: 'folder', dir: root }, { importId: 'b', holdOut: { testPercent: 30, valPercent: 0, seed: 7 }, concurrency: 1 });
    await runImport(c, { kind: 'folder', dir: root }, { importId: 'c', holdOut: { testPercent: 30, valPercent: 0, seed: 8 } });
    expect(splitsByPath(b)).toEqual(splitsByPath(a));
    expect(splitsByPath(c)).not.toEqual(splitsByPath(a));
    expect(Object.values(splitsByPath(c)).filter((s) => s === 'test')).toHaveLength(Object.values(splitsByPath(a)).filter((s) => s === 'test').length);
  });

  it('without a hold-out every image keeps its source split (train for a folder), and the summary still counts', async () => {
    const store = newStore();
    const summary = await runImport(store, { kind: 'folder', dir: root }, { importId: 'plain' });
    expect(summary.holdOut).toBeNull();
    expect(summary.splitCounts).toEqual({ train: 62, val: 0, test: 0 });
    expect(summary.perClass![0]).toEqual({ name: 'c01', train: 12, val: 0, test: 0 });
  });

  it('loose (unlabeled) images are split as one group; a CSV split column is kept and counts toward the shares', async () => {
    const loose = newStore();
    const s = await runImport(
      loose,
      { kind: 'paths', paths: [path.join(fixtures.dir, 'loose')] },
      { importId: 'l', holdOut: { testPercent: 50, valPercent: 0, seed: 3 } }
    );
    expect(s.perClass).toEqual([{ name: null, train: 5, val: 0, test: 5 }]);

    const csv = path.join(fixtures.dir, 'with-split.csv');
    const rows = ['path,label,split'];
    for (let i = 0; i < PER_CLASS; i++) rows.push(`folder/c02/img${i}.jpg,c02,${i < 3 ? 'test' : 'train'}`);
    fs.writeFileSync(csv, rows.join('\n'));
    const store = newStore();
    const summary = await runImport(store, { kind: 'csv', file: csv }, { importId: 'csv', holdOut: { testPercent: 20, valPercent: 20, seed: 1 } });
    // 3 already in test (more than 20%): none more go to test; 2 of the train rows go to validation.
    expect(summary.perClass).toEqual([{ name: 'c02', train: 5, val: 2, test: 3 }]);
    const bySplit = splitsByPath(store);
    for (let i = 0; i < 3; i++) expect(bySplit[path.join(root, 'c02', `img${i}.jpg`)]).toBe('test');
  });

  it('a hold-out that leaves no train pool is refused in words before anything is read or written', async () => {
    const store = newStore();
    const error = await runImport(store, { kind: 'folder', dir: root }, { importId: 'bad', holdOut: { testPercent: 60, valPercent: 40, seed: 1 } }).catch(
      (e: unknown) => e
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toMatch(/Split on import: .*less than 100%.*nothing was imported/);
    expect(store.summary().imageCount).toBe(0);
  });

  it('countSplits: per class in first-seen order, unlabeled last', () => {
    expect(
      countSplits([
        { label: null, split: 'train' },
        { label: 'b', split: 'test' },
        { label: 'a', split: 'train' },
        { label: 'b', split: 'val' }
      ])
    ).toEqual({
      splitCounts: { train: 2, val: 1, test: 1 },
      perClass: [
        { name: 'b', train: 0, val: 1, test: 1 },
        { name: 'a', train: 1, val: 0, test: 0 },
        { name: null, train: 1, val: 0, test: 0 }
      ]
    });
  });
});
