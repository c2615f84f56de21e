import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ImportProgress, ImportSource, ImportSummary } from '../../src-main/contract';
import { AppError } from '../../src-main/contract/errors';
import { parseCsv } from '../../src-main/importing/csv';
import { runImport } from '../../src-main/importing/importer';
import { AppServices } from '../../src-main/services/app-services';
import { ProjectStore } from '../../src-main/store/project-store';
import { makeImage, makeImageFolder, makeTruncatedJpeg } from '../helpers/images';
import { tempDir } from '../helpers/temp';

// Fixtures shared by the whole file (generated once); each test gets its own project file.
let fixtures: ReturnType<typeof tempDir>;
let work: ReturnType<typeof tempDir>;
const stores: ProjectStore[] = [];

function newStore(name = 'p'): ProjectStore {
  const store = ProjectStore.create(path.join(work.dir, `${name}-${stores.length}.mocoop`));
  stores.push(store);
  return store;
}

async function appErrorOf(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  );
  expect(error, 'expected the promise to reject with an AppError').toBeInstanceOf(AppError);
  return error as AppError;
}

const count = (store: ProjectStore, table: string) => store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
const labelsByFile = (store: ProjectStore) => {
  const classes = new Map(store.listClasses().map((c) => [c.id, c.name]));
  return Object.fromEntries(store.images(store.imageIds({})).map((r) => [r.path, r.labelId === null ? null : classes.get(r.labelId)]));
};
const skippedFor = (summary: ImportSummary, file: string) => summary.skipped.find((s) => s.path === file);

beforeAll(() => {
  fixtures = tempDir('mocoop-import-fixtures-');
});
afterAll(() => fixtures.cleanup());
beforeEach(() => {
  work = tempDir('mocoop-import-work-');
});
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  work.cleanup();
});

describe('ImageFolder import', () => {
  let root: string;
  let good: Record<string, string[]>;
  let bad: { truncated: string; fake: string; empty: string; text: string; loop: string; stray: string };
  let unicode: string;
  let copy: string;

  beforeAll(async () => {
    root = path.join(fixtures.dir, 'folder');
    good = await makeImageFolder(root, ['cats', 'dogs'], 3, 10);
    const deep = await makeImage(path.join(root, 'dogs', 'puppies', 'deep.png'), 40);
    good.dogs!.push(deep);
    unicode = await makeImage(path.join(root, 'große Katze', 'ñandú café 1.jpg'), 41);
    bad = {
      truncated: await makeTruncatedJpeg(path.join(root, 'cats', 'broken.jpg'), 42),
      fake: path.join(root, 'cats', 'fake.png'),
      empty: path.join(root, 'cats', 'empty.jpg'),
      text: path.join(root, 'dogs', 'notes.txt'),
      loop: path.join(root, 'cats', 'loop'),
      stray: path.join(root, 'stray.jpg')
    };
    fs.writeFileSync(bad.fake, 'this is plain text pretending to be a PNG\n'.repeat(10));
    fs.writeFileSync(bad.empty, '');
    fs.writeFileSync(bad.text, 'vet appointment on tuesday');
    fs.symlinkSync(root, bad.loop, 'dir');
    await makeImage(bad.stray, 43);
    fs.writeFileSync(path.join(root, 'cats', '.hidden.jpg'), 'ignored');
    // The same bytes twice in one import: a copy inside the same class and one in another class.
    copy = path.join(root, 'dogs', 'zz-copy-of-cat.jpg');
    fs.copyFileSync(good.cats![0]!, copy);
  });

  it('imports the good images with their folder labels and explains every skipped file', async () => {
    const store = newStore();
    const summary = await runImport(store, { kind: 'folder', dir: root }, { importId: 'imp-1' });

    expect(summary.cancelled).toBe(false);
    expect(summary.importId).toBe('imp-1');
    expect(summary.imported).toBe(8);
    expect([...summary.classesCreated].sort()).toEqual(['cats', 'dogs', 'große Katze']);

    const labels = labelsByFile(store);
    expect(Object.keys(labels).sort()).toEqual([...good.cats!, ...good.dogs!, unicode].sort());
    for (const file of good.cats!) expect(labels[file]).toBe('cats');
    for (const file of good.dogs!) expect(labels[file]).toBe('dogs');
    expect(labels[unicode]).toBe('große Katze');
    const [uni] = store.images(store.imageIds({ search: 'ñandú café' }));
    expect(uni).toMatchObject({ path: unicode, fileName: 'ñandú café 1.jpg', width: 64, height: 48, split: 'train', missing: false });
    expect(uni!.source).toBe(`folder:${root}`);
    expect(store.thumbnail(uni!.id)?.mime).toBe('image/jpeg');
    expect(store.thumbnail(uni!.id)?.data.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));

    expect(skippedFor(summary, bad.truncated)?.reason).toMatch(/truncated|corrupt/);
    expect(skippedFor(summary, bad.fake)?.reason).toMatch(/not a readable image/);
    expect(skippedFor(summary, bad.empty)?.reason).toMatch(/empty file \(0 bytes\)/);
    expect(skippedFor(summary, bad.text)?.reason).toMatch(/not an image file \(\.txt\)/);
    expect(skippedFor(summary, bad.loop)?.reason).toMatch(/symbolic link loop/);
    expect(skippedFor(summary, bad.stray)?.reason).toMatch(/not inside a class folder/);
    expect(summary.skipped).toHaveLength(6);
    expect(summary.skipped.some((s) => s.path.includes('.hidden'))).toBe(false);

    expect(summary.duplicates).toEqual([{ path: copy, duplicateOf: good.cats![0] }]);

    // The project remembers what was skipped, for the problems panel.
    expect(
      store
        .recentSkips()
        .map((s) => s.path)
        .sort()
    ).toEqual(summary.skipped.map((s) => s.path).sort());
    expect(count(store, 'thumbnails')).toBe(8);
  });

  it('re-importing the same folder reports duplicates and imports nothing twice', async () => {
    const store = newStore();
    const first = await runImport(store, { kind: 'folder', dir: root }, { importId: 'a' });
    const second = await runImport(store, { kind: 'folder', dir: root }, { importId: 'b' });
    expect(second.imported).toBe(0);
    expect(second.classesCreated).toEqual([]);
    expect(store.summary().imageCount).toBe(first.imported);
    const dupPaths = second.duplicates.map((d) => d.path).sort();
    expect(dupPaths).toEqual([...good.cats!, ...good.dogs!, unicode, copy].sort());
    for (const d of second.duplicates) {
      expect(d.duplicateOf).toBe(d.path === copy ? good.cats![0] : d.path);
    }
    expect(store.listClasses().map((c) => c.imageCount)).toEqual([3, 4, 1]);
    // Files already in the project under another label in this source say so; the project keeps its labels.
    // The copy of a cat filed under dogs/ is the one image the folder labels differently from the project.
    expect(second.duplicates.filter((d) => d.labelDiffers)).toEqual([
      { path: copy, duplicateOf: good.cats![0], labelDiffers: { inProject: 'cats', inSource: 'dogs' } }
    ]);
    const csv = path.join(work.dir, 'relabel.csv');
    fs.writeFileSync(csv, `path,label\n${good.cats![0]},dogs\n${good.cats![1]},cats\n`);
    const third = await runImport(store, { kind: 'csv', file: csv }, { importId: 'c' });
    expect(third.duplicates).toEqual([
      { path: good.cats![0], duplicateOf: good.cats![0], labelDiffers: { inProject: 'cats', inSource: 'dogs' } },
      { path: good.cats![1], duplicateOf: good.cats![1] }
    ]);
    expect(store.listClasses().map((c) => c.imageCount)).toEqual([3, 4, 1]);
  });

  it('reports progress with done <= total, reaching total at the end', async () => {
    const store = newStore();
    const events: ImportProgress[] = [];
    await runImport(store, { kind: 'folder', dir: root }, { importId: 'prog', onProgress: (p) => events.push(p), concurrency: 2 });
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events[0]).toMatchObject({ importId: 'prog', phase: 'scanning', done: 0 });
    for (const e of events) {
      expect(e.importId).toBe('prog');
      expect(e.done).toBeLessThanOrEqual(e.total);
      expect(e.done).toBeGreaterThanOrEqual(0);
    }
    const reading = events.filter((e) => e.phase === 'reading');
    expect(reading.length).toBeGreaterThan(0);
    const total = 12; // 8 good + 1 copy + truncated + fake + empty
    expect(reading.at(-1)).toMatchObject({ done: total, total });
    for (let i = 1; i < reading.length; i++) expect(reading[i]!.done).toBeGreaterThan(reading[i - 1]!.done);
    expect(events.at(-1)).toMatchObject({ phase: 'saving', done: total, total });
  });

  it('refuses a folder without class sub-folders and a path that is not a folder', async () => {
    const store = newStore();
    const flat = path.join(work.dir, 'flat');
    await makeImage(path.join(flat, 'a.jpg'), 1);
    const noClasses = await appErrorOf(runImport(store, { kind: 'folder', dir: flat }, { importId: 'x' }));
    expect(noClasses.code).toBe('bad_source');
    expect(noClasses.message).toMatch(/no class sub-folders/);
    const missing = await appErrorOf(runImport(store, { kind: 'folder', dir: path.join(work.dir, 'nope') }, { importId: 'y' }));
    expect(missing.code).toBe('bad_source');
    expect(missing.message).toBe(`Image folder ${path.join(work.dir, 'nope')} does not exist. Check the path.`);
    const file = await appErrorOf(runImport(store, { kind: 'folder', dir: path.join(flat, 'a.jpg') }, { importId: 'z' }));
    expect(file.code).toBe('bad_source');
    expect(file.message).toMatch(/not a folder/);
    expect(store.summary().imageCount).toBe(0);
  });
});

describe('image limits', () => {
  it('skips an image over 100 megapixels, naming its size', async () => {
    const dir = path.join(work.dir, 'huge');
    const big = path.join(dir, 'panorama', 'big.png');
    fs.mkdirSync(path.dirname(big), { recursive: true });
    await sharp({ create: { width: 10001, height: 10001, channels: 3, background: { r: 20, g: 120, b: 200 } } })
      .png({ compressionLevel: 1 })
      .toFile(big);
    const small = await makeImage(path.join(dir, 'panorama', 'small.jpg'), 5);
    const store = newStore();
    const summary = await runImport(store, { kind: 'folder', dir }, { importId: 'big' });
    expect(summary.imported).toBe(1);
    expect(store.images(store.imageIds({}))[0]!.path).toBe(small);
    expect(summary.skipped).toHaveLength(1);
    expect(summary.skipped[0]!.path).toBe(big);
    expect(summary.skipped[0]!.reason).toMatch(/megapixel/);
    expect(summary.skipped[0]!.reason).toContain('10001×10001');
  });
});

describe('CSV import', () => {
  it('parseCsv handles quotes, doubled quotes, commas, newlines in fields, CRLF, BOM and blank lines', () => {
    expect(parseCsv('path,label\na.jpg,cat\n')).toEqual([
      { line: 1, fields: ['path', 'label'] },
      { line: 2, fields: ['a.jpg', 'cat'] }
    ]);
    expect(parseCsv('\ufeffpath,label\r\n"b, c.jpg","big, fluffy ""dog"""\r\n\r\nd.jpg,\r\ne.jpg')).toEqual([
      { line: 1, fields: ['path', 'label'] },
      { line: 2, fields: ['b, c.jpg', 'big, fluffy "dog"'] },
      { line: 4, fields: ['d.jpg', ''] },
      { line: 5, fields: ['e.jpg'] }
    ]);
    // A quoted field may span lines; later rows keep their real line numbers.
    expect(parseCsv('a,"two\nlines"\nb,c\n\n  \nd,e')).toEqual([
      { line: 1, fields: ['a', 'two\nlines'] },
      { line: 3, fields: ['b', 'c'] },
      { line: 6, fields: ['d', 'e'] }
    ]);
    expect(parseCsv('')).toEqual([]);
    expect(parseCsv('"",x')).toEqual([{ line: 1, fields: ['', 'x'] }]);
  });

  it('imports rows relative to the CSV folder and skips bad rows with the line they are on', async () => {
    const dir = path.join(work.dir, 'csvset');
    const a = await makeImage(path.join(dir, 'images', 'a.jpg'), 1);
    const b = await makeImage(path.join(dir, 'images', 'b, with comma.jpg'), 2);
    const c = await makeImage(path.join(dir, 'images', 'sub', 'c.png'), 3);
    const d = await makeImage(path.join(work.dir, 'elsewhere', 'd.jpg'), 4);
    const csv = path.join(dir, 'labels.csv');
    fs.writeFileSync(
      csv,
      [
        'Path,Label,Split',
        'images/a.jpg,cat,train',
        '"images/b, with comma.jpg","big, fluffy ""dog""",val',
        'images/sub/c.png,cat,TEST',
        `${d},,`,
        'images/missing.jpg,cat,train',
        'images/only-a-path.jpg',
        ',cat,train',
        'images/a.jpg,cat,holdout',
        ''
      ].join('\n')
    );
    const store = newStore();
    const summary = await runImport(store, { kind: 'csv', file: csv }, { importId: 'csv' });
    expect(summary.imported).toBe(4);
    expect([...summary.classesCreated].sort()).toEqual(['big, fluffy "dog"', 'cat']);
    const rows = Object.fromEntries(store.images(store.imageIds({})).map((r) => [r.path, r]));
    const classes = new Map(store.listClasses().map((cl) => [cl.id, cl.name]));
    expect(classes.get(rows[a]!.labelId!)).toBe('cat');
    expect(rows[a]!.split).toBe('train');
    expect(classes.get(rows[b]!.labelId!)).toBe('big, fluffy "dog"');
    expect(rows[b]!.split).toBe('val');
    expect(classes.get(rows[c]!.labelId!)).toBe('cat');
    expect(rows[c]!.split).toBe('test');
    expect(rows[d]!.labelId).toBeNull();
    expect(rows[d]!.source).toBe(`csv:${csv}`);

    const reasons = Object.fromEntries(summary.skipped.map((s) => [s.path, s.reason]));
    expect(reasons[path.join(dir, 'images', 'missing.jpg')]).toMatch(/file not found/);
    expect(reasons[`${csv} line 7`]).toMatch(/expected 3 columns .*found 1/);
    expect(reasons[`${csv} line 8`]).toMatch(/path column is empty/);
    expect(reasons[`${csv} line 9`]).toMatch(/split "holdout"/);
    expect(summary.skipped).toHaveLength(4);
  });

  it('refuses a CSV without a path/label header, an empty CSV and a missing file', async () => {
    const store = newStore();
    const noHeader = path.join(work.dir, 'no-header.csv');
    fs.writeFileSync(noHeader, 'a.jpg,cat\nb.jpg,dog\n');
    const error = await appErrorOf(runImport(store, { kind: 'csv', file: noHeader }, { importId: 'h' }));
    expect(error.code).toBe('bad_source');
    expect(error.message).toContain(noHeader);
    expect(error.message).toMatch(/path,label/);

    const noLabel = path.join(work.dir, 'no-label.csv');
    fs.writeFileSync(noLabel, 'path,notes\na.jpg,x\n');
    const labelError = await appErrorOf(runImport(store, { kind: 'csv', file: noLabel }, { importId: 'l' }));
    expect(labelError.code).toBe('bad_source');
    expect(labelError.message).toMatch(/"label" column is missing/);

    const empty = path.join(work.dir, 'empty.csv');
    fs.writeFileSync(empty, '');
    expect((await appErrorOf(runImport(store, { kind: 'csv', file: empty }, { importId: 'e' }))).code).toBe('bad_source');
    const jpeg = await makeImage(path.join(work.dir, 'photo.jpg'), 3);
    const binary = await appErrorOf(runImport(store, { kind: 'csv', file: jpeg }, { importId: 'b' }));
    expect(binary.message).toBe(`CSV file ${jpeg} is not a text file (it looks like an image or another binary file). Choose the CSV file itself.`);
    const wide = path.join(work.dir, 'wide.csv');
    fs.writeFileSync(wide, `${'x'.repeat(500)},y\n`);
    expect((await appErrorOf(runImport(store, { kind: 'csv', file: wide }, { importId: 'w' }))).message.length).toBeLessThan(400);
    const missing = await appErrorOf(runImport(store, { kind: 'csv', file: path.join(work.dir, 'gone.csv') }, { importId: 'm' }));
    expect(missing.code).toBe('bad_source');
    expect(missing.message).toMatch(/file not found/);
    expect(store.summary().imageCount).toBe(0);
  });
});

describe('CoOp split JSON import', () => {
  it('keeps train/val/test as the split and uses classname as the label', async () => {
    const root = path.join(work.dir, 'coop', 'images');
    await makeImage(path.join(root, 'cat', 'a.jpg'), 1);
    await makeImage(path.join(root, 'dog', 'b.jpg'), 2);
    await makeImage(path.join(root, 'cat', 'c.jpg'), 3);
    await makeImage(path.join(root, 'dog', 'd.png'), 4);
    await makeImage(path.join(root, 'x', 'e.jpg'), 5);
    const file = path.join(work.dir, 'coop', 'split_zhou_pets.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        train: [['cat/a.jpg', 0, 'tabby cat'], ['dog/b.jpg', 1, 'beagle'], 'oops', ['cat/only-path.jpg'], ['dog/b.jpg', 1.5, 'beagle']],
        val: [['cat/c.jpg', 0, 'tabby cat']],
        test: [
          ['dog/d.png', 1, 'beagle'],
          ['x/e.jpg', 1, 'wolf'],
          ['missing/z.jpg', 2, 'zebra']
        ]
      })
    );
    const store = newStore();
    const summary = await runImport(store, { kind: 'coopSplit', file, imageRoot: root }, { importId: 'coop' });
    expect(summary.imported).toBe(4);
    expect([...summary.classesCreated].sort()).toEqual(['beagle', 'tabby cat']);
    const classes = new Map(store.listClasses().map((c) => [c.id, c.name]));
    const byPath = Object.fromEntries(store.images(store.imageIds({})).map((r) => [path.relative(root, r.path), [classes.get(r.labelId!), r.split]]));
    expect(byPath).toEqual({
      'cat/a.jpg': ['tabby cat', 'train'],
      'dog/b.jpg': ['beagle', 'train'],
      'cat/c.jpg': ['tabby cat', 'val'],
      'dog/d.png': ['beagle', 'test']
    });

    const skip = (where: string) => summary.skipped.find((s) => s.path === `${file} ${where}`);
    expect(skip('train[2]')?.reason).toMatch(/expected \[relative path, integer label, class name\], found "oops"/);
    expect(skip('train[3]')?.reason).toMatch(/expected \[relative path/);
    expect(skip('train[4]')?.reason).toMatch(/expected \[relative path/);
    expect(skip('test[1]')?.reason).toMatch(/label 1 is "beagle" elsewhere .* "wolf"/);
    expect(summary.skipped.find((s) => s.path === path.join(root, 'missing', 'z.jpg'))?.reason).toMatch(/file not found/);
    expect(summary.skipped).toHaveLength(5);
  });

  it('refuses a file of the wrong shape, invalid JSON and a missing image root', async () => {
    const store = newStore();
    const root = path.join(work.dir, 'root');
    fs.mkdirSync(root);
    const write = (name: string, text: string) => {
      const file = path.join(work.dir, name);
      fs.writeFileSync(file, text);
      return file;
    };
    const cases: [string, RegExp][] = [
      [write('array.json', JSON.stringify([['a.jpg', 0, 'cat']])), /not a CoOp split file/],
      [write('other-keys.json', JSON.stringify({ training: [['a.jpg', 0, 'cat']] })), /not a CoOp split file: expected at least one of "train", "val", "test"/],
      [write('train-object.json', JSON.stringify({ train: { 'a.jpg': 0 } })), /not a CoOp split file/],
      [write('null.json', 'null'), /not a CoOp split file/],
      [write('broken.json', '{"train": [["a.jpg", 0, "cat"]'), /not valid JSON/]
    ];
    for (const [file, message] of cases) {
      const error = await appErrorOf(runImport(store, { kind: 'coopSplit', file, imageRoot: root }, { importId: path.basename(file) }));
      expect(error.code, file).toBe('bad_source');
      expect(error.message, file).toMatch(message);
      expect(error.message, file).toContain(file);
    }
    const good = write('good.json', JSON.stringify({ train: [] }));
    const noRoot = await appErrorOf(runImport(store, { kind: 'coopSplit', file: good, imageRoot: path.join(work.dir, 'nowhere') }, { importId: 'r' }));
    expect(noRoot.code).toBe('bad_source');
    expect(noRoot.message).toMatch(/Image root/);
    expect(store.summary().imageCount).toBe(0);
  });
});

describe('cancelling', () => {
  let forty: string;
  beforeAll(async () => {
    forty = path.join(fixtures.dir, 'forty');
    await makeImageFolder(forty, ['a', 'b', 'c', 'd'], 10, 100);
  });

  const expectNothingWritten = (store: ProjectStore) => {
    expect(store.summary()).toMatchObject({ imageCount: 0, classCount: 0 });
    expect(count(store, 'thumbnails')).toBe(0);
    expect(count(store, 'imports')).toBe(0);
  };

  it('aborting right after the start cancels and writes nothing', async () => {
    const store = newStore();
    const controller = new AbortController();
    const running = runImport(store, { kind: 'folder', dir: forty }, { importId: 'c1', signal: controller.signal });
    controller.abort();
    const summary = await running;
    expect(summary.cancelled).toBe(true);
    expect(summary.imported).toBe(0);
    expectNothingWritten(store);
  });

  it('aborting while files are being read cancels and writes nothing', async () => {
    const store = newStore();
    const controller = new AbortController();
    const seen: ImportProgress[] = [];
    const summary = await runImport(
      store,
      { kind: 'folder', dir: forty },
      {
        importId: 'c2',
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p);
          if (p.phase === 'reading') controller.abort();
        }
      }
    );
    expect(seen.some((p) => p.phase === 'reading' && p.done < p.total)).toBe(true);
    expect(seen.some((p) => p.phase === 'saving')).toBe(false);
    expect(summary.cancelled).toBe(true);
    expect(summary.imported).toBe(0);
    expectNothingWritten(store);
    // A later import of the same folder still works and imports everything.
    const again = await runImport(store, { kind: 'folder', dir: forty }, { importId: 'c3' });
    expect(again).toMatchObject({ cancelled: false, imported: 40 });
  });

  it('AppServices.cancelImport cancels a running import', async () => {
    const services = new AppServices({ mode: 'web', configDir: path.join(work.dir, 'config'), version: 't' });
    try {
      services.createProject(path.join(work.dir, 'svc.mocoop'));
      const running = services.importSource('svc-1', { kind: 'folder', dir: forty });
      expect(services.cancelImport('svc-1')).toBe(true);
      expect(services.cancelImport('someone-else')).toBe(false);
      const summary = await running;
      expect(summary.cancelled).toBe(true);
      expect(services.project.summary().imageCount).toBe(0);
      expect(services.cancelImport('svc-1')).toBe(false);
    } finally {
      services.closeProject();
    }
  });
});

describe('missing files and relinking (AppServices)', () => {
  it('flags a moved file as missing and relinks it from the folder it moved to', async () => {
    const services = new AppServices({ mode: 'web', configDir: path.join(work.dir, 'config'), version: 't' });
    const changes: string[] = [];
    services.events.subscribe((name, payload) => {
      if (name === 'project.changed') changes.push((payload as { reason: string }).reason);
    });
    try {
      const dir = path.join(work.dir, 'photos');
      const files = await makeImageFolder(dir, ['owls', 'hawks'], 2, 200);
      services.createProject(path.join(work.dir, 'birds.mocoop'), 'Birds');
      const source: ImportSource = { kind: 'folder', dir };
      expect((await services.importSource('i', source)).imported).toBe(4);
      expect(changes).toContain('import');
      expect(await services.checkMissing()).toEqual({ checked: 4, missing: 0 });

      const original = files.owls![1]!;
      const store = services.project;
      const id = store.imageByHash(store.images(store.imageIds({})).find((r) => r.path === original)!.hash)!.id;
      const movedDir = path.join(work.dir, 'moved', 'deeper');
      fs.mkdirSync(movedDir, { recursive: true });
      const moved = path.join(movedDir, 'renamed owl.jpg');
      fs.renameSync(original, moved);

      expect(await services.checkMissing()).toEqual({ checked: 4, missing: 1 });
      expect(store.imageIds({ missing: true })).toEqual([id]);
      expect(store.summary().missingCount).toBe(1);
      expect(changes).toContain('missing-files');
      const info = services.info();
      expect(info.problems).toContainEqual(expect.objectContaining({ kind: 'missing', path: original }));

      const relinkError = await appErrorOf(services.relink(path.join(work.dir, 'no-such-folder')));
      expect(relinkError.code).toBe('bad_source');

      expect(await services.relink(path.join(work.dir, 'moved'))).toEqual({ relinked: 1, stillMissing: 0 });
      expect(changes).toContain('relink');
      const [row] = store.images([id]);
      expect(row).toMatchObject({ path: moved, fileName: 'renamed owl.jpg', missing: false });
      expect(store.imagePath(id)).toBe(moved);
      expect(store.imageIds({ missing: true })).toEqual([]);
      expect(await services.checkMissing()).toEqual({ checked: 4, missing: 0 });
      // The label survived the move.
      expect(store.listClasses().find((c) => c.id === row!.labelId)?.name).toBe('owls');

      // A file that is gone for good stays missing.
      fs.rmSync(files.hawks![0]!);
      expect(await services.relink(path.join(work.dir, 'moved'))).toEqual({ relinked: 0, stillMissing: 1 });
      expect(store.summary().missingCount).toBe(1);
    } finally {
      services.closeProject();
    }
  });
});
