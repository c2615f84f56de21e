import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli';
import { makeImageFolder } from '../../helpers/images';
import { tempDir } from '../../helpers/temp';

// The CLI's data management: split on import, label exports, Label Studio import, project folders.
describe('mocoop CLI: data management', () => {
  let tmp: ReturnType<typeof tempDir>;
  let data: string;

  beforeAll(async () => {
    tmp = tempDir('mocoop-cli-data-');
    data = path.join(tmp.dir, 'images');
    await makeImageFolder(data, ['ant', 'bee', 'cicada'], 10, 300);
  });
  afterAll(() => tmp.cleanup());

  it('project create still makes a missing folder; import --test-percent/--val-percent/--split-seed holds out per class, the same way twice', async () => {
    const project = path.join(tmp.dir, 'not', 'yet', 'a.mocoop');
    expect((await runCli(['project', 'create', project], tmp.dir)).code).toBe(0);
    const first = await runCli(['import', project, '--folder', data, '--test-percent', '20', '--val-percent', '10', '--split-seed', '1', '--json'], tmp.dir);
    expect(first.stderr).toBe('');
    const summary = JSON.parse(first.stdout);
    expect(summary.splitCounts).toEqual({ train: 21, val: 3, test: 6 });
    expect(summary.perClass).toEqual(['ant', 'bee', 'cicada'].map((name) => ({ name, train: 7, val: 1, test: 2 })));
    expect(summary.holdOut).toEqual({ testPercent: 20, valPercent: 10, seed: 1 });

    const a = path.join(tmp.dir, 'a.csv');
    expect((await runCli(['export-labels', project, '--format', 'csv', '--out', a], tmp.dir)).code).toBe(0);
    expect(
      fs
        .readFileSync(a, 'utf8')
        .split('\r\n')
        .filter((l) => l.endsWith(',test'))
    ).toHaveLength(6);

    // Never replaced without --overwrite.
    const again = await runCli(['export-labels', project, '--format', 'csv', '--out', a], tmp.dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists; nothing was written/);

    // ImageFolder with links, by split; Label Studio export imported back.
    const folder = path.join(tmp.dir, 'folder-export');
    const exported = await runCli(['export-labels', project, '--format', 'imagefolder', '--out', folder, '--link', 'symlink', '--by-split', '--json'], tmp.dir);
    expect(JSON.parse(exported.stdout)).toMatchObject({ format: 'imagefolder', images: 30, left: 0 });
    expect(fs.readdirSync(path.join(folder, 'test', 'ant'))).toHaveLength(2);
    const tasks = path.join(tmp.dir, 'tasks.json');
    expect((await runCli(['export-labels', project, '--format', 'labelstudio', '--out', tasks], tmp.dir)).code).toBe(0);
    const third = path.join(tmp.dir, 'c.mocoop');
    await runCli(['project', 'create', third], tmp.dir);
    const back = JSON.parse((await runCli(['import', third, '--label-studio', tasks, '--json'], tmp.dir)).stdout);
    expect(back).toMatchObject({ imported: 30, splitCounts: { train: 21, val: 3, test: 6 } });
  });

  it('bad split flags are refused as usage errors', async () => {
    const project = path.join(tmp.dir, 'flags.mocoop');
    const over = await runCli(['import', project, '--folder', data, '--test-percent', '60', '--val-percent', '50'], tmp.dir);
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(/--test-percent and --val-percent together must be less than 100/);
    const word = await runCli(['import', project, '--folder', data, '--test-percent', 'twenty'], tmp.dir);
    expect(word.stderr).toMatch(/--test-percent must be a number \(got "twenty"\)/);
    const link = await runCli(['export-labels', project, '--format', 'csv', '--out', path.join(tmp.dir, 'x.csv'), '--link', 'symlink'], tmp.dir);
    expect(link.stderr).toMatch(/--link and --by-split apply to --format imagefolder only/);
  });
});
