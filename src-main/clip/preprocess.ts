/**
 * OpenAI CLIP image preprocessing (`clip._transform`: Resize(S, BICUBIC) -> CenterCrop(S) -> RGB
 * -> ToTensor -> Normalize) reproducing what Pillow 9.4 + torchvision compute, so that pixel
 * values match the Python reference (bit-exact for PNG; JPEG up to decoder differences).
 *
 * Decoding goes through sharp but keeps the samples Pillow would see: no EXIF rotation, no ICC
 * colour management, greyscale kept as one channel, alpha kept for the premultiplied resize.
 */
import fs from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { premultiplyAlpha, resizeBicubicRegion, resizeNearest, unpremultiplyAlpha } from './pillow-resize';
import type { ImagePreprocessing } from './preprocessor-config';

export const CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/**
 * How Pillow opens a file whose samples are not plain L / RGB / RGBA:
 * - 'P' (palette PNG / GIF) and '1' (1-bit PNG): Pillow resizes these with NEAREST, not bicubic;
 *   the decoded samples here are already expanded (RGB, resp. 0/255 grey).
 * - 'LA' (grey + alpha): expanded to RGBA (R = G = B = L), which gives the same premultiplied
 *   resize and the same RGB result as Pillow's LA path.
 * - 'CMYK' (JPEG): the 4 channels are C, M, Y, K (not RGBA); they are resized without
 *   premultiplication and converted to RGB with Pillow's cmyk2rgb after the crop.
 */
export type SourceMode = 'P' | '1' | 'LA' | 'CMYK';

export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  /** Present only when the file is not a plain L / RGB / RGBA image for Pillow (see SourceMode). */
  sourceMode?: SourceMode;
}

export interface PreprocessInfo {
  /** Pillow mode of the decoded image (by channel count; see `sourceMode` for P / 1 / LA / CMYK files). */
  mode: 'L' | 'RGB' | 'RGBA';
  width: number;
  height: number;
  resizedWidth: number;
  resizedHeight: number;
  /** [left, top, right, bottom] in the resized image. */
  cropBox: [number, number, number, number];
  sourceMode?: SourceMode;
}

/**
 * The most elongated image CLIP preprocessing takes: the short side is resized to 224 and the long
 * side in proportion, so a 1×1,000,000 strip (2 KB as a palette PNG) would need a 224×224,000,000
 * intermediate (gigabytes, or a typed-array crash). CLIP sees only the centre square anyway.
 */
export const MAX_ASPECT_RATIO = 50;

/** Null when width × height is within MAX_ASPECT_RATIO, else a sentence for the person importing it. */
export function aspectRatioProblem(width: number, height: number): string | null {
  if (!(width >= 1 && height >= 1)) return null;
  const ratio = Math.max(width, height) / Math.min(width, height);
  if (ratio <= MAX_ASPECT_RATIO) return null;
  return (
    `image is ${width}×${height} pixels, ${Math.round(ratio).toLocaleString('en-US')} times as ${width > height ? 'wide as it is tall' : 'tall as it is wide'}; ` +
    `the limit is ${MAX_ASPECT_RATIO}:1 (CLIP sees the centre square of an image). Crop it to a less elongated shape to use it`
  );
}

const firstLine = (error: unknown) =>
  String((error as Error)?.message ?? error)
    .split('\n')[0]!
    .trim();

/** IHDR bit depth and colour type of a PNG, or null when `bytes` is not a PNG. */
function pngHeader(bytes: Uint8Array): { bitDepth: number; colorType: number } | null {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  if (bytes.length < 29 || sig.some((b, i) => bytes[i] !== b)) return null;
  // 8..11 length, 12..15 "IHDR", 16..23 width/height, 24 bit depth, 25 colour type.
  if (bytes[12] !== 0x49 || bytes[13] !== 0x48 || bytes[14] !== 0x44 || bytes[15] !== 0x52) return null;
  return { bitDepth: bytes[24]!, colorType: bytes[25]! };
}

type Plan = { kind: 'grey' | 'rgb' | 'rgba' | 'cmyk'; sourceMode?: SourceMode };

function planDecode(bytes: Uint8Array, meta: Metadata): Plan {
  const png = meta.format === 'png' ? pngHeader(bytes) : null;
  if (png) {
    switch (png.colorType) {
      case 0: // greyscale; a tRNS colour key stays metadata in Pillow (mode L / 1)
        return png.bitDepth === 1 ? { kind: 'grey', sourceMode: '1' } : { kind: 'grey' };
      case 2: // truecolour; a tRNS colour key stays metadata in Pillow (mode RGB)
        return { kind: 'rgb' };
      case 3:
        return { kind: 'rgb', sourceMode: 'P' };
      case 4:
        return { kind: 'rgba', sourceMode: 'LA' };
      default:
        return { kind: 'rgba' };
    }
  }
  if (meta.space === 'cmyk') return { kind: 'cmyk', sourceMode: 'CMYK' };
  if (meta.isPalette) return { kind: 'rgb', sourceMode: 'P' };
  const grey = meta.space === 'b-w' || meta.space === 'grey16';
  if (grey) return meta.hasAlpha ? { kind: 'rgba', sourceMode: 'LA' } : { kind: 'grey' };
  return { kind: meta.hasAlpha ? 'rgba' : 'rgb' };
}

/**
 * Decodes an image file or buffer to raw 8-bit interleaved samples in the mode Pillow would open
 * it in: 1 channel (L), 3 (RGB) or 4 (RGBA; C,M,Y,K when `sourceMode` is 'CMYK'). EXIF orientation
 * and embedded ICC profiles are ignored, as Pillow's `Image.open` does.
 */
export async function decodeImage(input: string | Buffer): Promise<DecodedImage> {
  const name = typeof input === 'string' ? input : `<buffer of ${input.length} bytes>`;
  let bytes: Buffer;
  if (typeof input === 'string') {
    try {
      bytes = await fs.readFile(input);
    } catch (error) {
      throw new Error(`cannot read image ${name}: ${firstLine(error)}`, { cause: error });
    }
  } else {
    bytes = input;
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (error) {
    throw new Error(`cannot decode image ${name}: ${firstLine(error)}`, { cause: error });
  }
  // Refused before decoding: the resize of a very elongated image is what would not fit in memory.
  const shape = aspectRatioProblem(meta.width ?? 0, meta.pageHeight ?? meta.height ?? 0);
  if (shape) throw new Error(`cannot use image ${name}: ${shape}.`);
  try {
    const plan = planDecode(bytes, meta);
    let pipeline = sharp(bytes, { ignoreIcc: true, failOn: 'truncated' });
    let expect: 1 | 3 | 4;
    switch (plan.kind) {
      case 'grey':
        pipeline = pipeline.toColourspace('b-w');
        expect = 1;
        break;
      case 'cmyk':
        pipeline = pipeline.pipelineColourspace('cmyk').toColourspace('cmyk');
        expect = 4;
        break;
      case 'rgb':
        pipeline = pipeline.toColourspace('srgb').removeAlpha();
        expect = 3;
        break;
      default:
        pipeline = pipeline.toColourspace('srgb').ensureAlpha();
        expect = 4;
    }
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== expect || data.length !== info.width * info.height * expect) {
      throw new Error(`unexpected decoded layout (${info.width}x${info.height}, ${info.channels} channels; wanted ${expect})`);
    }
    const out: DecodedImage = { data, width: info.width, height: info.height, channels: expect };
    if (plan.sourceMode) out.sourceMode = plan.sourceMode;
    return out;
  } catch (error) {
    throw new Error(`cannot decode image ${name}: ${firstLine(error)}`, { cause: error });
  }
}

/** Python's round() for x.0 / x.5 values: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** torchvision's Resize(int) output size: short side -> size, long side = int(size * long / short). */
export function resizedSize(width: number, height: number, size: number): [number, number] {
  return width <= height ? [size, Math.trunc((size * height) / width)] : [Math.trunc((size * width) / height), size];
}

/**
 * Resize (short side -> `resizeShortSide`, default `size`; Pillow bicubic; premultiplied for RGBA;
 * nearest for P / 1 files), centre crop `size` x `size` at Python-rounded offsets, and conversion to RGB (grey replicated,
 * alpha dropped without compositing, CMYK via Pillow's cmyk2rgb). Pure; returns HWC uint8 RGB.
 */
export function cropRgb8(image: DecodedImage, size: number, resizeShortSide = size): { rgb: Uint8Array; info: PreprocessInfo } {
  const { data, width, height, channels, sourceMode } = image;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`cropRgb8: size must be a positive integer, got ${size}`);
  if (!Number.isInteger(resizeShortSide) || resizeShortSide < size)
    throw new RangeError(`cropRgb8: the resize (${resizeShortSide}) must be a whole number of pixels, at least the crop (${size})`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`cropRgb8: invalid image size ${width}x${height}`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new RangeError(`cropRgb8: unsupported channel count ${channels}`);
  if (data.length !== width * height * channels) {
    throw new RangeError(`cropRgb8: expected ${width * height * channels} bytes for ${width}x${height}x${channels}, got ${data.length}`);
  }
  const shape = aspectRatioProblem(width, height);
  if (shape) throw new RangeError(`cropRgb8: ${shape}.`);
  const [rw, rh] = resizedSize(width, height, resizeShortSide);
  const left = roundHalfEven((rw - size) / 2);
  const top = roundHalfEven((rh - size) / 2);
  const box = [left, top, left + size, top + size] as [number, number, number, number];
  // The size x size crop of the resized image, `channels` per pixel. The bicubic resize computes
  // only the cropped pixels (each identical to Pillow's full resize followed by crop).
  let crop: Uint8Array;
  if ((sourceMode === 'P' || sourceMode === '1') && (rw !== width || rh !== height)) {
    const full = resizeNearest(data, width, height, channels, rw, rh);
    crop = resizeBicubicRegion(full, rw, rh, channels, rw, rh, box);
  } else if (channels === 4 && sourceMode !== 'CMYK' && (rw !== width || rh !== height)) {
    crop = unpremultiplyAlpha(resizeBicubicRegion(premultiplyAlpha(data), width, height, 4, rw, rh, box));
  } else {
    crop = resizeBicubicRegion(data, width, height, channels, rw, rh, box);
  }
  const pixels = size * size;
  let rgb: Uint8Array;
  if (channels === 3) {
    rgb = crop;
  } else {
    rgb = new Uint8Array(pixels * 3);
    if (channels === 1) {
      for (let i = 0, o = 0; i < pixels; i++, o += 3) {
        const v = crop[i]!;
        rgb[o] = v;
        rgb[o + 1] = v;
        rgb[o + 2] = v;
      }
    } else if (sourceMode === 'CMYK') {
      // Convert.c cmyk2rgb: nk - MULDIV255(c, nk), nk = 255 - k.
      for (let i = 0, p = 0, o = 0; i < pixels; i++, p += 4) {
        const nk = 255 - crop[p + 3]!;
        for (let ch = 0; ch < 3; ch++) {
          const t = crop[p + ch]! * nk + 128;
          const v = nk - (((t >> 8) + t) >> 8);
          rgb[o++] = v < 0 ? 0 : v;
        }
      }
    } else {
      for (let i = 0, p = 0, o = 0; i < pixels; i++, p += 4, o += 3) {
        rgb[o] = crop[p]!;
        rgb[o + 1] = crop[p + 1]!;
        rgb[o + 2] = crop[p + 2]!;
      }
    }
  }
  const mode = channels === 1 ? 'L' : channels === 3 || sourceMode === 'CMYK' ? 'RGB' : 'RGBA';
  const info: PreprocessInfo = { mode, width, height, resizedWidth: rw, resizedHeight: rh, cropBox: box };
  if (sourceMode) info.sourceMode = sourceMode;
  return { rgb, info };
}

const lutCache = new Map<string, Float32Array>();

/** 3 x 256 table of float32((float32(v / 255) - mean[c]) / std[c]), as ToTensor + Normalize compute it in float32. */
function normalizeTable(mean: ArrayLike<number>, std: ArrayLike<number>): Float32Array {
  const key = `${mean[0]},${mean[1]},${mean[2]}/${std[0]},${std[1]},${std[2]}`;
  let lut = lutCache.get(key);
  if (!lut) {
    lut = new Float32Array(768);
    const f = Math.fround;
    for (let c = 0; c < 3; c++) {
      const m = f(mean[c]!);
      const s = f(std[c]!);
      for (let v = 0; v < 256; v++) lut[c * 256 + v] = f(f(f(v / 255) - m) / s);
    }
    if (lutCache.size > 16) lutCache.clear();
    lutCache.set(key, lut);
  }
  return lut;
}

/**
 * HWC uint8 RGB (size x size) -> CHW float32 `(x / 255 - mean) / std`, written to `out` at
 * `offset` (a batch buffer, say) or to a new array.
 */
export function normalize(
  rgb: Uint8Array,
  size: number,
  mean: ArrayLike<number> = CLIP_MEAN,
  std: ArrayLike<number> = CLIP_STD,
  out?: Float32Array,
  offset = 0
): Float32Array {
  const plane = size * size;
  if (rgb.length !== plane * 3) throw new RangeError(`normalize: expected ${plane * 3} bytes for ${size}x${size} RGB, got ${rgb.length}`);
  const target = out ?? new Float32Array(plane * 3);
  if (offset < 0 || offset + plane * 3 > target.length) throw new RangeError('normalize: output buffer too small');
  const lut = normalizeTable(mean, std);
  const g = offset + plane;
  const b = g + plane;
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    target[offset + i] = lut[rgb[p]!]!;
    target[g + i] = lut[256 + rgb[p + 1]!]!;
    target[b + i] = lut[512 + rgb[p + 2]!]!;
  }
  return target;
}

/**
 * decodeImage -> cropRgb8 -> normalize: one CLIP input, CHW float32 of length 3 * size * size.
 * `spec` is the crop size with OpenAI CLIP's resize, mean and std, or a checkpoint's own preprocessing.
 */
export async function preprocessImage(input: string | Buffer, spec: number | ImagePreprocessing): Promise<{ pixels: Float32Array; info: PreprocessInfo }> {
  const image = await decodeImage(input);
  if (typeof spec === 'number') {
    const { rgb, info } = cropRgb8(image, spec);
    return { pixels: normalize(rgb, spec), info };
  }
  const { rgb, info } = cropRgb8(image, spec.cropSize, spec.resizeShortSide);
  return { pixels: normalize(rgb, spec.cropSize, spec.mean, spec.std), info };
}
