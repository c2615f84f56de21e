/**
 * How a checkpoint wants its images prepared, from its preprocessor_config.json (HF
 * CLIPImageProcessor): short-side resize, centre crop, mean and std. OpenAI's CLIP values when the
 * file is absent. The resize and crop stay Pillow-exact bicubic (preprocess.ts); a checkpoint asking
 * for another filter gets bicubic and a note that says so.
 */
import path from 'node:path';
import { z } from 'zod';
import { ModelConfigError } from './config';
import { CLIP_MEAN, CLIP_STD } from './preprocess';
import { readRegularTextFile, unreadableReason } from './regular-file';

export interface ImagePreprocessing {
  /** Short side after the resize, in pixels. */
  resizeShortSide: number;
  /** Side of the square centre crop: the vision tower's input size. */
  cropSize: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  /** Where this preprocessing differs from what the file asks for (shown with the model). */
  notes: string[];
}

export const PREPROCESSOR_CONFIG_FILE = 'preprocessor_config.json';

/** OpenAI CLIP's preprocessing for a tower whose input is `imageSize` pixels square. */
export function clipPreprocessing(imageSize: number): ImagePreprocessing {
  return { resizeShortSide: imageSize, cropSize: imageSize, mean: CLIP_MEAN, std: CLIP_STD, notes: [] };
}

const side = z.number().int().positive().max(4096);
const triple = z.tuple([z.number().finite(), z.number().finite(), z.number().finite()]);
const squareOrSides = z.union([
  side,
  z.object({ height: side, width: side }),
  z.object({ shortest_edge: side }),
  z.object({ height: side, width: side, shortest_edge: side.optional() })
]);

const PreprocessorJson = z.looseObject({
  do_resize: z.boolean().optional(),
  size: squareOrSides.optional(),
  resample: z.number().int().optional(),
  do_center_crop: z.boolean().optional(),
  crop_size: squareOrSides.optional(),
  do_rescale: z.boolean().optional(),
  rescale_factor: z.number().positive().optional(),
  do_normalize: z.boolean().optional(),
  image_mean: z.union([triple, z.number().finite()]).optional(),
  image_std: z.union([triple, z.number().finite()]).optional()
});

const PIL_FILTERS: Record<number, string> = { 0: 'nearest', 1: 'Lanczos', 2: 'bilinear', 3: 'bicubic', 4: 'box', 5: 'Hamming' };

function sideOf(value: z.infer<typeof squareOrSides>): { short?: number; height?: number; width?: number } {
  if (typeof value === 'number') return { short: value, height: value, width: value };
  const v = value as { height?: number; width?: number; shortest_edge?: number };
  return { ...(v.shortest_edge !== undefined ? { short: v.shortest_edge } : {}), ...(v.height !== undefined ? { height: v.height, width: v.width } : {}) };
}

/** Checks a parsed preprocessor_config.json against the vision tower's input size. Pure. */
export function parsePreprocessorConfig(json: unknown, imageSize: number, file = PREPROCESSOR_CONFIG_FILE): ImagePreprocessing {
  const parsed = PreprocessorJson.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelConfigError(
      `${file}: field "${issue.path.join('.') || '(root)'}": ${issue.message}. Fix or delete the file (CLIP's defaults are used without it).`
    );
  }
  const cfg = parsed.data;
  const result = clipPreprocessing(imageSize);
  const notes: string[] = [];

  const crop = cfg.crop_size !== undefined ? sideOf(cfg.crop_size) : {};
  if (cfg.do_center_crop !== false && crop.height !== undefined && (crop.height !== imageSize || crop.width !== imageSize)) {
    throw new ModelConfigError(
      `${file}: crop_size is ${crop.height}×${crop.width} but the vision tower takes ${imageSize}×${imageSize} images (vision_config.image_size in config.json). Make them agree.`
    );
  }
  if (cfg.do_center_crop === false)
    notes.push(`${file} turns the centre crop off; images are still centre-cropped to ${imageSize}×${imageSize}, which the vision tower needs`);

  if (cfg.do_resize !== false && cfg.size !== undefined) {
    const size = sideOf(cfg.size);
    const short = size.short ?? Math.min(size.height ?? imageSize, size.width ?? imageSize);
    if (size.short === undefined && size.height !== undefined && size.height !== size.width) {
      notes.push(`${file} asks for a ${size.height}×${size.width} resize; the short side is resized to ${short} instead, keeping the aspect ratio`);
    }
    if (short < imageSize)
      throw new ModelConfigError(
        `${file}: size (${short}) is smaller than the ${imageSize}-pixel crop the vision tower needs. Make size at least ${imageSize}.`
      );
    result.resizeShortSide = short;
  } else if (cfg.do_resize === false) {
    notes.push(`${file} turns the resize off; images are resized so their short side is ${imageSize}, which the vision tower needs`);
  }

  if (cfg.resample !== undefined && cfg.resample !== 3) {
    notes.push(`${file} asks for ${PIL_FILTERS[cfg.resample] ?? `filter ${cfg.resample}`} resampling; bicubic is used`);
  }
  if (cfg.do_rescale !== false && cfg.rescale_factor !== undefined && Math.abs(cfg.rescale_factor - 1 / 255) > 1e-9) {
    throw new ModelConfigError(`${file}: rescale_factor ${cfg.rescale_factor} is not supported (pixels are scaled by 1/255). Set it to 0.00392156862745098.`);
  }

  if (cfg.do_normalize === false) {
    result.mean = [0, 0, 0];
    result.std = [1, 1, 1];
  } else {
    const asTriple = (v: number | [number, number, number]): [number, number, number] => (typeof v === 'number' ? [v, v, v] : v);
    if (cfg.image_mean !== undefined) result.mean = asTriple(cfg.image_mean);
    if (cfg.image_std !== undefined) {
      const std = asTriple(cfg.image_std);
      if (std.some((s) => s <= 0)) throw new ModelConfigError(`${file}: image_std must be positive, got [${std.join(', ')}].`);
      result.std = std;
    }
  }
  result.notes = notes;
  return result;
}

/** Reads `dir/preprocessor_config.json`; CLIP's preprocessing when the folder has none. */
export function readPreprocessorConfig(dir: string, imageSize: number): ImagePreprocessing {
  const file = path.join(dir, PREPROCESSOR_CONFIG_FILE);
  let text: string;
  try {
    text = readRegularTextFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return clipPreprocessing(imageSize);
    throw new ModelConfigError(`${file}: cannot be read (${unreadableReason(error)}).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ModelConfigError(`${file}: is not valid JSON (${(error as Error).message}). Fix or delete the file (CLIP's defaults are used without it).`);
  }
  return parsePreprocessorConfig(json, imageSize, file);
}
