import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell, parseCsv } from '../../src-main/importing/csv';
import { type ReportInput, predictionsCsv } from '../../src-main/mocoop/report';
import { checkOutputFolder } from '../../src-main/services/output-folder';
import { writeReport } from '../../src-main/services/report-writer';
import { tempDir } from '../helpers/temp';

describe.runIf(process.platform === 'linux')('output folders are checked on their real path', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir();
    fs.symlinkSync('/proc', path.join(tmp.dir, 'to-proc'));
    fs.symlinkSync('/proc/self', path.join(tmp.dir, 'to-self'));
    fs.symlinkSync('/sys/kernel', path.join(tmp.dir, 'to-sys'));
    fs.symlinkSync(path.join(tmp.dir, 'nowhere'), path.join(tmp.dir, 'dangling'));
    fs.mkdirSync(path.join(tmp.dir, 'real'));
    fs.symlinkSync(path.join(tmp.dir, 'real'), path.join(tmp.dir, 'to-real'));
  });
  afterAll(() => tmp.cleanup());

  it('a link to /proc, /proc/self or /sys is a system folder', () => {
    expect(() => checkOutputFolder(path.join(tmp.dir, 'to-proc', 'report'), 'the report')).toThrow(
      `${path.join(tmp.dir, 'to-proc', 'report')} leads to /proc/report, a system folder; choose a folder in your home or data folders for the report.`
    );
    expect(() => checkOutputFolder(path.join(tmp.dir, 'to-self'), 'the report')).toThrow(/leads to \/proc\/\d+, a system folder/);
    expect(() => checkOutputFolder(path.join(tmp.dir, 'to-sys', 'a', 'b'))).toThrow(/leads to \/sys\/kernel\/a\/b, a system folder/);
  });

  it('a dangling link is refused in words; a link to an ordinary folder is fine', () => {
    expect(() => checkOutputFolder(path.join(tmp.dir, 'dangling', 'x'))).toThrow(
      `${path.join(tmp.dir, 'dangling')} is a link to something that does not exist; choose another folder for the output.`
    );
    expect(checkOutputFolder(path.join(tmp.dir, 'to-real', 'run-1'))).toBe(path.join(tmp.dir, 'to-real', 'run-1'));
  });

  it('writeReport through a link to /proc is refused before anything is written', () => {
    expect(() => writeReport(path.join(tmp.dir, 'to-proc', 'mocoop-report'), {} as ReportInput)).toThrow(/a system folder/);
  });
});

describe('CSV exports neutralise spreadsheet formulas', () => {
  it('a cell starting with = + - @ gets a leading apostrophe; numbers and ordinary text do not', () => {
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('+cmd|calc')).toBe("'+cmd|calc");
    expect(csvCell('-1+1')).toBe("'-1+1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('-0.25')).toBe('-0.25');
    expect(csvCell('+3')).toBe('+3');
    expect(csvCell('1e-5')).toBe('1e-5');
    expect(csvCell('cat, big')).toBe('"cat, big"');
    expect(csvCell('/data/cat.jpg')).toBe('/data/cat.jpg');
  });

  it('predictions.csv: labels, predictions and paths cannot run as formulas, and the file still parses', () => {
    const csv = predictionsCsv([
      { path: '/data/=cmd.jpg', label: '=1+1', prediction: '@evil', correct: false, topExperts: [0, 1], topWeights: [0.75, 0.25] },
      { path: '/data/b.jpg', label: '-ish', prediction: '+plus', correct: true, topExperts: [1], topWeights: [1] }
    ] as ReportInput['predictions']);
    const rows = parseCsv(csv).map((r) => r.fields);
    expect(rows[0]).toEqual(['path', 'label', 'prediction', 'correct', 'top_experts', 'top_weights']);
    expect(rows[1]).toEqual(['/data/=cmd.jpg', "'=1+1", "'@evil", '0', '1;2', '0.750000;0.250000']);
    expect(rows[2]).toEqual(['/data/b.jpg', "'-ish", "'+plus", '1', '2', '1.000000']);
    for (const row of rows) for (const cell of row) expect(cell).not.toMatch(/^[=+@]|^-\D/);
  });
});

describe.runIf(process.platform === 'linux')('CLI output folders', () => {
  it('export --out through a link to /proc is refused in words', async () => {
    const { runCli } = await import('../helpers/cli');
    const tmp = tempDir();
    try {
      const project = path.join(tmp.dir, 'p.mocoop');
      expect((await runCli(['project', 'create', project], tmp.dir)).code).toBe(0);
      fs.symlinkSync('/proc', path.join(tmp.dir, 'to-proc'));
      const result = await runCli(['export', project, '--run', 'r1', '--out', path.join(tmp.dir, 'to-proc', 'experts')], tmp.dir);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('leads to /proc/experts, a system folder; choose a folder in your home or data folders for the exported experts.');
    } finally {
      tmp.cleanup();
    }
  });
});
