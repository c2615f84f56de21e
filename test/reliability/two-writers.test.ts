import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Handlers, dispatch } from '../../src-main/contract/dispatch';
import { AppError } from '../../src-main/contract/errors';
import { runImport } from '../../src-main/importing/importer';
import { BUSY_TIMEOUT_MS } from '../../src-main/store/database';
import { ProjectStore } from '../../src-main/store/project-store';
import { runCli } from '../helpers/cli';
import { makeImageFolder } from '../helpers/images';
import { tempDir } from '../helpers/temp';

const count = (store: ProjectStore, table: string) => store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

/** Two writers on one project file: the one that loses the race says so in words and writes nothing. */
describe('two writers', () => {
  let tmp: ReturnType<typeof tempDir>;
  let images: string;
  beforeAll(async () => {
    tmp = tempDir();
    images = path.join(tmp.dir, 'images');
    await makeImageFolder(images, ['ant', 'bee'], 2);
  });
  afterAll(() => tmp.cleanup());

  it('every connection waits for a lock (busy_timeout) instead of failing at once', () => {
    const store = ProjectStore.create(path.join(tmp.dir, 'timeout.mocoop'));
    try {
      expect(store.db.pragma('busy_timeout', { simple: true })).toBe(BUSY_TIMEOUT_MS);
      const other = ProjectStore.open(store.file);
      expect(other.db.pragma('busy_timeout', { simple: true })).toBe(BUSY_TIMEOUT_MS);
      other.close();
    } finally {
      store.close();
    }
  });

  it('an import that cannot get the write lock is refused in words and writes nothing', async () => {
    const file = path.join(tmp.dir, 'race.mocoop');
    const holder = ProjectStore.create(file);
    const importer = ProjectStore.open(file);
    try {
      importer.db.pragma('busy_timeout = 200');
      holder.db.exec('BEGIN IMMEDIATE');
      const error = await runImport(importer, { kind: 'folder', dir: images }, { importId: 'loser' }).catch((e: unknown) => e);
      holder.db.exec('ROLLBACK');
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('busy');
      expect((error as AppError).message).toBe(`Another import is writing this project (${file}); nothing was changed. Try again when it has finished.`);
      expect([count(holder, 'images'), count(holder, 'classes'), count(holder, 'imports'), count(holder, 'thumbnails')]).toEqual([0, 0, 0, 0]);
      // Once the other writer is done, the same import goes through.
      expect((await runImport(importer, { kind: 'folder', dir: images }, { importId: 'again' })).imported).toBe(4);
    } finally {
      importer.close();
      holder.close();
    }
  });

  it('mocoop import against a project another process is writing: the words, exit 1, nothing written', async () => {
    const file = path.join(tmp.dir, 'cli-race.mocoop');
    const holder = ProjectStore.create(file);
    try {
      holder.db.exec('BEGIN IMMEDIATE');
      const result = await runCli(['import', file, '--folder', images, '--json'], tmp.dir);
      holder.db.exec('ROLLBACK');
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(`mocoop: Another import is writing this project (${file}); nothing was changed. Try again when it has finished.\n`);
      expect(result.code).toBe(1);
      expect(count(holder, 'images')).toBe(0);
    } finally {
      holder.close();
    }
  });

  it('a request that loses the race gets "busy" in words through either transport, never "Something went wrong"', async () => {
    const locked = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const handlers = {
      'classes.create': () => {
        throw locked;
      }
    } as unknown as Handlers;
    const logged: unknown[] = [];
    const reply = await dispatch(handlers, 'classes.create', { name: 'cat' }, (e) => logged.push(e));
    expect(reply).toEqual({
      ok: false,
      error: { code: 'busy', message: expect.stringContaining('is writing this project; nothing was changed. Try again when it has finished.') }
    });
    expect(logged).toEqual([]);
  });
});
