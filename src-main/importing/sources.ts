import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ImportSource, SkippedItem, Split } from '../contract';
import { AppError } from '../contract/errors';
import { classNameProblem } from '../contract/limits';
import { naturalSort } from '../data/natural-compare';
import { parseLabelStudioExport } from '../data/label-studio-import';
import { parseCsv } from './csv';
import { errnoReason, isHidden, listImageFiles, specialFileKind } from './walk';

/** One file the importer will try, with the label and split its source gives it. */
export interface Candidate {
  path: string;
  label: string | null;
  split: Split;
}

export interface Enumerated {
  candidates: Candidate[];
  skipped: SkippedItem[];
}

async function requireDir(dir: string, what: string): Promise<string> {
  const abs = path.resolve(dir);
  const stat = await fs.stat(abs).catch((error) => {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AppError(
      'bad_source',
      code === 'ENOENT' ? `${what} ${abs} does not exist. Check the path.` : `${what} ${abs}: ${errnoReason(error)}. Check the path.`
    );
  });
  if (!stat.isDirectory()) throw new AppError('bad_source', `${what} ${abs} is a file, not a folder.`);
  return abs;
}

async function readText(file: string, what: string): Promise<string> {
  const abs = path.resolve(file);
  let bytes: Buffer;
  try {
    // A named pipe or a device would be read forever: only regular files.
    const stat = await fs.stat(abs);
    if (stat.isDirectory()) throw new AppError('bad_source', `${what} ${abs} is a folder, not a file. Choose the ${what} itself.`);
    if (!stat.isFile()) throw new AppError('bad_source', `${what} ${abs} is ${specialFileKind(stat)}, not a file. Choose the ${what} itself.`);
    bytes = await fs.readFile(abs);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('bad_source', `${what} ${abs}: ${errnoReason(error)}. Check the path.`);
  }
  // A NUL byte or a byte sequence that is not UTF-8 near the start: an image or another binary file.
  const head = bytes.subarray(0, 8192);
  if (head.includes(0) || new TextDecoder('utf-8').decode(head).includes('\uFFFD')) {
    throw new AppError('bad_source', `${what} ${abs} is not a text file (it looks like an image or another binary file). Choose the ${what} itself.`);
  }
  return bytes.toString('utf8');
}

/** ImageFolder layout: every sub-folder is a class; its images (at any depth) get that label. */
async function fromImageFolder(dir: string, signal?: AbortSignal): Promise<Enumerated> {
  const root = await requireDir(dir, 'Image folder');
  const skipped: SkippedItem[] = [];
  const candidates: Candidate[] = [];
  const entries = naturalSort(await fs.readdir(root, { withFileTypes: true }), (e) => e.name);
  let classFolders = 0;
  const visited = new Set([await fs.realpath(root)]);
  for (const entry of entries) {
    if (isHidden(entry.name)) continue;
    const full = path.join(root, entry.name);
    const isDir =
      entry.isDirectory() ||
      (entry.isSymbolicLink() &&
        (await fs.stat(full).then(
          (s) => s.isDirectory(),
          () => false
        )));
    if (!isDir) {
      skipped.push({ path: full, reason: 'not inside a class folder: in an image folder every class is a sub-folder (e.g. cats/001.jpg)' });
      continue;
    }
    classFolders++;
    const label = entry.name.normalize('NFC').trim();
    // Class names from sources get the limits of typed ones (1–200 characters).
    const problem = classNameProblem(label);
    if (problem) {
      skipped.push({ path: full, reason: `class folder not imported: ${problem}` });
      continue;
    }
    for (const file of await listImageFiles(full, skipped, signal, visited)) candidates.push({ path: file, label, split: 'train' });
  }
  if (classFolders === 0) {
    throw new AppError(
      'bad_source',
      `${root} has no class sub-folders. An image folder holds one folder per class (e.g. cats/, dogs/); to import unlabeled images, use "Files or folders".`
    );
  }
  return { candidates, skipped };
}

const shorten = (text: string, max = 120) => (text.length > max ? `${text.slice(0, max)}…` : text);

const PATH_COLUMNS = ['path', 'file', 'filename', 'file_name', 'image', 'filepath'];
const LABEL_COLUMNS = ['label', 'class', 'classname', 'class_name', 'category'];

/** CSV with a header naming a path column and a label column (and optionally split); paths relative to the CSV's folder. */
async function fromCsv(file: string): Promise<Enumerated> {
  const abs = path.resolve(file);
  const rows = parseCsv(await readText(abs, 'CSV file'));
  if (rows.length === 0) throw new AppError('bad_source', `${abs} is empty. The first row must name the columns: path,label.`);
  const header = rows[0]!.fields.map((h) => h.trim().toLowerCase());
  const pathCol = header.findIndex((h) => PATH_COLUMNS.includes(h));
  const labelCol = header.findIndex((h) => LABEL_COLUMNS.includes(h));
  const splitCol = header.indexOf('split');
  if (pathCol < 0 || labelCol < 0) {
    const missing = [pathCol < 0 ? '"path"' : null, labelCol < 0 ? '"label"' : null].filter(Boolean);
    throw new AppError(
      'bad_source',
      `${abs}: the first row must name the columns path,label; the ${missing.join(' and ')} column${missing.length > 1 ? 's are' : ' is'} missing (found: ${shorten(rows[0]!.fields.join(', ')) || 'nothing'}).`
    );
  }
  const base = path.dirname(abs);
  const skipped: SkippedItem[] = [];
  const candidates: Candidate[] = [];
  const needed = Math.max(pathCol, labelCol) + 1;
  for (const { line, fields } of rows.slice(1)) {
    const where = `${abs} line ${line}`;
    if (fields.length < needed) {
      skipped.push({ path: where, reason: `expected ${header.length} columns (${header.join(',')}), found ${fields.length}` });
      continue;
    }
    const rel = fields[pathCol]!.trim();
    if (!rel) {
      skipped.push({ path: where, reason: 'the path column is empty' });
      continue;
    }
    const rawSplit = splitCol >= 0 ? (fields[splitCol] ?? '').trim().toLowerCase() : '';
    const split = rawSplit === '' ? 'train' : rawSplit;
    if (split !== 'train' && split !== 'val' && split !== 'test') {
      skipped.push({ path: where, reason: `split "${rawSplit}" is not one of train, val, test` });
      continue;
    }
    const label = fields[labelCol]!.trim().normalize('NFC');
    const problem = label ? classNameProblem(label) : null;
    if (problem) {
      skipped.push({ path: where, reason: problem });
      continue;
    }
    candidates.push({ path: path.resolve(base, rel), label: label || null, split });
  }
  return { candidates, skipped };
}

/**
 * At most `max` characters of JSON for a message, without recursion beyond a few levels: the value may
 * come from a hostile file nested 200,000 levels deep (JSON.stringify overflows the stack on it).
 */
export function preview(value: unknown, max = 80): string {
  let out = '';
  const visit = (v: unknown, depth: number): void => {
    if (out.length > max) return;
    if (v === null || typeof v !== 'object') {
      out += JSON.stringify(v) ?? String(v);
      return;
    }
    if (depth >= 4) {
      out += Array.isArray(v) ? '[…]' : '{…}';
      return;
    }
    if (Array.isArray(v)) {
      out += '[';
      v.slice(0, 8).forEach((item, i) => {
        if (i) out += ', ';
        visit(item, depth + 1);
      });
      out += v.length > 8 ? ', …]' : ']';
      return;
    }
    out += '{';
    Object.entries(v as Record<string, unknown>)
      .slice(0, 8)
      .forEach(([key, item], i) => {
        out += `${i ? ', ' : ''}${JSON.stringify(key)}: `;
        visit(item, depth + 1);
      });
    out += '}';
  };
  visit(value, 0);
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

const SplitEntry = z.tuple([z.string().min(1), z.number().int(), z.string().min(1)]);
const SplitFile = z
  .object({ train: z.array(z.unknown()).optional(), val: z.array(z.unknown()).optional(), test: z.array(z.unknown()).optional() })
  .refine((v) => v.train || v.val || v.test, { message: 'expected at least one of "train", "val", "test"' });

/** Why a parsed split file is not {"train"|"val"|"test": [...]}, naming the key and what it holds. */
function splitShapeProblem(json: unknown): string {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return `it holds ${preview(json, 40)} instead of an object`;
  const wrong = (['train', 'val', 'test'] as const).find((key) => key in json && !Array.isArray((json as Record<string, unknown>)[key]));
  if (wrong) return `"${wrong}" must be a list of entries, but it is ${preview((json as Record<string, unknown>)[wrong], 40)}`;
  return `expected at least one of "train", "val", "test" (its keys: ${preview(Object.keys(json), 60)})`;
}

/** CoOp/Dassl split JSON: {"train"|"val"|"test": [[relpath, label, classname], ...]}, paths relative to the image root. */
async function fromCoopSplit(file: string, imageRoot: string): Promise<Enumerated> {
  const abs = path.resolve(file);
  const root = await requireDir(imageRoot, 'Image root');
  let json: unknown;
  try {
    // A byte order mark (as some editors on Windows save) is not part of the JSON.
    json = JSON.parse((await readText(abs, 'Split file')).replace(/^\ufeff/, ''));
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof RangeError)
      throw new AppError('bad_source', `${abs} is nested too deeply to be a CoOp split file (expected {"train": [[path, label, classname], ...], ...}).`);
    throw new AppError('bad_source', `${abs} is not valid JSON (${(error as Error).message}).`);
  }
  const parsed = SplitFile.safeParse(json);
  if (!parsed.success) {
    throw new AppError(
      'bad_source',
      `${abs} is not a CoOp split file: ${splitShapeProblem(json)}. Expected {"train": [[path, label, classname], ...], "val": [...], "test": [...]}.`
    );
  }
  const skipped: SkippedItem[] = [];
  const candidates: Candidate[] = [];
  const classOfLabel = new Map<number, string>();
  for (const split of ['train', 'val', 'test'] as const) {
    (parsed.data[split] ?? []).forEach((raw, index) => {
      const entry = SplitEntry.safeParse(raw);
      const where = `${abs} ${split}[${index}]`;
      if (!entry.success) {
        skipped.push({ path: where, reason: `expected [relative path, integer label, class name], found ${preview(raw)}` });
        return;
      }
      const [rel, label, classname] = entry.data;
      const known = classOfLabel.get(label);
      if (known !== undefined && known !== classname) {
        skipped.push({ path: where, reason: `label ${label} is "${known}" elsewhere in the file but "${classname}" here` });
        return;
      }
      const problem = classNameProblem(classname.normalize('NFC'));
      if (problem) {
        skipped.push({ path: where, reason: `class name: ${problem}` });
        return;
      }
      classOfLabel.set(label, classname);
      candidates.push({ path: path.resolve(root, rel), label: classname.normalize('NFC').trim(), split });
    });
  }
  return { candidates, skipped };
}

/** Label Studio JSON export: one image per task, its class from the latest annotation's choice. */
async function fromLabelStudio(file: string, imageRoot?: string): Promise<Enumerated> {
  const abs = path.resolve(file);
  const rootGiven = !!imageRoot?.trim();
  const root = rootGiven ? await requireDir(imageRoot!, 'Image root') : path.dirname(abs);
  let json: unknown;
  try {
    json = JSON.parse(await readText(abs, 'Label Studio export'));
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof RangeError) throw new AppError('bad_source', `${abs} is nested too deeply to be a Label Studio export (expected a list of tasks).`);
    throw new AppError('bad_source', `${abs} is not valid JSON (${(error as Error).message}).`);
  }
  let parsed: ReturnType<typeof parseLabelStudioExport>;
  try {
    parsed = parseLabelStudioExport(json, { file: abs, imageRoot: root, rootGiven });
  } catch (error) {
    throw new AppError('bad_source', (error as Error).message);
  }
  const skipped = [...parsed.skipped];
  const candidates: Candidate[] = [];
  for (const entry of parsed.entries) {
    const problem = entry.label === null ? null : classNameProblem(entry.label);
    if (problem) {
      skipped.push({ path: entry.where, reason: `class name: ${problem}` });
      continue;
    }
    candidates.push({ path: entry.path, label: entry.label, split: entry.split });
  }
  return { candidates, skipped };
}

/** Loose files or folders: imported without labels. */
async function fromPaths(paths: string[], signal?: AbortSignal): Promise<Enumerated> {
  const skipped: SkippedItem[] = [];
  const candidates: Candidate[] = [];
  const visited = new Set<string>();
  for (const p of paths) {
    const abs = path.resolve(p);
    const stat = await fs.stat(abs).catch((error) => {
      skipped.push({ path: abs, reason: errnoReason(error) });
      return null;
    });
    if (!stat) continue;
    const files = stat.isDirectory() ? await listImageFiles(abs, skipped, signal, visited) : [abs];
    for (const file of files) candidates.push({ path: file, label: null, split: 'train' });
  }
  return { candidates, skipped };
}

export function enumerateSource(source: ImportSource, signal?: AbortSignal): Promise<Enumerated> {
  switch (source.kind) {
    case 'folder':
      return fromImageFolder(source.dir, signal);
    case 'csv':
      return fromCsv(source.file);
    case 'coopSplit':
      return fromCoopSplit(source.file, source.imageRoot);
    case 'paths':
      return fromPaths(source.paths, signal);
    case 'labelStudio':
      return fromLabelStudio(source.file, source.imageRoot);
  }
}

export function describeSource(source: ImportSource): string {
  switch (source.kind) {
    case 'folder':
      return `folder:${path.resolve(source.dir)}`;
    case 'csv':
      return `csv:${path.resolve(source.file)}`;
    case 'coopSplit':
      return `coop-split:${path.resolve(source.file)}`;
    case 'paths':
      return source.paths.length === 1 ? `files:${path.resolve(source.paths[0]!)}` : `files:${source.paths.length} paths`;
    case 'labelStudio':
      return `label-studio:${path.resolve(source.file)}`;
  }
}
