/**
 * Reads a Label Studio JSON export (the "JSON" format: a list of tasks) of an image-classification
 * project: each task's image (`data.image`, a local-files or upload URL, a file URL or a path) and its
 * class (`annotations[].result[].value.choices`, the latest annotation that was not cancelled). Tasks
 * written by this app's own export also carry `data.path` (the full path) and `data.split`.
 * Pure: the caller reads the file and checks the class names.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SkippedItem, Split } from '../contract';

export interface LabelStudioEntry {
  path: string;
  /** The chosen class as written in the export, or null for a task without an annotation. */
  label: string | null;
  split: Split;
  /** Where in the export it came from, for messages ("task 12"). */
  where: string;
}

export interface LabelStudioOptions {
  /** Where local-files (?d=…) and upload (/data/upload/…) URLs and relative paths are read from. */
  imageRoot: string;
  /** The root was given by the user: prefer it over the full paths (data.path) this app's exports carry. */
  rootGiven: boolean;
  /** The export's own path, for messages. */
  file: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const IMAGE_EXTENSION = /\.(jpe?g|jpe|jfif|png|webp|gif|tiff?|avif|bmp)$/i;
const REMOTE = /^(https?|s3|gs|azure-blob|ftp):\/\//i;

/** The image reference of a task: data.image, else the only value of data that looks like an image. */
function imageOf(data: Record<string, unknown>): string | null {
  if (typeof data.image === 'string' && data.image.trim()) return data.image.trim();
  const looksLikeImage = (v: string) => IMAGE_EXTENSION.test(v.split('#')[0]!.split('?')[0]!) || /[?&]d=.*\.\w+$/.test(v);
  const candidates = Object.entries(data).filter(([key, v]) => key !== 'path' && typeof v === 'string' && looksLikeImage(v.trim()));
  return candidates.length === 1 ? (candidates[0]![1] as string).trim() : null;
}

/** A task's image as a file path, or why it cannot be one. */
export function resolveLabelStudioImage(image: string, imageRoot: string): { path: string } | { problem: string } {
  if (REMOTE.test(image))
    return {
      problem: `data.image is a web or cloud address (${image.length > 100 ? image.slice(0, 100) + '…' : image}); download the images, then import them by path (an image root folder)`
    };
  if (/^file:\/\//i.test(image)) {
    try {
      return { path: fileURLToPath(image) };
    } catch {
      return { problem: `data.image "${image}" is not a usable file URL` };
    }
  }
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  // Local files storage: /data/local-files/?d=relative/path, relative to LOCAL_FILES_DOCUMENT_ROOT.
  const local = /^\/?data\/local-files\/?\?(.*)$/i.exec(image);
  if (local) {
    const d = new URLSearchParams(local[1]).get('d');
    if (!d) return { problem: `data.image "${image}" names no file (its ?d= is empty)` };
    return { path: path.resolve(imageRoot, d.replace(/^[/\\]+/, '')) };
  }
  // Uploaded files: /data/upload/<project>/<file>, kept under Label Studio's media folder (the image root).
  const upload = /^\/?data\/(upload\/.*)$/i.exec(image);
  if (upload) return { path: path.resolve(imageRoot, decode(upload[1]!.split('?')[0]!)) };
  if (path.isAbsolute(image)) return { path: image };
  return { path: path.resolve(imageRoot, decode(image)) };
}

/** The class of a task: the latest annotation that was not cancelled, and its one choice. */
export function labelOfTask(task: Record<string, unknown>): { label: string | null } | { problem: string } {
  const annotations = Array.isArray(task.annotations)
    ? task.annotations.filter(isObject)
    : Array.isArray(task.completions)
      ? task.completions.filter(isObject)
      : [];
  const usable = annotations.filter((a) => a.was_cancelled !== true && a.skipped !== true);
  if (usable.length === 0) return { label: null };
  const time = (a: Record<string, unknown>) => Date.parse(String(a.updated_at ?? a.created_at ?? '')) || 0;
  // The most recent (by its time; the last in the list when the times are equal or missing).
  const latest = usable.reduce((best, a) => (time(a) >= time(best) ? a : best));
  const result = Array.isArray(latest.result) ? latest.result.filter(isObject) : [];
  const choices = result.flatMap((r) => (isObject(r.value) && Array.isArray(r.value.choices) ? r.value.choices : []));
  const names = [...new Set(choices.filter((c): c is string => typeof c === 'string' && c.trim() !== '').map((c) => c.normalize('NFC').trim()))];
  if (names.length === 0) return { label: null };
  if (names.length > 1)
    return {
      problem: `its annotation chooses ${names.length} classes (${names
        .slice(0, 5)
        .map((n) => `"${n}"`)
        .join(', ')}); an image here has one class: keep one choice in Label Studio and export again`
    };
  return { label: names[0]! };
}

/**
 * Every task of the export, as a file with its class and split; tasks that cannot be imported are
 * listed with the reason. Throws an Error whose message says what was expected when the JSON is not a list of tasks.
 */
export function parseLabelStudioExport(json: unknown, options: LabelStudioOptions): { entries: LabelStudioEntry[]; skipped: SkippedItem[] } {
  if (!Array.isArray(json)) {
    throw new Error(
      `${options.file} is not a Label Studio JSON export: expected a list of tasks [{"data": {"image": …}, "annotations": [{"result": [{"value": {"choices": ["class"]}}]}]}, …] (export the project as "JSON", not "JSON-MIN" or CSV).`
    );
  }
  const entries: LabelStudioEntry[] = [];
  const skipped: SkippedItem[] = [];
  json.forEach((task, index) => {
    const id = isObject(task) && (typeof task.id === 'number' || typeof task.id === 'string') ? String(task.id) : null;
    const where = `${options.file} task ${id ?? `#${index + 1}`}`;
    if (!isObject(task) || !isObject(task.data)) {
      skipped.push({ path: where, reason: 'not a task: expected {"data": {"image": …}, "annotations": […]}' });
      return;
    }
    const data = task.data;
    const ownPath = typeof data.path === 'string' && path.isAbsolute(data.path) ? data.path : null;
    let file: string;
    if (ownPath && !options.rootGiven) file = ownPath;
    else {
      const image = imageOf(data);
      if (!image) {
        skipped.push({ path: where, reason: `the task names no image (data.image is ${data.image === undefined ? 'missing' : 'empty or not text'})` });
        return;
      }
      const resolved = resolveLabelStudioImage(image, options.imageRoot);
      if ('problem' in resolved) {
        if (ownPath) file = ownPath;
        else {
          skipped.push({ path: where, reason: resolved.problem });
          return;
        }
      } else file = resolved.path;
    }
    const label = labelOfTask(task);
    if ('problem' in label) {
      skipped.push({ path: file, reason: `${where}: ${label.problem}` });
      return;
    }
    const split = data.split === 'val' || data.split === 'test' ? data.split : 'train';
    entries.push({ path: path.normalize(file), label: label.label, split, where });
  });
  return { entries, skipped };
}
