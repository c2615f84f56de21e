/**
 * Training augmentation as CoOp uses it: a random resized crop (area 8–100 %, aspect 3/4–4/3, as
 * torchvision's RandomResizedCrop) resized to the model's input, then a horizontal flip half of the
 * time. View v of an image is derived from its content hash and v only, so cached views are stable.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { seededRandom } from '../mocoop/fewshot';
import { normalize } from './preprocess';

export interface CropParams {
  left: number;
  top: number;
  width: number;
  height: number;
  flip: boolean;
}

export function viewSeed(hash: string, view: number): number {
  return createHash('sha256').update(`${hash}:${view}`).digest().readUInt32LE(0);
}

/** torchvision's RandomResizedCrop.get_params with scale (0.08, 1) and ratio (3/4, 4/3); centre crop as fallback. */
export function randomResizedCrop(width: number, height: number, seed: number): CropParams {
  const random = seededRandom(seed);
  const area = width * height;
  const logRatio = [Math.log(3 / 4), Math.log(4 / 3)] as const;
  const flip = random() < 0.5;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (0.08 + random() * (1 - 0.08));
    const ratio = Math.exp(logRatio[0] + random() * (logRatio[1] - logRatio[0]));
    const w = Math.round(Math.sqrt(target * ratio));
    const h = Math.round(Math.sqrt(target / ratio));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return { left: Math.floor(random() * (width - w + 1)), top: Math.floor(random() * (height - h + 1)), width: w, height: h, flip };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < 3 / 4) h = Math.round(w / (3 / 4));
  else if (inRatio > 4 / 3) w = Math.round(h * (4 / 3));
  w = Math.min(w, width);
  h = Math.min(h, height);
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h, flip };
}

/** Normalised CHW pixels of augmented view `view` (≥ 1) of an image file. */
export async function augmentedPixels(file: string, size: number, hash: string, view: number): Promise<Float32Array> {
  const image = sharp(file, { failOn: 'truncated' }).removeAlpha().toColourspace('srgb');
  const meta = await sharp(file).metadata();
  const crop = randomResizedCrop(meta.width!, meta.height!, viewSeed(hash, view));
  let pipeline = image.extract({ left: crop.left, top: crop.top, width: crop.width, height: crop.height }).resize(size, size, { fit: 'fill', kernel: 'cubic' });
  if (crop.flip) pipeline = pipeline.flop();
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  const rgb = info.channels === 3 ? new Uint8Array(data) : Uint8Array.from({ length: size * size * 3 }, (_, i) => data[Math.floor(i / 3) * info.channels + (info.channels === 1 ? 0 : i % 3)]!);
  return normalize(rgb, size);
}
