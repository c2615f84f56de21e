/**
 * Frozen towers on ONNX Runtime at ViT-B/16 shapes (random weights): image img/s and text forward at
 * 1 thread and all cores, and feature extraction of real JPEG files end to end (decode, Pillow-exact
 * preprocessing, encoding) through ClipEngine, projected to 2,000 images.
 */
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src-main/clip/backend';
import { ClipEngine } from '../../src-main/clip/engine';
import { openCheckedWeights } from '../../src-main/clip/model';
import { OnnxTowers, defaultThreads } from '../../src-main/clip/onnx/onnx-towers';
import { makeImage } from '../helpers/images';
import { minSeconds } from './timing.mts';

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function jpegs(dir: string, count: number): Promise<string[]> {
  const files = Array.from({ length: count }, (_, i) => path.join(dir, `img_${String(i).padStart(4, '0')}.jpg`));
  for (const [i, file] of files.entries()) if (!fs.existsSync(file)) await makeImage(file, i + 1, { width: 640, height: 480 });
  return files;
}

export async function benchOnnx(modelDir: string, cacheDir: string, quick: boolean): Promise<Record<string, unknown>> {
  const repeats = quick ? 1 : 3;
  const batch = 8;
  const pixels = Float32Array.from({ length: batch * 3 * 224 * 224 }, (_, i) => Math.sin(i) * 0.5);
  const ids = Array.from({ length: 100 }, (_, p) => [49406, ...Array.from({ length: 14 }, (_, t) => 1000 + ((p * 31 + t * 7) % 40000)), 49407]);
  const eot = ids.map(() => 15);
  const perThreads: Record<string, unknown>[] = [];
  let provider = '';
  for (const threads of [...new Set([1, defaultThreads()])]) {
    const weights = openCheckedWeights(modelDir);
    const started = performance.now();
    const towers = await OnnxTowers.load(weights.config, weights.read, { threads });
    weights.close();
    if ('unavailable' in towers) return { unavailable: towers.unavailable };
    provider = towers.info.provider;
    const loadSeconds = (performance.now() - started) / 1000;
    const image = await minSeconds(() => towers.encodeImages(pixels, batch), repeats);
    const text = await minSeconds(() => towers.encodeTexts(ids, eot), repeats);
    log(`onnxruntime ${threads} thread(s): ${(batch / image).toFixed(2)} images/s, text forward 100×16 ${text.toFixed(2)} s`);
    perThreads.push({ threads, loadSeconds: round(loadSeconds), imagesPerSecond: round(batch / image), textForward100x16Seconds: round(text, 3) });
    await towers.dispose();
  }

  const count = quick ? 16 : 64;
  const files = await jpegs(path.join(cacheDir, 'jpeg-640x480-onnx'), count);
  await initBackend((process.env.MOCOOP_BACKEND as 'auto') ?? 'auto');
  // ClipEngine needs a tokenizer beside the random weights: the real CLIP vocabulary from the fixtures.
  for (const name of ['vocab.json', 'merges.txt']) {
    const target = path.join(modelDir, name);
    if (!fs.existsSync(target)) fs.copyFileSync(path.resolve('..', 'shared', 'fixtures', 'tokenizer', name), target);
  }
  const engine = ClipEngine.load(modelDir);
  try {
    await engine.embedImageFiles(files.slice(0, 8));
    const started = performance.now();
    const results = await engine.embedImageFiles(files);
    const seconds = (performance.now() - started) / 1000;
    if (results.some((r) => !r.vector)) throw new Error('feature extraction failed for some bench images');
    log(`feature extraction: ${(count / seconds).toFixed(2)} images/s end to end`);
    return {
      provider,
      perThreads,
      featureExtraction: {
        images: count,
        source: '640×480 JPEG',
        seconds: round(seconds),
        imagesPerSecond: round(count / seconds),
        projected2000ImagesMinutes: round((2000 * seconds) / count / 60, 1)
      },
      pytorchOpenblasAnchor: { note: 'measured in ../shared/ORT-NOTES.md, 1 thread', imagesPerSecond: 2.2, textForwardBackward100x16Seconds: 2.34 }
    };
  } finally {
    engine.dispose();
  }
}
