import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonFile } from '../../src-main/clip/regular-file';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('mocoop-json-');
afterAll(() => tmp.cleanup());

describe('readJsonFile', () => {
  it('reads JSON, with or without a byte order mark', () => {
    fs.writeFileSync(path.join(tmp.dir, 'a.json'), '\uFEFF{"groups": [1]}');
    expect(readJsonFile(path.join(tmp.dir, 'a.json'))).toEqual({ groups: [1] });
  });

  it('refuses in words, naming the file: missing, not JSON, or a named pipe (at once, no waiting for a writer)', () => {
    const missing = path.join(tmp.dir, 'none.json');
    expect(() => readJsonFile(missing, 'Choose another.')).toThrow(`${missing}: cannot be read (it does not exist). Choose another.`);
    fs.writeFileSync(path.join(tmp.dir, 'bad.json'), '{ "a": ');
    expect(() => readJsonFile(path.join(tmp.dir, 'bad.json'))).toThrow(/bad\.json: cannot be read \(it is not valid JSON: /);
    execFileSync('mkfifo', [path.join(tmp.dir, 'pipe.json')]);
    expect(() => readJsonFile(path.join(tmp.dir, 'pipe.json'))).toThrow(/pipe\.json: cannot be read \(it is a named pipe/);
  });
});
