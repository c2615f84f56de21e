import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  premultiplyAlpha,
  precomputeBicubicCoefficients,
  resizeBicubic,
  resizeBicubicRegion,
  resizeNearest,
  unpremultiplyAlpha
} from '../../../src-main/clip/pillow-resize';
import { CLIP_MEAN, CLIP_STD, cropRgb8, decodeImage, normalize, preprocessImage } from '../../../src-main/clip/preprocess';
import { tempDir } from '../../helpers/temp';
import { TINY_CLIP } from '../../helpers/fixtures';

const fixtureDir = TINY_CLIP;

interface ExpectedImage {
  file: string;
  mode: string;
  width: number;
  height: number;
  resized_width: number;
  resized_height: number;
  crop_box: [number, number, number, number];
}
interface Expected {
  image_size: number;
  images: ExpectedImage[];
  pixel_values: number[][][][];
}

/** Deterministic pseudo-random bytes. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 255;
  }
  return out;
}

/**
 * Straightforward transcription of Pillow's ImagingResampleInner (8-bit path): full horizontal
 * pass over the rows Pillow keeps, then a vertical pass with taps innermost, plain C-like loops.
 * Used to check the optimised loops (two-row sweeps, multi-tap sweeps, regions) against.
 */
function naivePillowResize(src: Uint8Array, w: number, h: number, c: number, ow: number, oh: number): Uint8Array {
  const clip8 = (v: number) => Math.min(255, Math.max(0, Math.floor(v / 2 ** 22)));
  let img = src;
  let iw = w;
  const vert = precomputeBicubicCoefficients(h, oh);
  const vb = Array.from(vert.bounds);
  if (ow !== w) {
    const hc = precomputeBicubicCoefficients(w, ow);
    const first = oh !== h ? vb[0]! : 0;
    const last = oh !== h ? vb[2 * oh - 2]! + vb[2 * oh - 1]! : h;
    if (oh !== h) for (let i = 0; i < oh; i++) vb[2 * i]! -= first;
    const tmp = new Uint8Array(ow * (last - first) * c);
    for (let y = 0; y < last - first; y++) {
      for (let x = 0; x < ow; x++) {
        for (let ch = 0; ch < c; ch++) {
          let ss = 2 ** 21;
          for (let t = 0; t < hc.bounds[2 * x + 1]!; t++) ss += src[((y + first) * w + hc.bounds[2 * x]! + t) * c + ch]! * hc.weights[x * hc.ksize + t]!;
          tmp[(y * ow + x) * c + ch] = clip8(ss);
        }
      }
    }
    img = tmp;
    iw = ow;
  }
  if (oh === h) return img === src ? src.slice() : img;
  const out = new Uint8Array(iw * oh * c);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < iw; x++) {
      for (let ch = 0; ch < c; ch++) {
        let ss = 2 ** 21;
        for (let t = 0; t < vb[2 * y + 1]!; t++) ss += img[((vb[2 * y]! + t) * iw + x) * c + ch]! * vert.weights[y * vert.ksize + t]!;
        out[(y * iw + x) * c + ch] = clip8(ss);
      }
    }
  }
  return out;
}

// ---- tiny PNG writer, to make images whose PNG colour type matters (palette, grey + tRNS, LA) ----
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function pngChunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  let crc = 0xffffffff;
  for (const b of body) crc = crcTable[(crc ^ b) & 255]! ^ (crc >>> 8);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return Buffer.concat([head, body, tail]);
}
function makePng(width: number, height: number, bitDepth: number, colorType: number, rows: number[][], extra: Buffer[] = []): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  const raw = Buffer.concat(rows.map((r) => Buffer.from([0, ...r])));
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk('IHDR', ihdr),
    ...extra,
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', new Uint8Array(0))
  ]);
}

describe('resizeBicubic (Pillow Resample.c, 8-bit)', () => {
  it('averages [0, 255] to 128 when halving (weights 0.5 / 0.5 in 22-bit fixed point)', () => {
    expect([...resizeBicubic(Uint8Array.from([0, 255]), 2, 1, 1, 1, 1)]).toEqual([128]);
  });

  it('upscales [0, 255] to [0, 53, 202, 255] (hand-computed: weights 1.0882/-0.0882 and 0.7929/0.2071)', () => {
    const c = precomputeBicubicCoefficients(2, 4);
    expect(Array.from(c.bounds)).toEqual([0, 2, 0, 2, 0, 2, 0, 2]);
    expect(Array.from(c.weights.subarray(0, 2))).toEqual([4564390, -370086]);
    expect(Array.from(c.weights.subarray(c.ksize, c.ksize + 2))).toEqual([3325484, 868820]);
    expect([...resizeBicubic(Uint8Array.from([0, 255]), 2, 1, 1, 4, 1)]).toEqual([0, 53, 202, 255]);
    // Same along the other axis.
    expect([...resizeBicubic(Uint8Array.from([0, 255]), 1, 2, 1, 1, 4)]).toEqual([0, 53, 202, 255]);
  });

  it('keeps a constant image constant, up and down, for 1..4 channels', () => {
    for (const channels of [1, 2, 3, 4]) {
      for (const [w, h, ow, oh] of [
        [7, 5, 23, 17],
        [64, 48, 42, 32],
        [129, 32, 33, 9],
        [5, 300, 3, 31]
      ] as const) {
        for (const v of [0, 1, 137, 254, 255]) {
          const out = resizeBicubic(new Uint8Array(w * h * channels).fill(v), w, h, channels, ow, oh);
          expect(out.length).toBe(ow * oh * channels);
          expect(out.every((x) => x === v)).toBe(true);
        }
      }
    }
  });

  it('maps a palindromic 1-D signal to a palindromic one when upscaling and downscaling', () => {
    const ramp = Uint8Array.from([0, 40, 120, 255, 120, 40, 0]);
    for (const ow of [3, 5, 11, 20, 29]) {
      const out = [...resizeBicubic(ramp, ramp.length, 1, 1, ow, 1)];
      expect(out).toEqual([...out].reverse());
    }
    const up = [...resizeBicubic(Uint8Array.from([0, 64, 128, 192, 255]), 5, 1, 1, 12, 1)];
    for (let i = 1; i < up.length; i++) expect(up[i]).toBeGreaterThanOrEqual(up[i - 1]!); // a monotone ramp stays monotone
  });

  it('matches a plain transcription of Pillow on random images (odd sizes, every channel count, one- and two-pass)', () => {
    let seed = 7;
    for (const channels of [1, 2, 3, 4]) {
      for (const [w, h, ow, oh] of [
        [13, 11, 5, 7],
        [13, 11, 31, 4],
        [40, 9, 17, 9],
        [9, 40, 9, 3],
        [3, 2, 10, 9],
        [77, 45, 54, 32],
        [1, 5, 3, 2]
      ] as const) {
        const src = noise(w * h * channels, seed++);
        expect(resizeBicubic(src, w, h, channels, ow, oh)).toEqual(naivePillowResize(src, w, h, channels, ow, oh));
      }
    }
  });

  it('computes a region identical to the same pixels of the full resize', () => {
    const src = noise(70 * 35 * 3, 99);
    const full = resizeBicubic(src, 70, 35, 3, 64, 32);
    for (const box of [
      [16, 0, 48, 32],
      [0, 5, 7, 6],
      [63, 31, 64, 32]
    ] as const) {
      const region = resizeBicubicRegion(src, 70, 35, 3, 64, 32, box);
      const expected: number[] = [];
      for (let y = box[1]; y < box[3]; y++) expected.push(...full.subarray((y * 64 + box[0]) * 3, (y * 64 + box[2]) * 3));
      expect([...region]).toEqual(expected);
    }
    expect(() => resizeBicubicRegion(src, 70, 35, 3, 64, 32, [0, 0, 65, 32])).toThrow(RangeError);
    expect(() => resizeBicubic(src, 70, 35, 3, 0, 32)).toThrow(RangeError);
    expect(() => resizeBicubic(src, 71, 35, 3, 10, 10)).toThrow(/bytes/);
  });

  it('returns a copy when the size does not change', () => {
    const src = noise(6 * 4 * 3, 3);
    const out = resizeBicubic(src, 6, 4, 3, 6, 4);
    expect(out).toEqual(src);
    expect(out).not.toBe(src);
  });
});

describe('resizeNearest and alpha (Pillow ImagingScaleAffine, Convert.c)', () => {
  it('picks floor((i + 0.5) * in / out) source pixels', () => {
    expect([...resizeNearest(Uint8Array.from([0, 1, 2, 3, 4, 5]), 6, 1, 1, 4, 1)]).toEqual([0, 2, 3, 5]);
    expect([...resizeNearest(Uint8Array.from([7, 9]), 2, 1, 1, 5, 1)]).toEqual([7, 7, 9, 9, 9]);
    expect([...resizeNearest(Uint8Array.from([1, 2, 3, 4, 5, 6]), 1, 3, 2, 1, 2)]).toEqual([1, 2, 5, 6]);
  });

  it('premultiplies with MULDIV255 (= round(c * a / 255)) for every pair', () => {
    const px = new Uint8Array(256 * 256 * 4);
    for (let c = 0; c < 256; c++) for (let a = 0; a < 256; a++) px.set([c, 255 - c, c, a], (c * 256 + a) * 4);
    const pm = premultiplyAlpha(px);
    const wrong: string[] = [];
    for (let c = 0; c < 256; c++) {
      for (let a = 0; a < 256; a++) {
        const i = (c * 256 + a) * 4;
        if (pm[i] !== Math.round((c * a) / 255) || pm[i + 1] !== Math.round(((255 - c) * a) / 255) || pm[i + 3] !== a) wrong.push(`${c},${a}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('unpremultiplies with truncating division, clipping, and alpha 0 / 255 left alone', () => {
    const px = Uint8Array.from([100, 50, 1, 128, 200, 99, 0, 100, 7, 8, 9, 0, 7, 8, 9, 255]);
    expect([...unpremultiplyAlpha(px)]).toEqual([199, 99, 1, 128, 255, 252, 0, 100, 7, 8, 9, 0, 7, 8, 9, 255]);
  });
});

describe('CLIP preprocessing against tiny-clip-a (OpenAI clip._transform, Pillow 9.4)', () => {
  const expected = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'expected.json'), 'utf8')) as Expected;
  const S = expected.image_size;

  it('has the six images of the fixture', () => {
    expect(expected.images).toHaveLength(6);
    expect(S).toBe(32);
  });

  for (const [n, image] of expected.images.entries()) {
    it(`${image.file}: mode, sizes, crop box and pixels`, async () => {
      const file = path.join(fixtureDir, image.file);
      const decoded = await decodeImage(file);
      expect([decoded.width, decoded.height, decoded.channels]).toEqual([image.width, image.height, { L: 1, RGB: 3, RGBA: 4 }[image.mode]]);
      const { rgb, info } = cropRgb8(decoded, S);
      expect(info).toEqual({
        mode: image.mode,
        width: image.width,
        height: image.height,
        resizedWidth: image.resized_width,
        resizedHeight: image.resized_height,
        cropBox: image.crop_box
      });

      // Un-normalise the reference back to grey levels and compare with the uint8 crop.
      const ref = expected.pixel_values[n]!;
      let maxDiff = 0;
      let maxRoundOff = 0;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < S; y++) {
          for (let x = 0; x < S; x++) {
            const level = (ref[c]![y]![x]! * CLIP_STD[c]! + CLIP_MEAN[c]!) * 255;
            maxRoundOff = Math.max(maxRoundOff, Math.abs(level - Math.round(level)));
            maxDiff = Math.max(maxDiff, Math.abs(rgb[(y * S + x) * 3 + c]! - Math.round(level)));
          }
        }
      }
      console.log(`${image.file}: max |diff| = ${maxDiff} grey levels`);
      expect(maxRoundOff).toBeLessThan(1e-3); // the reference really is uint8 / 255, normalised
      const isPng = image.file.endsWith('.png');
      // Measured: 0 for every image (the JPEGs decode identically with sharp's libjpeg-turbo).
      // PNG must be exact up to 1 level; JPEG may differ by decoder (libjpeg-turbo vs others).
      expect(maxDiff).toBeLessThanOrEqual(isPng ? 1 : 4);
      if (isPng) expect(maxDiff).toBe(0);

      // Normalised output: where the uint8 agrees, the float must agree to 1e-5.
      const { pixels, info: info2 } = await preprocessImage(file, S);
      expect(info2).toEqual(info);
      expect(pixels).toEqual(normalize(rgb, S));
      let maxNorm = 0;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < S; y++) {
          for (let x = 0; x < S; x++) {
            const level = Math.round((ref[c]![y]![x]! * CLIP_STD[c]! + CLIP_MEAN[c]!) * 255);
            if (rgb[(y * S + x) * 3 + c] === level) maxNorm = Math.max(maxNorm, Math.abs(pixels[c * S * S + y * S + x]! - ref[c]![y]![x]!));
          }
        }
      }
      expect(maxNorm).toBeLessThan(1e-5);
    });
  }

  it('accepts a Buffer as well as a path', async () => {
    const file = path.join(fixtureDir, expected.images[3]!.file);
    const fromPath = await preprocessImage(file, S);
    const fromBuffer = await preprocessImage(fs.readFileSync(file), S);
    expect(fromBuffer.pixels).toEqual(fromPath.pixels);
  });
});

describe('normalize', () => {
  it('writes CHW (x / 255 - mean) / std into a batch buffer at an offset', () => {
    const rgb = Uint8Array.from([0, 128, 255, 255, 0, 10]);
    const out = new Float32Array(10).fill(-99);
    normalize(rgb.subarray(0, 3), 1, CLIP_MEAN, CLIP_STD, out, 2);
    expect(out[0]).toBe(-99);
    expect(out[2]).toBeCloseTo((0 - CLIP_MEAN[0]) / CLIP_STD[0], 6);
    expect(out[3]).toBeCloseTo((128 / 255 - CLIP_MEAN[1]) / CLIP_STD[1], 6);
    expect(out[4]).toBeCloseTo((1 - CLIP_MEAN[2]) / CLIP_STD[2], 6);
    expect(out[5]).toBe(-99);
    const plain = normalize(Uint8Array.from([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]), 2, [0, 0, 0], [1, 1, 1]);
    expect([...plain].map((v) => Math.round(v * 255))).toEqual([10, 40, 70, 100, 20, 50, 80, 110, 30, 60, 90, 120]);
    expect(() => normalize(rgb, 2)).toThrow(RangeError);
    expect(() => normalize(rgb.subarray(0, 3), 1, CLIP_MEAN, CLIP_STD, new Float32Array(4), 2)).toThrow(RangeError);
  });
});

describe('decodeImage', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('mocoop-preprocess-');
  });
  afterAll(() => tmp.cleanup());

  it('names the input when it cannot be decoded', async () => {
    await expect(decodeImage(Buffer.from('definitely not an image'))).rejects.toThrow(/cannot decode image <buffer of 23 bytes>/);
    const bad = path.join(tmp.dir, 'broken.jpg');
    fs.writeFileSync(bad, 'not a jpeg either');
    await expect(decodeImage(bad)).rejects.toThrow(bad);
    await expect(preprocessImage(bad, 32)).rejects.toThrow(bad);
    const missing = path.join(tmp.dir, 'missing.png');
    await expect(decodeImage(missing)).rejects.toThrow(missing);
  });

  it('keeps greyscale as one channel, including grey + tRNS (Pillow mode L)', async () => {
    const grey = await decodeImage(path.join(fixtureDir, 'images', 'a2_gray_40x40.png'));
    expect(grey.channels).toBe(1);
    const trns = await decodeImage(makePng(2, 1, 8, 0, [[10, 30]], [pngChunk('tRNS', Uint8Array.from([0, 30]))]));
    expect(trns).toMatchObject({ channels: 1, width: 2, height: 1 });
    expect([...trns.data]).toEqual([10, 30]);
  });

  it('treats RGB + tRNS as RGB and grey + alpha as premultiplied RGBA', async () => {
    const rgb = await decodeImage(makePng(2, 1, 8, 2, [[10, 20, 30, 1, 2, 3]], [pngChunk('tRNS', Uint8Array.from([0, 1, 0, 2, 0, 3]))]));
    expect(rgb.channels).toBe(3);
    expect([...rgb.data]).toEqual([10, 20, 30, 1, 2, 3]);
    const la = await decodeImage(makePng(2, 1, 8, 4, [[10, 200, 30, 0]]));
    expect(la).toMatchObject({ channels: 4, sourceMode: 'LA' });
    expect([...la.data]).toEqual([10, 10, 10, 200, 30, 30, 30, 0]);
  });

  it('resizes palette images with NEAREST, as Pillow does for mode P', async () => {
    // 6x3 palette image, index = x + 6y, palette entry i = (i, 2i, 255 - i).
    const palette = new Uint8Array(18 * 3);
    for (let i = 0; i < 18; i++) palette.set([i, 2 * i, 255 - i], i * 3);
    const rows = [0, 1, 2].map((y) => [0, 1, 2, 3, 4, 5].map((x) => x + 6 * y));
    const decoded = await decodeImage(makePng(6, 3, 8, 3, rows, [pngChunk('PLTE', palette)]));
    expect(decoded).toMatchObject({ channels: 3, sourceMode: 'P', width: 6, height: 3 });
    const { rgb, info } = cropRgb8(decoded, 2);
    // Resized to 4x2 by nearest: columns [0, 2, 3, 5], rows [0, 2]; centre crop keeps columns 2, 3.
    expect(info).toMatchObject({ mode: 'RGB', resizedWidth: 4, resizedHeight: 2, cropBox: [1, 0, 3, 2], sourceMode: 'P' });
    const idx = [2, 3, 14, 15];
    expect([...rgb]).toEqual(idx.flatMap((i) => [i, 2 * i, 255 - i]));
  });

  it('ignores EXIF orientation (Pillow does not rotate)', async () => {
    const jpeg = await sharp(noise(9 * 5 * 3, 5), { raw: { width: 9, height: 5, channels: 3 } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const meta = await sharp(jpeg).metadata();
    expect([meta.orientation, meta.autoOrient.width, meta.autoOrient.height]).toEqual([6, 5, 9]);
    const decoded = await decodeImage(jpeg);
    expect([decoded.width, decoded.height, decoded.channels]).toEqual([9, 5, 3]);
  });

  it('ignores an embedded ICC profile (Pillow does no colour management)', async () => {
    const withP3 = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } })
      .withIccProfile('p3')
      .png()
      .toBuffer();
    const icc = (await sharp(withP3).metadata()).icc!;
    expect(icc.length).toBeGreaterThan(100);
    const raw = noise(9 * 5 * 3, 6);
    const rows = [0, 1, 2, 3, 4].map((y) => [...raw.subarray(y * 27, y * 27 + 27)]);
    const iccp = pngChunk('iCCP', Buffer.concat([Buffer.from('p3\0\0', 'latin1'), zlib.deflateSync(icc)]));
    const png = makePng(9, 5, 8, 2, rows, [iccp]);
    expect((await sharp(png).metadata()).hasProfile).toBe(true);
    // sharp on its own would convert to sRGB through the profile; decodeImage must not.
    const managed = await sharp(png).raw().toBuffer();
    expect(managed.equals(Buffer.from(raw))).toBe(false);
    const decoded = await decodeImage(png);
    expect(Buffer.from(decoded.data).equals(Buffer.from(raw))).toBe(true);
  });
});
