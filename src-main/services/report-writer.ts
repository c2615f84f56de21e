/**
 * Writes a run's report folder (report.html, metrics.json, predictions.csv; rendered by
 * mocoop/report.ts): the folder is checked before anything is touched, then each file is written
 * whole (to a .tmp beside it, renamed into place).
 */
import fs from 'node:fs';
import path from 'node:path';
import { type ReportInput, REPORT_FILES, renderReport } from '../mocoop/report';
import { checkOutputFolder } from './output-folder';

/** Writes the report into `dir` (made if missing) and returns the paths of its three files. */
export function writeReport(dir: string, input: ReportInput): { html: string; json: string; csv: string } {
  checkOutputFolder(dir, 'the report');
  const rendered = renderReport(input);
  fs.mkdirSync(dir, { recursive: true });
  const files = { html: path.join(dir, REPORT_FILES.html), json: path.join(dir, REPORT_FILES.json), csv: path.join(dir, REPORT_FILES.csv) };
  const write = (file: string, content: string) => {
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, content);
    fs.renameSync(tmp, file);
  };
  write(files.json, rendered.json);
  write(files.csv, rendered.csv);
  write(files.html, rendered.html);
  return files;
}
