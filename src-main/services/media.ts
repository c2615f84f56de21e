import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AppServices } from './app-services';

const MIME: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.jpe': 'image/jpeg',
  '.jfif': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.avif': 'image/avif'
};

export type MediaKind = 'thumb' | 'image';

/** Per file: the stat signature (real path, device, inode, size, mtime) under which its content hash was last verified. */
const verified = new Map<string, string>();
const MAX_VERIFIED = 20_000;

/**
 * The bytes of an imported image, only if the file is still the one imported: its real path is a
 * regular file of the recorded size whose content hash is the recorded one (re-hashed whenever the
 * real path, inode, size or mtime changed). A file swapped for a link to /etc/passwd, or for anything
 * else, is refused with the reason. Reads on a non-blocking handle: a named pipe cannot hold it up.
 */
export async function readImportedFile(
  file: string,
  expected: { hash: string; bytes: number }
): Promise<{ ok: true; data: Buffer } | { ok: false; reason: string }> {
  let handle: fs.FileHandle | undefined;
  try {
    const real = await fs.realpath(file);
    handle = await fs.open(real, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
    const stat = await handle.stat();
    if (!stat.isFile()) return { ok: false, reason: `${file} is no longer a regular file` };
    if (stat.size !== expected.bytes)
      return { ok: false, reason: `${file} changed since it was imported (${stat.size} bytes, imported with ${expected.bytes})` };
    const data = await handle.readFile();
    if (data.length !== expected.bytes) return { ok: false, reason: `${file} changed while it was read` };
    const signature = `${real}\0${stat.dev}\0${stat.ino}\0${stat.size}\0${stat.mtimeMs}`;
    if (verified.get(file) !== signature) {
      verified.delete(file);
      if (createHash('sha256').update(data).digest('hex') !== expected.hash)
        return { ok: false, reason: `${file} changed since it was imported (its content is different)` };
      if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value!);
      verified.set(file, signature);
    }
    return { ok: true, data };
  } catch (error) {
    return { ok: false, reason: `${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  } finally {
    await handle?.close().catch(() => {});
  }
}

/**
 * Serves only what the open project has registered: a thumbnail from the database or the original
 * file of an image id, if that file is still the one imported (see readImportedFile). Nothing else
 * on disk is reachable through a media URL.
 */
export async function loadMedia(services: AppServices, kind: string, rawId: string): Promise<{ mime: string; data: Buffer } | null> {
  const store = services.openProject;
  const id = Number(rawId);
  if (!store || !Number.isInteger(id) || id <= 0) return null;
  if (kind === 'thumb') return store.thumbnail(id) ?? null;
  if (kind !== 'image') return null;
  const image = store.images([id])[0];
  if (!image) return null;
  const read = await readImportedFile(image.path, image);
  if (!read.ok) return null;
  return { mime: MIME[path.extname(image.path).toLowerCase()] ?? 'application/octet-stream', data: read.data };
}
