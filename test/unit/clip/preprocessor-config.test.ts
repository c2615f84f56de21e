import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIP_MEAN, CLIP_STD, cropRgb8, decodeImage, normalize, preprocessImage } from '../../../src-main/clip/preprocess';
import { clipPreprocessing, parsePreprocessorConfig, readPreprocessorConfig } from '../../../src-main/clip/preprocessor-config';
import { tempDir } from '../../helpers/temp';
import { TINY_CLIP } from '../../helpers/fixtures';

const fixtureDir = TINY_CLIP;
const tmp = tempDir('mocoop-preproc-');
afterAll(() => tmp.cleanup());

describe('preprocessor_config.json', () => {
  it('gives OpenAI CLIP values when the folder has no file, and the fixture file says the same', () => {
    expect(readPreprocessorConfig(tmp.dir, 224)).toEqual(clipPreprocessing(224));
    const fixture = readPreprocessorConfig(fixtureDir, 32);
    expect(fixture.resizeShortSide).toBe(32);
    expect(fixture.cropSize).toBe(32);
    expect([...fixture.mean]).toEqual([...CLIP_MEAN]);
    expect([...fixture.std]).toEqual([...CLIP_STD]);
    expect(fixture.notes).toEqual([]);
  });

  it("takes a checkpoint's own mean, std and resize", () => {
    const spec = parsePreprocessorConfig(
      { size: { shortest_edge: 256 }, crop_size: { height: 224, width: 224 }, image_mean: [0.5, 0.5, 0.5], image_std: 0.5 },
      224
    );
    expect(spec).toMatchObject({ resizeShortSide: 256, cropSize: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(parsePreprocessorConfig({ do_normalize: false }, 224)).toMatchObject({ mean: [0, 0, 0], std: [1, 1, 1] });
    expect(parsePreprocessorConfig({ size: 224 }, 224).resizeShortSide).toBe(224);
  });

  it('notes a filter it does not run instead of refusing the model', () => {
    expect(parsePreprocessorConfig({ resample: 2 }, 224).notes).toEqual([expect.stringMatching(/bilinear resampling; bicubic is used/)]);
  });

  it('refuses what cannot work, naming the file and the field', () => {
    expect(() => parsePreprocessorConfig({ crop_size: { height: 336, width: 336 } }, 224)).toThrow(
      /preprocessor_config.json: crop_size is 336×336 but the vision tower takes 224×224/
    );
    expect(() => parsePreprocessorConfig({ size: { shortest_edge: 200 } }, 224)).toThrow(/size \(200\) is smaller than the 224-pixel crop/);
    expect(() => parsePreprocessorConfig({ image_std: [1, 0, 1] }, 224)).toThrow(/image_std must be positive/);
    expect(() => parsePreprocessorConfig({ image_mean: 'red' }, 224)).toThrow(/field "image_mean"/);
    fs.writeFileSync(path.join(tmp.dir, 'preprocessor_config.json'), '{ "size": ');
    expect(() => readPreprocessorConfig(tmp.dir, 224)).toThrow(/preprocessor_config.json: is not valid JSON/);
  });

  it('preprocesses with the resize, crop, mean and std it read', async () => {
    const { data, info } = await sharp({ create: { width: 60, height: 40, channels: 3, background: { r: 200, g: 30, b: 90 } } })
      .composite([{ input: Buffer.from('<svg width="60" height="40"><rect x="5" y="5" width="20" height="30" fill="#0f0"/></svg>') }])
      .png()
      .toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(60);
    const spec = parsePreprocessorConfig({ size: { shortest_edge: 40 }, crop_size: 32, image_mean: [0.5, 0.4, 0.3], image_std: [0.2, 0.3, 0.4] }, 32);
    const { pixels, info: used } = await preprocessImage(data, spec);
    // short side 40 → 60×40 unchanged, then a centred 32×32 crop: left 14, top 4.
    expect(used.cropBox).toEqual([14, 4, 46, 36]);
    const { rgb } = cropRgb8(await decodeImage(data), 32, 40);
    expect(pixels).toEqual(normalize(rgb, 32, [0.5, 0.4, 0.3], [0.2, 0.3, 0.4]));
    expect(pixels).not.toEqual(normalize(rgb, 32));
  });
});

describe('preprocessor_config.json that is not a plain file', () => {
  it('refuses a named pipe at once instead of waiting for a writer', async () => {
    const { execFileSync } = await import('node:child_process');
    const dir = tempDir('mocoop-preproc-fifo-');
    try {
      execFileSync('mkfifo', [path.join(dir.dir, 'preprocessor_config.json')]);
      expect(() => readPreprocessorConfig(dir.dir, 224)).toThrow(/preprocessor_config.json: cannot be read \(it is a named pipe/);
    } finally {
      dir.cleanup();
    }
  });
});
