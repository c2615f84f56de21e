import fs from 'node:fs/promises';
import path from 'node:path';
import type { SkippedItem } from '../contract';
import { naturalSort } from '../data/natural-compare';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);

export const isHidden = (name: string) => name.startsWith('.') || name === 'Thumbs.db' || name === 'desktop.ini';

export function errnoReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'file not found';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied: the app may not read it';
    case 'ELOOP':
      return 'symbolic link loop';
    case 'EISDIR':
      return 'is a folder, not a file';
    default:
      return `cannot be read (${code ?? (error as Error).message})`;
  }
}

/** What a directory entry or stat result is, when it is neither a regular file nor a folder. */
export function specialFileKind(entry: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (entry.isFIFO()) return 'a named pipe (FIFO)';
  if (entry.isSocket()) return 'a socket';
  if (entry.isCharacterDevice()) return 'a character device';
  if (entry.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * Lists the image files under `dir` (recursively, following symbolic links once each). Files that are
 * not images, broken links and link loops are reported in `skipped`, hidden files are ignored.
 * `visited` holds the real paths of folders already listed (share it to walk several roots as one).
 */
export async function listImageFiles(dir: string, skipped: SkippedItem[], signal?: AbortSignal, visited = new Set<string>()): Promise<string[]> {
  const files: string[] = [];
  const visit = async (current: string): Promise<void> => {
    signal?.throwIfAborted();
    let real: string;
    try {
      real = await fs.realpath(current);
    } catch (error) {
      skipped.push({ path: current, reason: errnoReason(error) });
      return;
    }
    if (visited.has(real)) {
      skipped.push({ path: current, reason: `symbolic link loop: this folder is ${real}, which is already being imported` });
      return;
    }
    visited.add(real);
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(current, { withFileTypes: true });
    } catch (error) {
      skipped.push({ path: current, reason: `folder ${errnoReason(error)}` });
      return;
    }
    // Natural order (img2 before img10): the order images are imported in is the grid's order.
    for (const entry of naturalSort(entries, (e) => e.name)) {
      if (isHidden(entry.name)) continue;
      const full = path.join(current, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      let kind: Parameters<typeof specialFileKind>[0] = entry;
      if (entry.isSymbolicLink()) {
        try {
          const target = await fs.stat(full);
          isDir = target.isDirectory();
          isFile = target.isFile();
          kind = target;
        } catch (error) {
          skipped.push({ path: full, reason: `broken link: ${errnoReason(error)}` });
          continue;
        }
      }
      if (isDir) await visit(full);
      else if (isFile) {
        if (IMAGE_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) files.push(full);
        else
          skipped.push({
            path: full,
            reason: `not an image file (${path.extname(entry.name) || 'no extension'}); supported: JPEG, PNG, WebP, GIF, TIFF, AVIF`
          });
      } else {
        // Never opened: reading a named pipe or a device would wait forever (or never end).
        skipped.push({ path: full, reason: `is ${specialFileKind(kind)}, not an image file` });
      }
    }
  };
  await visit(dir);
  return files;
}
