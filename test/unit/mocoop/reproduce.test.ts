import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseArgs } from '../../../src-main/cli/args';
import { findDatasets, imageRoot, reproduceCommand, reproduceSchedule, summarize } from '../../../src-main/cli/reproduce-command';
import { makeImage } from '../../helpers/images';
import { tempDir } from '../../helpers/temp';
import { TINY_CLIP } from '../../helpers/fixtures';
import { useBackend } from '../../helpers/tf-backend';

const FIXTURE = TINY_CLIP;

describe('reproduce: the base-to-new table from CoOp-layout folders', () => {
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  useBackend('wasm');
  beforeAll(async () => {
    tmp = tempDir();
    vi.stubEnv('MOCOOP_HOME', path.join(tmp.dir, 'home'));
    root = path.join(tmp.dir, 'data');
    const pets = path.join(root, 'oxford_pets');
    const split: Record<string, [string, number, string][]> = { train: [], val: [], test: [] };
    let seed = 1;
    for (const [label, name] of ['abyssinian', 'beagle', 'boxer', 'pug'].entries()) {
      for (const [part, count] of [
        ['train', 2],
        ['val', 1],
        ['test', 1]
      ] as const) {
        for (let i = 0; i < count; i++) {
          const rel = `${name}_${part}_${i}.jpg`;
          await makeImage(path.join(pets, 'images', rel), seed++);
          split[part]!.push([rel, label, name]);
        }
      }
    }
    fs.writeFileSync(path.join(pets, 'split_zhou_OxfordPets.json'), JSON.stringify(split));
  });
  afterAll(() => {
    tmp.cleanup();
    vi.unstubAllEnvs();
  });

  it('finds data sets and their image folder, and picks each method’s published schedule', () => {
    const found = findDatasets(root);
    expect(found.map((d) => d.name)).toEqual(['OxfordPets']);
    expect(imageRoot(found[0]!)).toBe(path.join(root, 'oxford_pets', 'images'));
    expect(reproduceSchedule('mocoop', 'OxfordPets')).toBe('lasp-25');
    expect(reproduceSchedule('mocoop', 'DescribableTextures')).toBe('lasp-50');
    expect(reproduceSchedule('mocoop', 'EuroSAT')).toBe('lasp-300');
    expect(reproduceSchedule('kgcoop', 'EuroSAT')).toBe('kgcoop');
  });

  it('trains every cell once, writes the table, and skips finished cells when run again', async () => {
    const out = path.join(tmp.dir, 'out');
    const argv = [
      '--data',
      root,
      '--model',
      FIXTURE,
      '--out',
      out,
      '--methods',
      'zeroshot,coop',
      '--seeds',
      '1,2',
      '--shots',
      '1',
      '--epochs',
      '2',
      '--augment',
      'off',
      '--json'
    ];
    const write = process.stdout.write.bind(process.stdout);
    const writeErr = process.stderr.write.bind(process.stderr);
    const lines: string[] = [];
    process.stdout.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => (lines.push(`ERR ${String(chunk)}`), true)) as typeof process.stderr.write;
    try {
      await reproduceCommand(parseArgs(argv, new Set(['json'])));
      const first = JSON.parse(fs.readFileSync(path.join(out, 'reproduce.json'), 'utf8'));
      expect(first.cells).toHaveLength(4);
      expect(first.cells.every((c: { base: number | null; h: number | null }) => c.base !== null && c.h !== null)).toBe(true);
      expect(first.table.map((r: { method: string; seeds: number }) => `${r.method}:${r.seeds}`)).toEqual(['zeroshot:2', 'coop:2']);
      const trained = lines.filter((l) => l.includes(': training')).length;
      expect(trained).toBe(4);
      lines.length = 0;
      await reproduceCommand(parseArgs(argv, new Set(['json'])));
      expect(lines.filter((l) => l.includes(': training'))).toEqual([]);
      const again = JSON.parse(fs.readFileSync(path.join(out, 'reproduce.json'), 'utf8'));
      expect(again.cells.map((c: { run: string }) => c.run)).toEqual(first.cells.map((c: { run: string }) => c.run));
      expect(fs.readFileSync(path.join(out, 'reproduce.md'), 'utf8')).toContain('| OxfordPets | coop |');
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
    }
  }, 300_000);

  it('averages seeds per cell and the data sets per method (H of the averages)', () => {
    const cells = [
      { dataset: 'A', method: 'm', seed: 1, run: 'r1', base: 0.8, new: 0.6, h: 0.6857 },
      { dataset: 'A', method: 'm', seed: 2, run: 'r2', base: 0.6, new: 0.6, h: 0.6 },
      { dataset: 'B', method: 'm', seed: 1, run: 'r3', base: 0.9, new: 0.5, h: 0.643 }
    ];
    const rows = summarize(cells, ['m'], ['A', 'B'], { A: { m: { base: 80, new: 70, h: 74.7 } } });
    expect(rows[0]).toMatchObject({ dataset: 'A', seeds: 2, base: 0.7, new: 0.6, paper: { base: 80 } });
    expect(rows[0]!.baseStd).toBeCloseTo(0.1, 10);
    const avg = rows.find((r) => r.dataset === 'Average')!;
    expect(avg.base).toBeCloseTo(0.8, 10);
    expect(avg.new).toBeCloseTo(0.55, 10);
    expect(avg.h).toBeCloseTo((2 * 0.8 * 0.55) / 1.35, 10);
  });
});
