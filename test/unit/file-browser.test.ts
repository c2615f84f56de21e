import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { dispatch } from '../../src-main/contract/dispatch';
import { AppServices } from '../../src-main/services/app-services';
import { MAX_ENTRIES, crumbsOf, listFolder, zipFolder } from '../../src-main/services/file-browser';
import { tempDir } from '../helpers/temp';

const isRoot = process.getuid?.() === 0;

describe('the server-side file browser', () => {
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  beforeAll(() => {
    tmp = tempDir('mocoop-browse-');
    root = tmp.dir;
    fs.mkdirSync(path.join(root, 'flowers', 'rose'), { recursive: true });
    fs.mkdirSync(path.join(root, 'flowers', 'tulip'), { recursive: true });
    fs.writeFileSync(path.join(root, 'flowers', 'rose', '001.jpg'), 'jpg');
    fs.mkdirSync(path.join(root, 'empty'));
    fs.mkdirSync(path.join(root, 'photos'));
    fs.writeFileSync(path.join(root, 'photos', 'a.PNG'), 'png');
    fs.writeFileSync(path.join(root, 'project.mocoop'), 'x'.repeat(10));
    fs.writeFileSync(path.join(root, 'labels.csv'), 'path,label\n');
    fs.writeFileSync(path.join(root, 'split.json'), '{}');
    fs.writeFileSync(path.join(root, '.hidden'), '');
    fs.symlinkSync(path.join(root, 'photos'), path.join(root, 'link-to-photos'));
    fs.symlinkSync(path.join(root, 'labels.csv'), path.join(root, 'link.csv'));
    fs.symlinkSync(path.join(root, 'nowhere'), path.join(root, 'dangling'));
    if (process.platform !== 'win32') execFileSync('mkfifo', [path.join(root, 'pipe.csv')]);
  });
  afterAll(() => tmp.cleanup());
  afterEach(() => vi.restoreAllMocks());

  it('lists folders first, then files, with sizes, links followed, and whether folders hold images', async () => {
    const listing = await listFolder(root);
    expect(listing.path).toBe(root);
    expect(listing.parent).toBe(path.dirname(root));
    expect(listing.entries.map((e) => `${e.kind}:${e.name}`)).toEqual([
      'folder:empty',
      'folder:flowers',
      'folder:link-to-photos',
      'folder:photos',
      'file:labels.csv',
      'file:link.csv',
      'file:project.mocoop',
      'file:split.json'
    ]);
    const byName = Object.fromEntries(listing.entries.map((e) => [e.name, e]));
    expect(byName['project.mocoop']!.size).toBe(10);
    expect(byName['link.csv']!).toMatchObject({ link: true, size: 11 });
    expect(byName['photos']!.hasImages).toBe(true);
    expect(byName['link-to-photos']!).toMatchObject({ link: true, hasImages: true });
    // One level only: the class folders hold the images, not flowers itself.
    expect(byName['flowers']!.hasImages).toBe(false);
    expect(byName['empty']!.hasImages).toBe(false);
    expect(listing.hidden).toBe(1);
    expect(listing.crumbs.at(-1)).toEqual({ name: path.basename(root), path: root });
  });

  it.skipIf(process.platform === 'win32')('skips a FIFO and a dangling link: never listed, never opened (the call returns)', async () => {
    const listing = await listFolder(root, { filter: 'csv' });
    expect(listing.entries.map((e) => e.name)).toEqual(['empty', 'flowers', 'link-to-photos', 'photos', 'labels.csv', 'link.csv']);
    expect(listing.skipped).toBe(2);
    // Asked for the FIFO itself: a clear refusal, no read.
    await expect(listFolder(path.join(root, 'pipe.csv'))).rejects.toThrow(/is not a folder \(it is a special file\)/);
    // Its folder's zip leaves it out too.
    const zipped = await zipFolder(root);
    expect(zipped.fileName).toBe(`${path.basename(root)}.zip`);
    const file = path.join(os.tmpdir(), `mocoop-browse-${process.pid}.zip`);
    fs.writeFileSync(file, Buffer.from(zipped.base64, 'base64'));
    const names = execFileSync('python3', ['-m', 'zipfile', '-l', file], { encoding: 'utf8' });
    fs.rmSync(file);
    expect(names).toContain('photos/a.PNG');
    // One level of sub-folders, no deeper.
    expect(names).not.toContain('rose/001.jpg');
    expect(names).toContain('labels.csv');
    expect(names).not.toContain('pipe.csv');
    expect(names).not.toContain('dangling');
  });

  it('filters: only folders, only .mocoop files, images; hidden files on request', async () => {
    expect((await listFolder(root, { filter: 'folders' })).entries.every((e) => e.kind === 'folder')).toBe(true);
    expect((await listFolder(root, { filter: 'mocoop' })).entries.filter((e) => e.kind === 'file').map((e) => e.name)).toEqual(['project.mocoop']);
    expect((await listFolder(root, { filter: 'json' })).entries.filter((e) => e.kind === 'file').map((e) => e.name)).toEqual(['split.json']);
    expect((await listFolder(path.join(root, 'photos'), { filter: 'images' })).entries.map((e) => e.name)).toEqual(['a.PNG']);
    const hidden = await listFolder(root, { hidden: true });
    expect(hidden.entries.map((e) => e.name)).toContain('.hidden');
    expect(hidden.hidden).toBe(0);
  });

  it('starts at the home folder; ~ and the nearest existing folder of a typed path', async () => {
    expect((await listFolder(undefined)).path).toBe(os.homedir());
    expect((await listFolder('~')).path).toBe(os.homedir());
    const near = await listFolder(path.join(root, 'project.mocoop'), { nearest: true });
    expect(near).toMatchObject({ path: root, selected: 'project.mocoop' });
    expect((await listFolder(path.join(root, 'not', 'yet', 'there'), { nearest: true })).path).toBe(root);
  });

  it('says in words what is wrong: missing, a file, no permission', async () => {
    await expect(listFolder(path.join(root, 'missing'))).rejects.toThrow(`There is no folder at ${path.join(root, 'missing')}.`);
    await expect(listFolder(path.join(root, 'labels.csv'))).rejects.toThrow(/labels\.csv is a file, not a folder/);
    // No permission: simulated (root reads everything), then for real where the tests are not run as root.
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    vi.spyOn(fsp, 'readdir').mockRejectedValueOnce(denied);
    await expect(listFolder(path.join(root, 'empty'))).rejects.toThrow(
      `No permission to open ${path.join(root, 'empty')}: the app's user may not read this folder.`
    );
  });

  it.skipIf(isRoot || process.platform === 'win32')('a folder without read permission is refused in words', async () => {
    const locked = path.join(root, 'locked');
    fs.mkdirSync(locked);
    fs.chmodSync(locked, 0o000);
    try {
      await expect(listFolder(locked)).rejects.toThrow(/No permission to open .*locked/);
      expect((await listFolder(root)).entries.find((e) => e.name === 'locked')?.hasImages).toBeNull();
    } finally {
      fs.chmodSync(locked, 0o755);
      fs.rmdirSync(locked);
    }
  });

  it.skipIf(process.platform !== 'linux')('lists /proc (stat only) but refuses to zip a kernel folder', async () => {
    expect((await listFolder('/proc')).entries.some((e) => e.name === 'self')).toBe(true);
    await expect(zipFolder('/proc/self')).rejects.toThrow(/is a system folder/);
    await expect(zipFolder('/sys/kernel')).rejects.toThrow(/is a system folder/);
  });

  it('caps a huge folder and says how many were left out', async () => {
    const big = path.join(root, 'big');
    fs.mkdirSync(big);
    for (let i = 0; i < MAX_ENTRIES + 5; i++) fs.writeFileSync(path.join(big, `f${i}.txt`), '');
    const listing = await listFolder(big);
    expect(listing.entries).toHaveLength(MAX_ENTRIES);
    expect(listing.truncated).toBe(5);
    fs.rmSync(big, { recursive: true });
  });

  it('breadcrumbs run from the root', () => {
    if (process.platform === 'win32') return;
    expect(crumbsOf('/a/b')).toEqual([
      { name: '/', path: '/' },
      { name: 'a', path: '/a' },
      { name: 'b', path: '/a/b' }
    ]);
    expect(crumbsOf('/')).toEqual([{ name: '/', path: '/' }]);
  });

  it('is served through the contract: files.list and files.zip', async () => {
    const services = new AppServices({ mode: 'web', configDir: path.join(root, 'config'), version: 'test' });
    try {
      const listed = await dispatch(services.handlers(), 'files.list', { path: root, filter: 'mocoop' });
      expect(listed.ok).toBe(true);
      const missing = await dispatch(services.handlers(), 'files.list', { path: path.join(root, 'missing') });
      expect(missing).toEqual({ ok: false, error: { code: 'not_found', message: `There is no folder at ${path.join(root, 'missing')}.` } });
      const zipped = await dispatch(services.handlers(), 'files.zip', { path: path.join(root, 'photos') });
      expect(zipped.ok && (zipped.value as { files: number }).files).toBe(1);
    } finally {
      services.dispose();
    }
  });
});
