import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ASPECT_RATIO, aspectRatioProblem, cropRgb8, preprocessImage } from '../../src-main/clip/preprocess';
import { runImport } from '../../src-main/importing/importer';
import { ProjectStore } from '../../src-main/store/project-store';
import { tempDir } from '../helpers/temp';

/** A one-colour PNG of width × height: a few KB on disk even for a million-pixel strip. */
async function strip(file: string, width: number, height: number, palette: boolean): Promise<string> {
  await sharp({ create: { width, height, channels: 3, background: '#336699' } })
    .png({ palette, compressionLevel: 9 })
    .toFile(file);
  return file;
}

/** Images far longer than wide: refused with the stated aspect-ratio limit, in bounded memory and time. */
describe('thin images', () => {
  let tmp: ReturnType<typeof tempDir>;
  const files: Record<string, string> = {};
  beforeAll(async () => {
    tmp = tempDir();
    files.palette1m = await strip(path.join(tmp.dir, 'palette-1x1000000.png'), 1, 1_000_000, true);
    files.palette3m = await strip(path.join(tmp.dir, 'palette-1x3000000.png'), 1, 3_000_000, true);
    files.rgb1m = await strip(path.join(tmp.dir, 'rgb-1x1000000.png'), 1, 1_000_000, false);
    files.wide = await strip(path.join(tmp.dir, 'wide-1000000x1.png'), 1_000_000, 1, true);
    files.limit = await strip(path.join(tmp.dir, 'limit-10x500.png'), 10, 10 * MAX_ASPECT_RATIO, false);
  });
  afterAll(() => tmp.cleanup());

  it('the limit is stated in the message', () => {
    expect(aspectRatioProblem(10, 500)).toBeNull();
    expect(aspectRatioProblem(1, 1_000_000)).toBe(
      'image is 1×1000000 pixels, 1,000,000 times as tall as it is wide; the limit is 50:1 (CLIP sees the centre square of an image). Crop it to a less elongated shape to use it'
    );
    expect(aspectRatioProblem(510, 10)).toContain('51 times as wide as it is tall');
    expect(() => cropRgb8({ data: new Uint8Array(3 * 1000), width: 1, height: 1000, channels: 3 }, 224)).toThrow(/the limit is 50:1/);
  });

  it('import lists them as skipped with the reason and keeps an image at the limit', async () => {
    const store = ProjectStore.create(path.join(tmp.dir, 'thin.mocoop'));
    try {
      const rssBefore = process.memoryUsage().rss;
      const summary = await runImport(store, { kind: 'paths', paths: Object.values(files) }, { importId: 'thin' });
      expect(summary.imported).toBe(1);
      expect(summary.skipped.map((s) => path.basename(s.path)).sort()).toEqual([
        'palette-1x1000000.png',
        'palette-1x3000000.png',
        'rgb-1x1000000.png',
        'wide-1000000x1.png'
      ]);
      for (const s of summary.skipped) expect(s.reason).toMatch(/times as (tall as it is wide|wide as it is tall); the limit is 50:1/);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 2 ** 20);
    } finally {
      store.close();
    }
  });

  it('CLIP preprocessing refuses them before decoding (a typed-array crash and 6 GB before), and takes the one at the limit', async () => {
    for (const key of ['palette1m', 'palette3m', 'rgb1m', 'wide'] as const) {
      const started = Date.now();
      await expect(preprocessImage(files[key]!, 224)).rejects.toThrow(/cannot use image .*: image is \d+×\d+ pixels, [\d,]+ times as .*; the limit is 50:1/);
      expect(Date.now() - started).toBeLessThan(5_000);
    }
    const { pixels, info } = await preprocessImage(files.limit!, 224);
    expect(pixels).toHaveLength(3 * 224 * 224);
    expect([info.resizedWidth, info.resizedHeight]).toEqual([224, 224 * MAX_ASPECT_RATIO]);
  });
});
