/**
 * kill -9 of `mocoop import` at a seeded moment — while it reads the images, and once its write to the
 * project has begun — leaves a project that passes PRAGMA integrity_check and holds either none or all
 * of the import (its images, thumbnails and its record), with every earlier image as it was; running
 * the import again then completes it.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '../../src-main/importing/importer';
import { ProjectStore } from '../../src-main/store/project-store';
import { makeImageFolder } from '../helpers/images';
import { spawnCli } from '../helpers/killable-cli';
import { tempDir } from '../helpers/temp';
import { makeRng } from './fuzz/prng';

const SEED = Number(process.env.MOCOOP_FUZZ_SEED ?? 9);
const CLASSES = ['ant', 'bee', 'moth', 'wasp'];
const PER_CLASS = 15;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const size = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : -1);

/** Every row of the project a kill could damage, read without the app's code. */
function state(file: string) {
  const db = new Database(file, { readonly: false });
  try {
    return {
      integrity: db.pragma('integrity_check', { simple: true }),
      foreignKeys: db.pragma('foreign_key_check') as unknown[],
      images: db
        .prepare('SELECT i.id, i.path, i.hash, i.split, c.name AS label FROM images i LEFT JOIN classes c ON c.id = i.label_id ORDER BY i.id')
        .all() as { id: number; path: string }[],
      thumbnails: db.prepare('SELECT count(*) FROM thumbnails t JOIN images i ON i.id = t.image_id').pluck().get() as number,
      imports: db.prepare('SELECT id, imported FROM imports ORDER BY finished_at, id').all() as { id: string; imported: number }[]
    };
  } finally {
    db.close();
  }
}

describe('kill -9 during an import', () => {
  let tmp: ReturnType<typeof tempDir>;
  let base: string;
  let big: string;
  let before: ReturnType<typeof state>;

  beforeAll(async () => {
    tmp = tempDir();
    big = path.join(tmp.dir, 'big');
    // Large enough that reading them (hash, decode, thumbnail) takes a while.
    await makeImageFolder(big, CLASSES, PER_CLASS, 1000);
    for (const [i, name] of CLASSES.entries()) {
      const dir = path.join(big, name);
      for (const f of fs.readdirSync(dir).slice(0, 3)) {
        const sharp = (await import('sharp')).default;
        const file = path.join(dir, f);
        const bytes = await sharp(fs.readFileSync(file))
          .resize(640 + i, 480)
          .jpeg({ quality: 90 })
          .toBuffer();
        fs.writeFileSync(file, bytes);
      }
    }
    base = path.join(tmp.dir, 'base.mocoop');
    const store = ProjectStore.create(base);
    const known = path.join(tmp.dir, 'known');
    await makeImageFolder(known, ['cat', 'dog'], 2, 5000);
    expect((await runImport(store, { kind: 'folder', dir: known }, { importId: 'known' })).imported).toBe(4);
    store.close();
    before = state(base);
  });
  afterAll(() => tmp.cleanup());

  it.each([
    ['while it reads the images', 0],
    ['once its write to the project has begun', 1]
  ])('%s: integrity ok, all or nothing, and importing again completes', async (_when, k) => {
    const rng = makeRng(SEED, 100 + k);
    const file = path.join(tmp.dir, `killed-${k}.mocoop`);
    fs.copyFileSync(base, file);
    const cli = spawnCli(['import', file, '--folder', big, '--json'], path.join(tmp.dir, 'home'), { MOCOOP_BACKEND: 'wasm' });
    // The moment: a seeded delay after the project is opened (its -shm file appears), or after its
    // write-ahead log first grows (the import's one transaction is being written).
    const shm = `${file}-shm`;
    const wal = `${file}-wal`;
    let killedAt: 'reading' | 'writing';
    const deadline = Date.now() + 60_000;
    while (cli.child.exitCode === null && Date.now() < deadline && size(shm) < 0) await sleep(2);
    if (k === 0) {
      await sleep(rng.int(5, 40));
      killedAt = 'reading';
    } else {
      const opened = size(wal);
      while (cli.child.exitCode === null && Date.now() < deadline && size(wal) <= opened) await sleep(1);
      await sleep(rng.int(0, 3));
      killedAt = 'writing';
    }
    cli.child.kill('SIGKILL');
    const end = await cli.exited;
    expect(end.signal, `the import ended by itself before the kill (${killedAt}): ${cli.stderr()}`).toBe('SIGKILL');

    const after = state(file);
    expect(after.integrity).toBe('ok');
    expect(after.foreignKeys).toEqual([]);
    // Every earlier image as it was.
    expect(after.images.slice(0, before.images.length)).toEqual(before.images);
    const added = after.images.length - before.images.length;
    // All or nothing: none of the import, or all of it with its thumbnails and its record.
    expect([0, CLASSES.length * PER_CLASS]).toContain(added);
    expect(after.thumbnails).toBe(after.images.length);
    expect(after.imports.length).toBe(added ? 2 : 1);
    if (added) expect(after.imports.at(-1)!.imported).toBe(added);

    // Running the import again (the app's own code on the recovered file) completes it.
    const store = ProjectStore.open(file);
    try {
      const again = await runImport(store, { kind: 'folder', dir: big }, { importId: 'again' });
      expect(again.imported + again.duplicates.length, JSON.stringify(again.skipped.slice(0, 3))).toBe(CLASSES.length * PER_CLASS);
      expect(again.imported).toBe(added ? 0 : CLASSES.length * PER_CLASS);
    } finally {
      store.close();
    }
    const final = state(file);
    expect(final.integrity).toBe('ok');
    expect(final.images.length).toBe(before.images.length + CLASSES.length * PER_CLASS);
    console.info(`kill -9 ${killedAt}: the killed import had written ${added ? 'all' : 'nothing'}`);
  });
});
