import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import sharp from 'sharp';
import { aspectRatioProblem } from '../clip/preprocess';
import { errnoReason, specialFileKind } from './walk';

export const MAX_PIXELS = 100_000_000;
export const MAX_FILE_BYTES = 512 * 1024 * 1024;
export const THUMBNAIL_SIZE = 160;

export interface ProbedImage {
  hash: string;
  width: number;
  height: number;
  bytes: number;
  thumbnail: { mime: string; data: Buffer };
}

export type ProbeResult = { ok: true; image: ProbedImage } | { ok: false; reason: string };

const firstLine = (error: unknown) =>
  String((error as Error)?.message ?? error)
    .split('\n')[0]!
    .trim();

/** Reads one file and returns what the project stores about it, or the reason it cannot be imported. */
export async function probeImage(file: string): Promise<ProbeResult> {
  let bytes: Buffer;
  let handle: fs.FileHandle | undefined;
  try {
    // Opened without blocking and checked on the open handle: a named pipe (or a file swapped for one)
    // is refused at once instead of waiting forever for a writer.
    const notRegular = (stat: import('node:fs').Stats) =>
      stat.isDirectory() ? 'is a folder, not an image file' : stat.isFile() ? null : `is ${specialFileKind(stat)}, not an image file`;
    const before = notRegular(await fs.stat(file));
    if (before) return { ok: false, reason: before };
    handle = await fs.open(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
    const stat = await handle.stat();
    const after = notRegular(stat);
    if (after) return { ok: false, reason: after };
    if (stat.size === 0) return { ok: false, reason: 'empty file (0 bytes)' };
    if (stat.size > MAX_FILE_BYTES) return { ok: false, reason: `file is ${(stat.size / 2 ** 20).toFixed(0)} MB; the limit is ${MAX_FILE_BYTES / 2 ** 20} MB` };
    bytes = await handle.readFile();
  } catch (error) {
    return { ok: false, reason: errnoReason(error) };
  } finally {
    await handle?.close();
  }
  let width: number;
  let height: number;
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    if (!meta.width || !meta.height) return { ok: false, reason: 'not a readable image: its size is unknown' };
    width = meta.width;
    height = meta.height;
  } catch (error) {
    return { ok: false, reason: `not a readable image (${firstLine(error)})` };
  }
  // The shape CLIP preprocessing takes (see MAX_ASPECT_RATIO): refused here, not when features are computed.
  const shape = aspectRatioProblem(width, height);
  if (shape) return { ok: false, reason: shape };
  if (width * height > MAX_PIXELS) {
    return {
      ok: false,
      reason: `image is ${width}×${height} (${((width * height) / 1e6).toFixed(0)} megapixels); the limit is ${MAX_PIXELS / 1e6} megapixels`
    };
  }
  let data: Buffer;
  try {
    data = await sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'warning' })
      .autoOrient()
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 78, mozjpeg: false })
      .toBuffer();
  } catch (error) {
    return { ok: false, reason: `image data is truncated or corrupt (${firstLine(error)})` };
  }
  return {
    ok: true,
    image: { hash: createHash('sha256').update(bytes).digest('hex'), width, height, bytes: bytes.length, thumbnail: { mime: 'image/jpeg', data } }
  };
}

export async function hashFile(file: string): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
}
