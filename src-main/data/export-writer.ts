/**
 * Writes label exports to disk as one step: everything goes to a hidden temporary file or folder
 * beside the target, which is renamed into place only when it is complete, so a failure (a full
 * disk, a file that cannot be linked) leaves nothing half-written. An existing target is replaced
 * only when the caller says so (the app asks the person first).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../contract/errors';
import type { SkippedItem } from '../contract';
import type { ExportRow } from './label-export';
import { naturalCompare } from './natural-compare';

export type LinkMode = 'copy' | 'symlink' | 'hardlink';

/** fs.statSync that answers undefined for any path that is not there (also below a file: ENOTDIR). */
export function statOrNone(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

const tempName = (target: string, kind: 'tmp' | 'old') =>
  path.join(path.dirname(target), `.${path.basename(target)}.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`);

/** The words for an export target that exists, when replacing it was not confirmed. */
export function existsError(target: string, folder: boolean): AppError {
  return new AppError(
    'conflict',
    `${target} already exists${folder ? ' and is not empty' : ''}; nothing was written. Choose another ${folder ? 'folder' : 'file name'}, or confirm to replace it.`
  );
}

const isEmptyDir = (p: string) => {
  try {
    return fs.readdirSync(p).length === 0;
  } catch {
    return false;
  }
};

/** Writes `content` to `target` through a temporary file and a rename. Returns whether a file was replaced. */
export function writeFileAtomically(target: string, content: string | Buffer, options: { overwrite?: boolean } = {}): { replaced: boolean } {
  const stat = statOrNone(target);
  if (stat?.isDirectory()) throw new AppError('conflict', `${target} is a folder; nothing was written. Choose a file name inside it.`);
  if (stat && !options.overwrite) throw existsError(target, false);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tempName(target, 'tmp');
  try {
    const fd = fs.openSync(tmp, 'wx');
    try {
      fs.writeFileSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw error;
  }
  return { replaced: !!stat };
}

/** A class name as a folder name: path separators and characters Windows forbids become "_", never "." or "..". */
export function folderNameFor(name: string): string {
  let safe = name.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_').replace(/[. ]+$/, (m) => '_'.repeat(m.length));
  if (/^\.+$/.test(safe) || safe === '') safe = `_${safe}`;
  if (/^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i.test(safe)) safe = `_${safe}`;
  return safe.slice(0, 200);
}

export interface FolderExportOptions {
  link: LinkMode;
  /** train/, val/ and test/ folders, each with one folder per class (otherwise one folder per class). */
  bySplit?: boolean;
  overwrite?: boolean;
}

export interface FolderExportResult {
  images: number;
  classes: number;
  /** Unlabeled images (an ImageFolder has no place for them). */
  left: number;
  /** Files that could not be exported (missing on disk), with the reason. */
  skipped: SkippedItem[];
  replaced: boolean;
  /** Class names that needed another folder name (a character a folder name cannot have, or two classes with the same safe name). */
  renamed: { name: string; folder: string }[];
}

/**
 * ImageFolder export: one folder per class holding the class's images (copies, symbolic links to
 * the originals, or hard links), optionally under train/, val/ and test/. Built in a temporary folder
 * and renamed to `target` when complete.
 */
export function writeImageFolder(target: string, rows: readonly ExportRow[], options: FolderExportOptions): FolderExportResult {
  const existing = statOrNone(target);
  if (existing && !existing.isDirectory())
    throw new AppError('conflict', `${target} is a file; nothing was written. Choose a folder for the ImageFolder export.`);
  const replacing = !!existing && !isEmptyDir(target);
  if (replacing && !options.overwrite) throw existsError(target, true);

  // Folder names per class, unique case-insensitively (macOS and Windows folders ignore case).
  const folders = new Map<string, string>();
  const used = new Set<string>();
  const renamed: { name: string; folder: string }[] = [];
  const labeled = rows.filter((r) => r.label !== null);
  for (const name of [...new Set(labeled.map((r) => r.label!))].sort(naturalCompare)) {
    const base = folderNameFor(name);
    let folder = base;
    for (let n = 2; used.has(folder.toLowerCase()); n++) folder = `${base} (${n})`;
    used.add(folder.toLowerCase());
    folders.set(name, folder);
    if (folder !== name) renamed.push({ name, folder });
  }

  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tempName(target, 'tmp');
  const skipped: SkippedItem[] = [];
  let images = 0;
  try {
    fs.mkdirSync(tmp);
    const names = new Map<string, Set<string>>();
    for (const row of labeled) {
      const dir = path.join(...(options.bySplit ? [row.split] : []), folders.get(row.label!)!);
      let taken = names.get(dir);
      if (!taken) {
        names.set(dir, (taken = new Set()));
        fs.mkdirSync(path.join(tmp, dir), { recursive: true });
      }
      const source = statOrNone(row.path);
      if (!source?.isFile()) {
        skipped.push({ path: row.path, reason: source ? 'not a regular file' : 'file not found at its imported path; relink it first' });
        continue;
      }
      // Two images with the same file name in one class (from different folders): "name (2).jpg".
      const ext = path.extname(row.path);
      const stem = path.basename(row.path, ext);
      let file = `${stem}${ext}`;
      for (let n = 2; taken.has(file.toLowerCase()); n++) file = `${stem} (${n})${ext}`;
      taken.add(file.toLowerCase());
      const dest = path.join(tmp, dir, file);
      if (options.link === 'symlink') fs.symlinkSync(path.resolve(row.path), dest);
      else if (options.link === 'hardlink') {
        try {
          fs.linkSync(row.path, dest);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'EXDEV')
            throw new AppError(
              'invalid_input',
              `Hard links need the images and the export on the same disk, and ${row.path} is on another one than ${target}; nothing was written. Choose "copy" or "symbolic link", or a folder on the images' disk.`
            );
          if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP')
            throw new AppError(
              'invalid_input',
              `${path.dirname(target)} does not allow hard links (${code}); nothing was written. Choose "copy" or "symbolic link".`
            );
          throw error;
        }
      } else fs.copyFileSync(row.path, dest, fs.constants.COPYFILE_EXCL);
      images++;
    }
    if (replacing || existing) {
      // Replace: the old folder is moved aside, the new one takes its name, then the old one goes.
      const old = tempName(target, 'old');
      fs.renameSync(target, old);
      try {
        fs.renameSync(tmp, target);
      } catch (error) {
        fs.renameSync(old, target);
        throw error;
      }
      fs.rmSync(old, { recursive: true, force: true });
    } else fs.renameSync(tmp, target);
  } catch (error) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  return { images, classes: folders.size, left: rows.length - labeled.length, skipped, replaced: replacing, renamed };
}
