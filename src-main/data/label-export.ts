/**
 * Label exports of a project's images, as text: a CSV of path,label,split (the CSV importer reads it
 * back), a CoOp/Dassl split JSON with its image root (the split importer reads it back), and Label
 * Studio JSON tasks (image classification with a `Choices` tag named "choice" on an `Image` named
 * "image"). Pure: the service feeds rows in and writes or returns the text.
 */
import path from 'node:path';
import { csvCell } from '../contract/csv';

export type ExportFormat = 'csv' | 'coop' | 'labelstudio';

export interface ExportRow {
  id: number;
  path: string;
  /** The class name, or null for an unlabeled image. */
  label: string | null;
  split: 'train' | 'val' | 'test';
  width?: number;
  height?: number;
}

export interface ExportClass {
  name: string;
}

export { csvCell };

export function toCsv(rows: readonly ExportRow[]): string {
  const lines = ['path,label,split', ...rows.map((r) => [r.path, r.label ?? '', r.split].map(csvCell).join(','))];
  return lines.join('\r\n') + '\r\n';
}

/** The deepest folder that holds every path (the image root a CoOp split or Label Studio's local files need). */
export function commonRoot(paths: readonly string[]): string {
  if (paths.length === 0) return '';
  let parts = path.dirname(paths[0]!).split(path.sep);
  for (const p of paths.slice(1)) {
    const other = path.dirname(p).split(path.sep);
    let k = 0;
    while (k < parts.length && k < other.length && parts[k] === other[k]) k++;
    parts = parts.slice(0, k);
  }
  const root = parts.join(path.sep);
  return root === '' && paths[0]!.startsWith(path.sep) ? path.sep : root;
}

const toPosix = (p: string) => p.split(path.sep).join('/');

/**
 * CoOp/Dassl split JSON: {"train"|"val"|"test": [[path relative to the image root, label index, class
 * name], ...]}. Label indices follow `classes` (the project's class order); unlabeled images are left out.
 */
export function toCoopSplit(rows: readonly ExportRow[], classes: readonly ExportClass[]): { json: string; imageRoot: string; left: number } {
  const index = new Map(classes.map((c, i) => [c.name, i]));
  const labeled = rows.filter((r) => r.label !== null && index.has(r.label));
  const imageRoot = commonRoot(labeled.map((r) => r.path));
  const out: Record<'train' | 'val' | 'test', [string, number, string][]> = { train: [], val: [], test: [] };
  for (const r of labeled) out[r.split].push([toPosix(path.relative(imageRoot, r.path)), index.get(r.label!)!, r.label!]);
  return { json: JSON.stringify(out, null, 1) + '\n', imageRoot, left: rows.length - labeled.length };
}

/**
 * Label Studio tasks: `data.image` is a local-files URL relative to the image root (serve it with
 * LOCAL_FILES_DOCUMENT_ROOT set to that folder), `data.path` and `data.split` keep the file and its
 * split; a labeled image has one annotation choosing its class.
 */
export function toLabelStudio(rows: readonly ExportRow[]): { json: string; imageRoot: string } {
  const imageRoot = commonRoot(rows.map((r) => r.path));
  const tasks = rows.map((r) => ({
    id: r.id,
    data: { image: `/data/local-files/?d=${encodeURIComponent(toPosix(path.relative(imageRoot, r.path))).replace(/%2F/g, '/')}`, path: r.path, split: r.split },
    annotations:
      r.label === null
        ? []
        : [
            {
              result: [
                {
                  from_name: 'choice',
                  to_name: 'image',
                  type: 'choices',
                  ...(r.width && r.height ? { original_width: r.width, original_height: r.height } : {}),
                  value: { choices: [r.label] }
                }
              ]
            }
          ]
  }));
  return { json: JSON.stringify(tasks, null, 1) + '\n', imageRoot };
}

/** The Label Studio labeling config that matches `toLabelStudio`'s tasks. */
export function labelStudioConfig(classes: readonly ExportClass[]): string {
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return [
    '<View>',
    '  <Image name="image" value="$image"/>',
    '  <Choices name="choice" toName="image">',
    ...classes.map((c) => `    <Choice value="${escape(c.name)}"/>`),
    '  </Choices>',
    '</View>',
    ''
  ].join('\n');
}
