/**
 * Label exports saved on the machine running the services (the Images page's Save and the CLI's
 * export-labels): CSV, CoOp split JSON, Label Studio JSON and ImageFolder (copies or links), each
 * written through a temporary file or folder and a rename, never over an existing one unless asked.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { ExportToRequest, ExportToResult } from '../contract';
import type { Handlers } from '../contract/dispatch';
import { AppError } from '../contract/errors';
import { type ExportRow, labelStudioConfig, toCoopSplit, toCsv, toLabelStudio } from '../data/label-export';
import { statOrNone, writeFileAtomically, writeImageFolder } from '../data/export-writer';
import type { ProjectStore } from '../store/project-store';
import { checkOutputFolder } from './output-folder';

type Request = z.output<typeof ExportToRequest>;
type Result = z.output<typeof ExportToResult>;

const SUFFIX: Record<Request['format'], string> = {
  csv: 'labels.csv',
  coop: 'split_coop.json',
  labelstudio: 'labelstudio.json',
  imagefolder: 'imagefolder'
};

/** Every image of the project in id order (the grid's), with its class name. */
export function exportRows(store: ProjectStore, includeUnlabeled: boolean): ExportRow[] {
  const names = new Map(store.listClasses().map((c) => [c.id, c.name]));
  return store
    .images(store.imageIds({}))
    .filter((r) => includeUnlabeled || r.labelId !== null)
    .map((r) => ({
      id: r.id,
      path: r.path,
      label: r.labelId === null ? null : (names.get(r.labelId) ?? null),
      split: r.split,
      width: r.width,
      height: r.height
    }));
}

/** The project's name as a file name stem. */
export function exportBaseName(store: ProjectStore): string {
  return (store.name.replace(/[^\w.-]+/g, '_').replace(/^[._]+|_+$/g, '') || 'project').slice(0, 80);
}

/**
 * The file a target names: a folder that exists, or a new path ending in a separator or without a
 * file extension, gets the export under its own name; for ImageFolder the target is the folder itself.
 */
export function resolveExportTarget(target: string, format: Request['format'], defaultName: string): string {
  const trimmed = target.trim();
  if (!path.isAbsolute(trimmed))
    throw new AppError(
      'invalid_input',
      `"${trimmed}" is not a full path; type where to save the export (for example ${path.join(process.env.HOME ?? '/home/you', defaultName)}).`
    );
  const abs = path.resolve(trimmed);
  if (format === 'imagefolder') return abs;
  const stat = statOrNone(abs);
  const folder = stat ? stat.isDirectory() : /[\\/]$/.test(trimmed) || path.extname(abs) === '';
  return folder ? path.join(abs, defaultName) : abs;
}

/** Real path of `p`, or of its deepest existing parent joined with the rest (links resolved). */
function realish(p: string): string {
  let existing = p;
  const rest: string[] = [];
  while (!statOrNone(existing) && path.dirname(existing) !== existing) {
    rest.unshift(path.basename(existing));
    existing = path.dirname(existing);
  }
  try {
    return path.join(fs.realpathSync(existing), ...rest);
  } catch {
    return p;
  }
}

/**
 * An export never replaces what the project stands on: the project file (and its -wal/-shm), an
 * image, or (ImageFolder) a folder that holds the project or any of its images.
 */
function refuseOwnFiles(store: ProjectStore, target: string, folder: boolean): void {
  const real = realish(target);
  const inside = (p: string) => p === real || p.startsWith(real.endsWith(path.sep) ? real : real + path.sep);
  const projectFiles = [store.file, `${store.file}-wal`, `${store.file}-shm`].map(realish);
  if (folder ? projectFiles.some(inside) : projectFiles.includes(real)) {
    throw new AppError(
      'invalid_input',
      `${target} ${folder ? 'holds' : 'is'} this project's file (${store.file}); nothing was written. Choose another ${folder ? 'folder' : 'file'} for the export.`
    );
  }
  const images = store.allImagePaths().map((i) => i.path);
  const hit = folder ? images.find((p) => inside(realish(p))) : images.find((p) => realish(p) === real);
  if (hit)
    throw new AppError(
      'invalid_input',
      `${target} ${folder ? 'holds images of this project' : 'is an image of this project'} (${hit}); nothing was written. Choose another ${folder ? 'folder' : 'file'} for the export.`
    );
}

export function exportTo(store: ProjectStore, request: Request): Result {
  const format = request.format;
  const includeUnlabeled = format === 'coop' || format === 'imagefolder' ? false : (request.includeUnlabeled ?? format === 'labelstudio');
  const defaultName = `${exportBaseName(store)}-${SUFFIX[format]}`;
  const target = resolveExportTarget(request.target, format, defaultName);
  checkOutputFolder(path.dirname(target), 'the export');
  refuseOwnFiles(store, target, format === 'imagefolder');
  const rows = exportRows(store, includeUnlabeled);
  if (format === 'imagefolder') {
    const all = exportRows(store, true);
    if (all.every((r) => r.label === null))
      throw new AppError('invalid_input', 'No image has a class yet; an ImageFolder export holds labeled images only. Label some images first.');
    const written = writeImageFolder(target, all, { link: request.link ?? 'copy', bySplit: request.bySplit ?? false, overwrite: request.overwrite });
    return {
      format,
      savedTo: target,
      images: written.images,
      left: written.left,
      imageRoot: null,
      replaced: written.replaced,
      skipped: written.skipped,
      renamed: written.renamed
    };
  }
  let content: string;
  let imageRoot: string | null = null;
  let left = 0;
  if (format === 'csv') content = toCsv(rows);
  else if (format === 'coop') ({ json: content, imageRoot, left } = toCoopSplit(rows, store.listClasses()));
  else ({ json: content, imageRoot } = toLabelStudio(rows));
  const { replaced } = writeFileAtomically(target, content, { overwrite: request.overwrite });
  const labelConfig = format === 'labelstudio' ? labelStudioConfig(store.listClasses()) : null;
  return { format, savedTo: target, images: rows.length - left, left, imageRoot, replaced, skipped: [], renamed: [], labelConfig };
}

export function labelExportToHandlers(project: () => ProjectStore): Pick<Handlers, 'labels.exportTo'> {
  return {
    'labels.exportTo': (request) => {
      try {
        return exportTo(project(), request);
      } catch (error) {
        if (error instanceof AppError) throw error;
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || code === 'EIO') throw error; // described by the transport in words
        throw new AppError('bad_source', `The export could not be written to ${request.target}: ${(error as Error).message}. Nothing was written.`);
      }
    }
  };
}
