import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../src-main/contract/dispatch';
import type { NewImage } from '../../src-main/store/project-store';
import { useApp } from '../helpers/app';

function fakeImage(n: number, file: string, label: string | null, split: NewImage['split'] = 'train'): NewImage {
  return {
    path: file,
    hash: `hash-${n}`,
    width: 32,
    height: 32,
    bytes: 100 + n,
    label,
    split,
    source: 'test',
    thumbnail: { mime: 'image/jpeg', data: Buffer.from([n]) }
  };
}

const ctx = useApp({ each: true, prefix: 'mocoop-labels-', log: () => {} });
const { call } = ctx;
const callError = async (name: string, input?: unknown) => {
  const envelope = await dispatch(ctx.app.handlers(), name, input, () => {});
  if (envelope.ok) throw new Error('expected an error');
  return envelope.error;
};

beforeEach(async () => {
  await call('project.create', { path: path.join(ctx.dir, 'pets.mocoop') });
  const images: NewImage[] = [];
  let n = 1;
  for (const [label, count] of [
    ['cat', 10],
    ['dog', 10],
    ['golden retriever', 5]
  ] as const) {
    for (let i = 0; i < count; i++) images.push(fakeImage(n++, `/data/pets/train/${label}/${String(i).padStart(4, '0')}.jpg`, label));
  }
  for (let i = 0; i < 4; i++) images.push(fakeImage(n++, `/data/inbox/scan_${i}.png`, null));
  ctx.app.project.insertImages(images, []);
});

describe('split later', () => {
  it('previews, then moves a stratified share of every class in one undoable step; few-shot images stay in the train pool', async () => {
    const cat = ctx.app.project.listClasses().find((c) => c.name === 'cat')!;
    const catIds = (await call('images.ids', { filter: { classId: cat.id } })).ids as number[];
    // A few-shot set holds two cat images: they keep their split.
    ctx.app.project.db.prepare("INSERT INTO fewshot_sets (id, name) VALUES (1, 's')").run();
    for (const id of catIds.slice(0, 2)) ctx.app.project.db.prepare('INSERT INTO fewshot_members (set_id, image_id) VALUES (1, ?)').run(id);

    const preview = await call('labels.autoSplit', { testPercent: 20, valPercent: 10, seed: 1, preview: true });
    expect(preview.applied).toBe(false);
    expect(ctx.app.project.summary().splitCounts).toEqual({ train: 29, val: 0, test: 0 });
    expect(preview.perClass).toEqual([
      { classId: cat.id, name: 'cat', train: 7, val: 1, test: 2 },
      { classId: expect.any(Number), name: 'dog', train: 7, val: 1, test: 2 },
      { classId: expect.any(Number), name: 'golden retriever', train: 3, val: 1, test: 1 }
    ]);
    expect(preview.total).toEqual({ train: 17, val: 3, test: 5 });
    expect(preview.kept).toBe(2);
    expect(preview.moved).toBe(8);

    const result = await call('labels.autoSplit', { testPercent: 20, valPercent: 10, seed: 1 });
    expect(result).toMatchObject({ applied: true, moved: 8, total: preview.total, perClass: preview.perClass, history: { canUndo: true } });
    expect(ctx.app.project.summary().splitCounts).toEqual({ train: 21, val: 3, test: 5 }); // the 4 unlabeled stay in train
    expect(ctx.app.project.images(catIds.slice(0, 2)).map((r) => r.split)).toEqual(['train', 'train']);
    // The same request again changes nothing; another seed moves images.
    expect((await call('labels.autoSplit', { testPercent: 20, valPercent: 10, seed: 1 })).moved).toBe(0);
    // Undo restores every split at once.
    const undo = await call('labels.undo');
    expect(undo.description).toMatch(/^Undid: Split 25 images: 20% test, 10% validation, seed 1/);
    expect(ctx.app.project.summary().splitCounts).toEqual({ train: 29, val: 0, test: 0 });

    const withUnlabeled = await call('labels.autoSplit', { testPercent: 50, valPercent: 0, seed: 2, includeUnlabeled: true, keepFewShotInTrain: false });
    expect(withUnlabeled.perClass.at(-1)).toEqual({ classId: null, name: '(unlabeled)', train: 2, val: 0, test: 2 });
    expect(withUnlabeled.kept).toBe(0);
  });

  it('refuses shares of 100% or more, in words', async () => {
    expect((await callError('labels.autoSplit', { testPercent: 60, valPercent: 40, seed: 1 })).message).toMatch(/less than 100%/);
    expect((await callError('labels.autoSplit', { testPercent: 95, valPercent: 0, seed: 1 })).message).toMatch(/at most 90%/);
  });
});

describe('label export', () => {
  it('returns CSV, CoOp split and Label Studio JSON, and saves on the server when given a path', async () => {
    const cat = ctx.app.project.listClasses().find((c) => c.name === 'cat')!;
    await call('classes.rename', { id: cat.id, name: '=cat' });
    const csv = await call('labels.export', { format: 'csv' });
    expect(csv.fileName).toBe('pets-labels.csv');
    expect(csv.images).toBe(25);
    const lines = csv.content.trim().split('\r\n');
    expect(lines[0]).toBe('path,label,split');
    expect(lines[1]).toBe("/data/pets/train/cat/0000.jpg,'=cat,train");
    const all = await call('labels.export', { format: 'csv', includeUnlabeled: true });
    expect(all.images).toBe(29);
    expect(all.content).toContain('/data/inbox/scan_0.png,,train');

    const coop = await call('labels.export', { format: 'coop', includeUnlabeled: true });
    expect(coop.imageRoot).toBe('/data/pets/train');
    expect(coop.left).toBe(4);
    expect(JSON.parse(coop.content).train[0]).toEqual(['cat/0000.jpg', 0, '=cat']);

    const target = path.join(ctx.dir, 'exports');
    fs.mkdirSync(target);
    const ls = await call('labels.export', { format: 'labelstudio', file: target });
    expect(ls.savedTo).toBe(path.join(target, 'pets-labelstudio.json'));
    const tasks = JSON.parse(fs.readFileSync(ls.savedTo, 'utf8'));
    expect(tasks).toHaveLength(29);
    expect((await callError('labels.export', { format: 'csv', file: 'relative.csv' })).message).toMatch(/not a full path/);
    // A new path without an extension is a folder; one with an extension is the file itself.
    expect((await call('labels.export', { format: 'coop', file: path.join(ctx.dir, 'new', 'folder') })).savedTo).toBe(
      path.join(ctx.dir, 'new', 'folder', 'pets-split_coop.json')
    );
    expect((await call('labels.export', { format: 'csv', file: path.join(ctx.dir, 'mine.csv') })).savedTo).toBe(path.join(ctx.dir, 'mine.csv'));
    expect(fs.readFileSync(path.join(ctx.dir, 'mine.csv'), 'utf8')).toBe(csv.content);
    // An existing file is never replaced by a save: refused in words, the file left as it was.
    fs.writeFileSync(path.join(ctx.dir, 'keep.csv'), 'mine');
    expect((await callError('labels.export', { format: 'csv', file: path.join(ctx.dir, 'keep.csv') })).message).toMatch(
      /keep.csv already exists; nothing was written/
    );
    expect(fs.readFileSync(path.join(ctx.dir, 'keep.csv'), 'utf8')).toBe('mine');
  });
});
