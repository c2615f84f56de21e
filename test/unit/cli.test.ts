import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCliProcess } from '../helpers/cli';
import { makeImageFolder } from '../helpers/images';
import { tempDir } from '../helpers/temp';

const mocoop = runCli;

describe('mocoop CLI', () => {
  let tmp: ReturnType<typeof tempDir>;
  let project: string;
  let data: string;

  beforeAll(async () => {
    tmp = tempDir();
    project = path.join(tmp.dir, 'cli.mocoop');
    data = path.join(tmp.dir, 'images');
    await makeImageFolder(data, ['ant', 'bee'], 3);
    fs.writeFileSync(path.join(data, 'bee', 'empty.jpg'), '');
  });
  afterAll(() => tmp.cleanup());

  it('creates a project and prints exactly one JSON document', async () => {
    const result = await mocoop(['project', 'create', project, '--name', 'CLI test', '--json'], tmp.dir);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ name: 'CLI test', path: project, imageCount: 0 });
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('imports an image folder with --json: one document, skipped files listed', async () => {
    const result = await mocoop(['import', project, '--folder', data, '--json'], tmp.dir);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.imported).toBe(6);
    expect(summary.classesCreated).toEqual(['ant', 'bee']);
    expect(summary.skipped).toEqual([{ path: path.join(data, 'bee', 'empty.jpg'), reason: 'empty file (0 bytes)' }]);
  });

  it('info --json reports classes with counts, totals and problems', async () => {
    const result = await mocoop(['info', project, '--json'], tmp.dir);
    expect(result.code).toBe(0);
    const info = JSON.parse(result.stdout);
    expect(info.project.imageCount).toBe(6);
    expect(info.classes.map((c: { name: string; imageCount: number }) => [c.name, c.imageCount])).toEqual([
      ['ant', 3],
      ['bee', 3]
    ]);
    expect(info.problems).toContainEqual({ kind: 'skipped', path: path.join(data, 'bee', 'empty.jpg'), reason: 'empty file (0 bytes)' });
  });

  it('reports a bad source on stderr with a non-zero exit and no stack trace', async () => {
    const result = await mocoop(['import', project, '--csv', path.join(tmp.dir, 'nope.csv'), '--json'], tmp.dir);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('nope.csv');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\bat .+:\d+:\d+/);
  });

  it('shows the stack trace only with --debug', async () => {
    const result = await mocoop(['info', path.join(tmp.dir, 'missing.mocoop'), '--json', '--debug'], tmp.dir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/\bat .+:\d+:\d+/);
  });

  it('rejects unknown commands and options with a usage error', async () => {
    expect((await mocoop(['frobnicate'], tmp.dir)).code).toBe(2);
    const result = await mocoop(['import', project, '--folder', data, '--colour', 'red'], tmp.dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--colour');
  });

  it('refuses an import that names two sources', async () => {
    const result = await mocoop(['import', project, '--folder', data, '--csv', 'x.csv'], tmp.dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('exactly one source');
  });

  // The one test that starts the CLI as users do (`npm run mocoop -- …` runs `tsx src-main/cli/main.ts …`):
  // the same document, exit code and silence on stderr as the in-process runs above.
  it('the script run as `tsx src-main/cli/main.ts` prints what the in-process run prints', async () => {
    const script = await spawnCliProcess(['info', project, '--json'], tmp.dir, { entry: 'script', timeoutMs: 120_000 });
    expect(script.stderr).toBe('');
    expect(script.code).toBe(0);
    const inProcess = await mocoop(['info', project, '--json'], tmp.dir);
    expect(script.stdout).toBe(inProcess.stdout);
    expect(JSON.parse(script.stdout).project.imageCount).toBe(6);
  }, 180_000);
});
