import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requests } from '../../src-main/contract';
import { runImport } from '../../src-main/importing/importer';
import { ProjectStore } from '../../src-main/store/project-store';
import { TrainingStore } from '../../src-main/store/training-store';
import { runCli } from '../helpers/cli';
import { makeImage } from '../helpers/images';
import { tempDir } from '../helpers/temp';

/** The CLI and the importers apply the limits of the app's contract (one schema for both). */
describe('the CLI and importers apply the contract limits', () => {
  let tmp: ReturnType<typeof tempDir>;
  let project: string;
  const groupsFile = () => path.join(tmp.dir, `groups-${Math.random().toString(36).slice(2)}.json`);
  const exported = async () => {
    const out = groupsFile();
    expect((await runCli(['templates', project, '--export', out], tmp.dir)).code).toBe(0);
    return JSON.parse(fs.readFileSync(out, 'utf8'));
  };

  beforeAll(async () => {
    tmp = tempDir();
    project = path.join(tmp.dir, 'limits.mocoop');
    expect((await runCli(['project', 'create', project], tmp.dir)).code).toBe(0);
    const file = groupsFile();
    fs.writeFileSync(file, JSON.stringify({ groups: [{ name: 'photos', templates: ['a photo of a {}.'] }] }));
    expect((await runCli(['templates', project, '--import', file], tmp.dir)).code).toBe(0);
  });
  afterAll(() => tmp.cleanup());

  it('templates --import refuses 10,000 templates in a group, 101 groups and a 501-character template, and keeps the groups', async () => {
    const before = await exported();
    const cases: [unknown, RegExp][] = [
      [
        { groups: [{ name: 'many', templates: Array.from({ length: 10_000 }, (_, i) => `photo ${i} of a {}.`) }] },
        /groups\[0\]\.templates has 10,000 entries; at most 200 are allowed/
      ],
      [{ groups: Array.from({ length: 101 }, (_, i) => ({ name: `g${i}`, templates: ['a {}.'] })) }, /groups has 101 entries; at most 100 are allowed/],
      [
        { groups: [{ name: 'long', templates: [`a ${'very '.repeat(100)}photo of a {}.`] }] },
        /groups\[0\]\.templates\[0\] is 5\d\d characters long; at most 500 are allowed/
      ]
    ];
    for (const [content, message] of cases) {
      const file = groupsFile();
      fs.writeFileSync(file, JSON.stringify(content));
      const result = await runCli(['templates', project, '--import', file], tmp.dir);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(file);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/unexpected error/);
    }
    expect(await exported()).toEqual(before);
  });

  it('the store refuses what the contract refuses, for every caller', () => {
    const store = ProjectStore.open(project);
    try {
      const groups = [{ name: 'many', templates: Array.from({ length: 201 }, (_, i) => `photo ${i} of a {}.`) }];
      expect(requests['templates.setGroups'].input.safeParse({ groups }).success).toBe(false);
      expect(() => new TrainingStore(store).replaceTemplateGroups(groups)).toThrow(/groups\[0\]\.templates has 201 entries; at most 200/);
    } finally {
      store.close();
    }
  });

  it.each([
    [['--epochs', '5000'], '--epochs must be at most 1000 (got 5000).'],
    [['--lr', '1e12'], '--lr must be at most 10 (got 1000000000000).'],
    [['--lr', '0'], '--lr must be more than 0 (got 0).'],
    [['--batch-size', '100000'], '--batch-size must be at most 4096 (got 100000).'],
    [['--k-experts', '65'], '--k-experts must be at most 64 (got 65).'],
    [['--aug-views', '33'], '--aug-views must be at most 32 (got 33).'],
    [['--lambda1', '1e6'], '--lambda1 must be at most 1000 (got 1000000).'],
    [['--tau-ce', '11'], '--tau-ce must be at most 10 (got 11).']
  ])('train %j is a usage error with the app limit', async (flags, message) => {
    const result = await runCli(['train', project, '--model', path.join(tmp.dir, 'no-model'), ...flags], tmp.dir);
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
  });

  it('fewshot --k beyond the app limit is a usage error', async () => {
    const result = await runCli(['fewshot', project, '--k', '20000'], tmp.dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('images per class (k) can be at most 10,000');
  });

  it('CSV, split and folder labels longer than a typed class name may be are skipped with the reason', async () => {
    const images = path.join(tmp.dir, 'labels');
    const long = 'x'.repeat(201);
    await makeImage(path.join(images, 'a.jpg'), 1);
    await makeImage(path.join(images, 'b.jpg'), 2);
    await makeImage(path.join(images, 'c.jpg'), 3);
    const csv = path.join(images, 'labels.csv');
    fs.writeFileSync(csv, `path,label\na.jpg,cat\nb.jpg,${long}\nc.jpg,   \n`);
    const store = ProjectStore.create(path.join(tmp.dir, 'labels.mocoop'));
    try {
      const summary = await runImport(store, { kind: 'csv', file: csv }, { importId: 'csv' });
      expect(summary.imported).toBe(2);
      expect(summary.skipped).toEqual([
        { path: `${csv} line 3`, reason: expect.stringMatching(/is 201 characters long; a class name can have at most 200 characters/) }
      ]);
      expect(store.listClasses().map((c) => c.name)).toEqual(['cat']);

      const split = path.join(images, 'split.json');
      fs.writeFileSync(
        split,
        JSON.stringify({
          train: [
            ['a.jpg', 0, 'dog'],
            ['b.jpg', 1, long]
          ],
          test: [['c.jpg', 2, '  ']]
        })
      );
      const fromSplit = await runImport(store, { kind: 'coopSplit', file: split, imageRoot: images }, { importId: 'split' });
      expect(fromSplit.skipped.map((s) => s.path)).toEqual([`${split} test[0]`, `${split} train[1]`]);
      expect(fromSplit.skipped[0]!.reason).toContain('a class name cannot be empty');
      expect(fromSplit.skipped[1]!.reason).toContain('a class name can have at most 200 characters');
      expect(store.listClasses().every((c) => c.name.length <= 200 && c.name.trim() === c.name && c.name.length > 0)).toBe(true);

      const folder = path.join(tmp.dir, 'folder');
      await makeImage(path.join(folder, 'y'.repeat(210), 'd.jpg'), 4);
      await makeImage(path.join(folder, 'ok', 'e.jpg'), 5);
      const fromFolder = await runImport(store, { kind: 'folder', dir: folder }, { importId: 'folder' });
      expect(fromFolder.imported).toBe(1);
      expect(fromFolder.skipped).toEqual([
        { path: path.join(folder, 'y'.repeat(210)), reason: expect.stringContaining('class folder not imported: label "yyy') }
      ]);
    } finally {
      store.close();
    }
  });
});
