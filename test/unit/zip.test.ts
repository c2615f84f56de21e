import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildZip, crc32 } from '../../src-main/services/zip';
import { tempDir } from '../helpers/temp';

describe('the store-only zip writer', () => {
  const tmp = tempDir('mocoop-zip-');
  afterAll(() => tmp.cleanup());
  const enc = new TextEncoder();

  it('computes CRC-32 as zlib does', () => {
    for (const text of ['', 'a', 'The quick brown fox jumps over the lazy dog', 'ünïcødé ✓'.repeat(100)]) {
      const bytes = enc.encode(text);
      expect(crc32(bytes)).toBe(zlib.crc32(bytes));
    }
    expect(crc32(enc.encode('123456789'))).toBe(0xcbf43926);
  });

  const entries = [
    { name: 'run-1/report.html', data: enc.encode('<!doctype html><h1>Report</h1>') },
    { name: 'run-1/metrics.json', data: enc.encode(JSON.stringify({ accuracy: 0.5 })) },
    { name: 'run-1/prédictions.csv', data: enc.encode('path,label\n/a.jpg,ant\n') },
    { name: 'empty.txt', data: new Uint8Array(0) },
    { name: 'binary.bin', data: Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff) }
  ];

  it('writes an archive that unzip and Python list and test, with every byte back', () => {
    const file = path.join(tmp.dir, 'out.zip');
    fs.writeFileSync(file, buildZip(entries.map((e) => ({ ...e, modified: new Date(2024, 4, 6, 12, 30, 10) }))));
    const listing = execFileSync('python3', ['-m', 'zipfile', '-l', file], { encoding: 'utf8' });
    for (const e of entries) expect(listing).toContain(e.name);
    expect(listing).toContain('2024-05-06 12:30:10');
    execFileSync('python3', ['-m', 'zipfile', '-t', file]);
    const out = path.join(tmp.dir, 'x');
    execFileSync('python3', ['-m', 'zipfile', '-e', file, out]);
    for (const e of entries) expect(new Uint8Array(fs.readFileSync(path.join(out, e.name)))).toEqual(e.data);
    // Info-ZIP's unzip checks the CRCs too (-t), when it is installed.
    try {
      execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    } catch {
      return;
    }
    const tested = execFileSync('unzip', ['-t', file], { encoding: 'utf8' });
    expect(tested).toContain('No errors detected');
    expect(execFileSync('unzip', ['-l', file], { encoding: 'utf8' })).toContain('5 files');
  });

  it('parses back by hand: signatures, sizes and offsets line up', () => {
    const zip = buildZip(entries);
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    const end = zip.length - 22;
    expect(view.getUint32(end, true)).toBe(0x06054b50);
    expect(view.getUint16(end + 10, true)).toBe(entries.length);
    let at = view.getUint32(end + 16, true);
    for (const e of entries) {
      expect(view.getUint32(at, true)).toBe(0x02014b50);
      const size = view.getUint32(at + 20, true);
      const nameLength = view.getUint16(at + 28, true);
      const local = view.getUint32(at + 42, true);
      expect(new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength))).toBe(e.name);
      expect(size).toBe(e.data.length);
      expect(view.getUint32(at + 16, true)).toBe(crc32(e.data));
      expect(view.getUint32(local, true)).toBe(0x04034b50);
      const start = local + 30 + view.getUint16(local + 26, true);
      expect(zip.subarray(start, start + size)).toEqual(e.data);
      at += 46 + nameLength;
    }
  });

  it('an empty archive is valid; unsafe or repeated names are refused', () => {
    const file = path.join(tmp.dir, 'empty.zip');
    fs.writeFileSync(file, buildZip([]));
    execFileSync('python3', ['-m', 'zipfile', '-t', file]);
    expect(() => buildZip([{ name: '../evil', data: new Uint8Array(1) }])).toThrow(/cannot be named/);
    expect(() =>
      buildZip([
        { name: 'a', data: new Uint8Array(1) },
        { name: 'a', data: new Uint8Array(1) }
      ])
    ).toThrow(/Two zip entries/);
  });
});
