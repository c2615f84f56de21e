import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src-main/contract/errors';
import { runImport } from '../../src-main/importing/importer';
import { probeImage } from '../../src-main/importing/image-probe';
import { AppServices } from '../../src-main/services/app-services';
import { ProjectStore } from '../../src-main/store/project-store';
import { makeImageFolder } from '../helpers/images';
import { tempDir } from '../helpers/temp';

const count = (store: ProjectStore, table: string) => store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

describe('an import is one transaction: its record, the duplicate check and its images', () => {
  let tmp: ReturnType<typeof tempDir>;
  let first: string;
  let second: string;
  beforeAll(async () => {
    tmp = tempDir();
    first = path.join(tmp.dir, 'first');
    second = path.join(tmp.dir, 'second');
    await makeImageFolder(first, ['ant', 'bee'], 2, 1);
    await makeImageFolder(second, ['cat', 'dog'], 2, 100);
  });
  afterAll(() => tmp.cleanup());

  it('a reused import id is refused in words and writes nothing (no images committed before the failure)', async () => {
    const store = ProjectStore.create(path.join(tmp.dir, 'reuse.mocoop'));
    try {
      expect((await runImport(store, { kind: 'folder', dir: first }, { importId: 'same' })).imported).toBe(4);
      const error = await runImport(store, { kind: 'folder', dir: second }, { importId: 'same' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('conflict');
      expect((error as AppError).message).toContain('An import with the id "same" is already recorded');
      expect((error as AppError).message).toContain('nothing was imported');
      expect(count(store, 'images')).toBe(4);
      expect(store.listClasses().map((c) => c.name)).toEqual(['ant', 'bee']);
      expect(count(store, 'imports')).toBe(1);
    } finally {
      store.close();
    }
  });

  it('the duplicate check runs inside the write: an image another writer added meanwhile is a duplicate, not a failure', async () => {
    const file = path.join(tmp.dir, 'race.mocoop');
    const store = ProjectStore.create(file);
    const other = ProjectStore.open(file);
    try {
      const raced = path.join(second, 'cat', 'cat_000.jpg');
      const probe = await probeImage(raced);
      if (!probe.ok) throw new Error(probe.reason);
      const summary = await runImport(
        store,
        { kind: 'folder', dir: second },
        {
          importId: 'race',
          onProgress: (p) => {
            // Another connection commits one of the same images between reading and saving.
            if (p.phase === 'saving') other.insertImages([{ ...probe.image, path: raced, label: 'cat', split: 'train', source: 'other writer' }], []);
          }
        }
      );
      expect(summary.imported).toBe(3);
      expect(summary.duplicates).toEqual([{ path: raced, duplicateOf: raced }]);
      expect(count(store, 'images')).toBe(4);
      expect(count(store, 'imports')).toBe(1);
    } finally {
      other.close();
      store.close();
    }
  });

  it('through the services: the first import sends a change event; a reused id fails before reading and sends none', async () => {
    const services = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config'), version: 't' });
    const events: string[] = [];
    services.events.subscribe((name) => events.push(name));
    try {
      services.createProject(path.join(tmp.dir, 'svc.mocoop'));
      await services.importSource('svc-1', { kind: 'folder', dir: first });
      expect(events.filter((e) => e === 'project.changed')).toHaveLength(1);
      events.length = 0;
      await expect(services.importSource('svc-1', { kind: 'folder', dir: second })).rejects.toThrow(/already recorded/);
      expect(events).not.toContain('project.changed');
      expect(events.filter((e) => e === 'import.progress')).toHaveLength(0);
      expect(services.info().project.imageCount).toBe(4);
    } finally {
      services.dispose();
    }
    expect(fs.existsSync(path.join(tmp.dir, 'svc.mocoop'))).toBe(true);
  });
});
