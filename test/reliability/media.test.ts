import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppServices } from '../../src-main/services/app-services';
import { loadMedia, readImportedFile } from '../../src-main/services/media';
import { makeImage } from '../helpers/images';
import { tempDir } from '../helpers/temp';

/** The media route serves an original only while the file is the one imported. */
describe('media: an original image is served only if it is still the imported file', () => {
  let tmp: ReturnType<typeof tempDir>;
  let services: AppServices;
  let file: string;
  let original: Buffer;
  let id: number;

  beforeAll(async () => {
    tmp = tempDir();
    file = await makeImage(path.join(tmp.dir, 'images', 'cat.png'), 7);
    original = fs.readFileSync(file);
    services = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config'), version: 't' });
    services.createProject(path.join(tmp.dir, 'media.mocoop'));
    expect((await services.importSource('m', { kind: 'paths', paths: [file] })).imported).toBe(1);
    id = services.openProject!.imageIds({})[0]!;
  });
  afterAll(() => {
    services.dispose();
    tmp.cleanup();
  });

  const restore = () => {
    fs.rmSync(file, { force: true });
    fs.writeFileSync(file, original);
  };

  it('serves the imported file', async () => {
    const found = await loadMedia(services, 'image', String(id));
    expect(found?.mime).toBe('image/png');
    expect(found?.data.equals(original)).toBe(true);
  });

  it.runIf(process.platform !== 'win32')('refuses the file swapped for a link to /etc/passwd', async () => {
    fs.rmSync(file);
    fs.symlinkSync('/etc/passwd', file);
    try {
      expect(await loadMedia(services, 'image', String(id))).toBeNull();
      const image = services.openProject!.images([id])[0]!;
      expect(await readImportedFile(file, image)).toEqual({ ok: false, reason: expect.stringContaining(`${file} changed since it was imported`) });
    } finally {
      restore();
    }
    expect((await loadMedia(services, 'image', String(id)))?.data.equals(original)).toBe(true);
  });

  it('refuses a file of the same size with other content (hash checked again when the mtime changes)', async () => {
    expect(await loadMedia(services, 'image', String(id))).not.toBeNull();
    const changed = Buffer.from(original);
    changed[changed.length - 20]! ^= 0xff;
    fs.writeFileSync(file, changed);
    const later = new Date(Date.now() + 5_000);
    fs.utimesSync(file, later, later);
    try {
      expect(await loadMedia(services, 'image', String(id))).toBeNull();
    } finally {
      restore();
    }
    expect((await loadMedia(services, 'image', String(id)))?.data.equals(original)).toBe(true);
  });

  it.runIf(process.platform !== 'win32')('refuses a named pipe at once', async () => {
    fs.rmSync(file);
    execFileSync('mkfifo', [file]);
    try {
      const started = Date.now();
      expect(await loadMedia(services, 'image', String(id))).toBeNull();
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      restore();
    }
  });
});
