import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { checkOutputFolder } from '../../src-main/services/output-folder';
import { tempDir } from '../helpers/temp';

describe('checking an output folder before writing', () => {
  const tmp = tempDir('mocoop-out-');
  afterEach(() => fs.rmSync(path.join(tmp.dir, 'x'), { recursive: true, force: true }));
  afterAll(() => tmp.cleanup());

  it('accepts a new folder under an existing one without creating it', () => {
    const target = path.join(tmp.dir, 'x', 'reports', 'run-1');
    expect(checkOutputFolder(target)).toBe(target);
    expect(fs.existsSync(path.join(tmp.dir, 'x'))).toBe(false);
  });

  it('refuses system folders, a file on the way, and says which', () => {
    expect(() => checkOutputFolder('relative/dir', 'the report')).toThrow('"relative/dir" is not a full folder path; choose a folder for the report');
    expect(() => checkOutputFolder('')).toThrow(/is not a full folder path/);
    expect(() => checkOutputFolder('/proc/forbidden', 'the report')).toThrow(
      '/proc/forbidden is a system folder; choose a folder in your home or data folders for the report.'
    );
    fs.mkdirSync(path.join(tmp.dir, 'x'));
    fs.writeFileSync(path.join(tmp.dir, 'x', 'a-file'), '');
    expect(() => checkOutputFolder(path.join(tmp.dir, 'x', 'a-file', 'sub'))).toThrow(`${path.join(tmp.dir, 'x', 'a-file')} is a file, not a folder`);
  });
});
