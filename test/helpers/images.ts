import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** A small image with a colour and a diagonal stripe picked from `seed`, so every seed gives different bytes. */
export async function makeImage(file: string, seed: number, options: { width?: number; height?: number; format?: 'jpeg' | 'png' } = {}): Promise<string> {
  const width = options.width ?? 64;
  const height = options.height ?? 48;
  const data = Buffer.alloc(width * height * 3);
  const r = (seed * 97) % 256;
  const g = (seed * 57 + 80) % 256;
  const b = (seed * 31 + 160) % 256;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const stripe = (x + y + seed) % 16 < 4;
      data[o] = stripe ? 255 - r : r;
      data[o + 1] = stripe ? 255 - g : (g + x) % 256;
      data[o + 2] = stripe ? 255 - b : (b + y) % 256;
      const bit = x >> 3;
      if (y < 8 && bit < 24 && (x >> 3) * 8 + 8 <= width) {
        // The colours above repeat every 256 seeds; the seed's bits as black/white blocks keep every image distinct (even after JPEG).
        const v = (seed >> bit) & 1 ? 255 : 0;
        data[o] = v;
        data[o + 1] = v;
        data[o + 2] = v;
      }
    }
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const image = sharp(data, { raw: { width, height, channels: 3 } });
  const format = options.format ?? (file.toLowerCase().endsWith('.png') ? 'png' : 'jpeg');
  await (format === 'png' ? image.png() : image.jpeg({ quality: 85 })).toFile(file);
  return file;
}

/** An ImageFolder with `perClass` images in each class folder; returns the file paths by class. */
export async function makeImageFolder(root: string, classes: string[], perClass: number, seedBase = 1): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  let seed = seedBase;
  for (const name of classes) {
    out[name] = [];
    for (let i = 0; i < perClass; i++) out[name].push(await makeImage(path.join(root, name, `${name}_${String(i).padStart(3, '0')}.jpg`), seed++));
  }
  return out;
}

/** The first half of a valid JPEG: the header parses, the pixel data ends early. */
export async function makeTruncatedJpeg(file: string, seed: number): Promise<string> {
  const tmp = file + '.full.jpg';
  await makeImage(tmp, seed, { width: 96, height: 96 });
  const bytes = fs.readFileSync(tmp);
  fs.rmSync(tmp);
  fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
  return file;
}
