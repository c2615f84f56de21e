/**
 * The server-side file browser behind every path field in web mode (and the zip download of a
 * report folder): lists one folder of the machine running the services, bounded in work.
 *
 * It refuses nothing a person could type into a path field anyway, but it never opens anything but
 * folders: entries are classified with lstat/stat only, and FIFOs, sockets and devices are skipped
 * (never shown, never followed), so a named pipe cannot make it hang.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FileFilter, FileListing, FileEntry, ZippedFolder } from '../contract';
import { AppError } from '../contract/errors';
import { IMAGE_EXTENSIONS, isHidden } from '../importing/walk';
import { buildZip, type ZipEntry } from './zip';

/** The most entries one listing returns (the rest is counted, not listed). */
export const MAX_ENTRIES = 2000;
/** Folders whose contents are looked into (one level) to tell whether they hold images. */
export const MAX_PEEKED_FOLDERS = 300;
/** Names read from each such folder before giving up on finding an image. */
export const MAX_PEEK_NAMES = 1000;
/** The largest archive `zipFolder` builds in memory. */
export const MAX_ZIP_BYTES = 200 * 2 ** 20;
export const MAX_ZIP_FILES = 2000;
const SYSTEM_ROOTS = ['/proc', '/sys', '/dev'];

const FILE_EXTENSIONS: Partial<Record<FileFilter, string[]>> = {
  mocoop: ['.mocoop'],
  csv: ['.csv', '.tsv', '.txt'],
  json: ['.json'],
  images: [...IMAGE_EXTENSIONS]
};

const isImage = (name: string) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());

/** A system error about `target`, in words. */
export function describeFsError(error: unknown, target: string): AppError {
  if (error instanceof AppError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return new AppError('not_found', `There is no folder at ${target}.`);
    case 'ENOTDIR':
      return new AppError('invalid_input', `${target} is not a folder.`);
    case 'EACCES':
    case 'EPERM':
      return new AppError('bad_source', `No permission to open ${target}: the app's user may not read this folder.`);
    case 'ELOOP':
      return new AppError('bad_source', `${target} is a symbolic link that points back to itself (a link loop).`);
    default:
      return new AppError('bad_source', `${target} cannot be read (${code ?? (error as Error).message}).`);
  }
}

function resolveInput(input: string | undefined): string {
  const typed = (input ?? '').trim();
  if (!typed) return os.homedir();
  if (typed === '~') return os.homedir();
  if (typed.startsWith('~/') || typed.startsWith('~\\')) return path.join(os.homedir(), typed.slice(2));
  // A relative path means nothing to a person using a browser on another machine: from the home folder.
  return path.resolve(os.homedir(), typed);
}

/** The folders from the root down to `abs`, for breadcrumbs. */
export function crumbsOf(abs: string): { name: string; path: string }[] {
  const root = path.parse(abs).root;
  const crumbs = [{ name: root, path: root }];
  let at = root;
  for (const part of abs.slice(root.length).split(path.sep).filter(Boolean)) {
    at = path.join(at, part);
    crumbs.push({ name: part, path: at });
  }
  return crumbs;
}

/** Whether a folder holds image files directly (one level, bounded); null when it cannot be read. */
async function holdsImages(dir: string): Promise<boolean | null> {
  let handle: import('node:fs').Dir | null = null;
  try {
    handle = await fs.opendir(dir, { bufferSize: 64 });
    let read = 0;
    for await (const entry of handle) {
      if (++read > MAX_PEEK_NAMES) break;
      if (isImage(entry.name) && !isHidden(entry.name) && (entry.isFile() || entry.isSymbolicLink())) return true;
    }
    return false;
  } catch {
    return null;
  } finally {
    // for-await closes the handle when it finishes or breaks; closing twice throws, which is fine to ignore.
    await handle?.close().catch(() => undefined);
  }
}

export interface ListOptions {
  filter?: FileFilter;
  hidden?: boolean;
  /** When the path is missing or a file: list the nearest existing folder above it instead of failing. */
  nearest?: boolean;
}

/** One folder's entries: folders first, then files, each by name; non-regular entries skipped. */
export async function listFolder(input: string | undefined, options: ListOptions = {}): Promise<FileListing> {
  const filter = options.filter ?? 'all';
  let abs = resolveInput(input);
  let selected: string | null = null;
  if (options.nearest) {
    for (;;) {
      const stat = await fs.stat(abs).catch(() => null);
      if (stat?.isDirectory()) break;
      if (stat?.isFile() && selected === null) selected = path.basename(abs);
      const parent = path.dirname(abs);
      if (parent === abs) break;
      abs = parent;
    }
  }
  let stat: import('node:fs').Stats;
  try {
    stat = await fs.stat(abs);
  } catch (error) {
    throw describeFsError(error, abs);
  }
  if (!stat.isDirectory()) {
    throw new AppError('invalid_input', stat.isFile() ? `${abs} is a file, not a folder.` : `${abs} is not a folder (it is a special file).`);
  }
  let dirents: import('node:fs').Dirent[];
  try {
    dirents = await fs.readdir(abs, { withFileTypes: true });
  } catch (error) {
    throw describeFsError(error, abs);
  }

  const extensions = FILE_EXTENSIONS[filter];
  const entries: FileEntry[] = [];
  let skipped = 0;
  let hiddenCount = 0;
  for (const dirent of dirents) {
    const name = dirent.name;
    if (isHidden(name) && !options.hidden) {
      hiddenCount++;
      continue;
    }
    const full = path.join(abs, name);
    let kind: 'folder' | 'file';
    let size: number | null = null;
    let modified: number | null = null;
    const link = dirent.isSymbolicLink();
    if (dirent.isDirectory()) kind = 'folder';
    else if (dirent.isFile()) kind = 'file';
    else if (link) {
      // Follow a link with stat (never open it): what it points at decides, a dangling one is skipped.
      const target = await fs.stat(full).catch(() => null);
      if (target?.isDirectory()) kind = 'folder';
      else if (target?.isFile()) {
        kind = 'file';
        size = target.size;
        modified = target.mtimeMs;
      } else {
        skipped++;
        continue;
      }
    } else {
      // FIFO, socket, character or block device: never shown, never followed.
      skipped++;
      continue;
    }
    if (kind === 'file') {
      if (filter === 'folders') continue;
      if (extensions && !extensions.includes(path.extname(name).toLowerCase())) continue;
    }
    entries.push({ name, path: full, kind, size, modified, link, hasImages: null });
  }
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: 'base' }) : a.kind === 'folder' ? -1 : 1));
  const truncated = Math.max(0, entries.length - MAX_ENTRIES);
  const shown = entries.slice(0, MAX_ENTRIES);

  // Sizes of plain files, and whether folders hold images: stat/opendir only, bounded, a few at a time.
  const work: (() => Promise<void>)[] = [];
  let peeked = 0;
  for (const entry of shown) {
    if (entry.kind === 'file' && entry.size === null) {
      work.push(async () => {
        const s = await fs.lstat(entry.path).catch(() => null);
        if (s) {
          entry.size = s.size;
          entry.modified = s.mtimeMs;
        }
      });
    } else if (entry.kind === 'folder' && peeked++ < MAX_PEEKED_FOLDERS) {
      work.push(async () => {
        entry.hasImages = await holdsImages(entry.path);
      });
    }
  }
  for (let i = 0; i < work.length; i += 32) await Promise.all(work.slice(i, i + 32).map((job) => job()));

  const parent = path.dirname(abs);
  return {
    path: abs,
    parent: parent === abs ? null : parent,
    home: os.homedir(),
    separator: path.sep,
    crumbs: crumbsOf(abs),
    entries: shown,
    truncated,
    skipped,
    hidden: options.hidden ? 0 : hiddenCount,
    selected
  };
}

/**
 * A folder's regular files (and those of its sub-folders, one level down) as one store-only ZIP,
 * base64-encoded for the contract. Special files are skipped; links are followed to regular files only.
 */
export async function zipFolder(input: string): Promise<ZippedFolder> {
  const abs = resolveInput(input);
  let stat: import('node:fs').Stats;
  try {
    stat = await fs.stat(abs);
  } catch (error) {
    throw describeFsError(error, abs);
  }
  if (!stat.isDirectory()) throw new AppError('invalid_input', `${abs} is not a folder.`);
  // Kernel folders hold "files" that never end or block when read (/proc/kmsg): not something to zip.
  const real = await fs.realpath(abs).catch(() => abs);
  if (process.platform !== 'win32' && SYSTEM_ROOTS.some((root) => real === root || real.startsWith(`${root}/`))) {
    throw new AppError('invalid_input', `${abs} is a system folder (${real}); its files cannot be downloaded.`);
  }
  const entries: ZipEntry[] = [];
  let bytes = 0;
  const add = async (dir: string, prefix: string, depth: number) => {
    let dirents: import('node:fs').Dirent[];
    try {
      dirents = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      throw describeFsError(error, dir);
    }
    dirents.sort((a, b) => a.name.localeCompare(b.name));
    for (const dirent of dirents) {
      const full = path.join(dir, dirent.name);
      const target = dirent.isSymbolicLink() ? await fs.stat(full).catch(() => null) : dirent;
      if (!target) continue;
      if (target.isDirectory()) {
        if (depth < 1) await add(full, `${prefix}${dirent.name}/`, depth + 1);
        continue;
      }
      if (!target.isFile()) continue;
      const info = await fs.stat(full);
      if (!info.isFile()) continue;
      bytes += info.size;
      if (entries.length >= MAX_ZIP_FILES) throw new AppError('invalid_input', `${abs} holds more than ${MAX_ZIP_FILES} files; download fewer at once.`);
      if (bytes > MAX_ZIP_BYTES) throw new AppError('invalid_input', `${abs} holds more than ${MAX_ZIP_BYTES / 2 ** 20} MB; too much to download at once.`);
      let data: Buffer;
      try {
        data = await fs.readFile(full);
      } catch (error) {
        throw describeFsError(error, full);
      }
      // What was read counts, not what stat said (a file may have grown since).
      bytes += data.length - info.size;
      if (bytes > MAX_ZIP_BYTES) throw new AppError('invalid_input', `${abs} holds more than ${MAX_ZIP_BYTES / 2 ** 20} MB; too much to download at once.`);
      entries.push({ name: `${prefix}${dirent.name}`, data, modified: info.mtime });
    }
  };
  await add(abs, '', 0);
  const zip = buildZip(entries);
  return {
    fileName: `${path.basename(abs) || 'folder'}.zip`,
    base64: Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength).toString('base64'),
    files: entries.length,
    bytes: zip.byteLength
  };
}
