/**
 * CPU-side preparation that every image and every prompt goes through: the Pillow-exact crop and
 * normalisation of a 640×480 RGB image to 224×224 (ms per image), and loading the real CLIP tokenizer
 * (49,408 tokens and their merges, from ../shared/fixtures/tokenizer; ms). These were bounds in the
 * unit tests; the figures live here.
 */
import path from 'node:path';
import { cropRgb8, normalize } from '../../src-main/clip/preprocess';
import { ClipTokenizer } from '../../src-main/clip/tokenizer';
import { seededRandom } from '../../src-main/util/seeded-random';
import { TOKENIZER_FIXTURE, fixturesMissingReason } from '../helpers/fixtures';

const round = (x: number) => Math.round(x * 100) / 100;

/** Shortest mean of `rounds` rounds of `runs` calls, in ms, after one untimed round. */
function bestMs(fn: () => void, runs: number, rounds = 5): number {
  for (let i = 0; i < runs; i++) fn();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    for (let i = 0; i < runs; i++) fn();
    best = Math.min(best, (performance.now() - started) / runs);
  }
  return best;
}

export function benchPreprocessing(): Record<string, unknown> {
  const random = seededRandom(11);
  const data = new Uint8Array(640 * 480 * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(random() * 256);
  const image = { data, width: 640, height: 480, channels: 3 as const };
  const cropNormalizeMs = bestMs(() => normalize(cropRgb8(image, 224).rgb, 224), 20);
  const missing = fixturesMissingReason();
  const tokenizerLoadMs = missing
    ? null
    : bestMs(() => ClipTokenizer.fromFiles(path.join(TOKENIZER_FIXTURE, 'vocab.json'), path.join(TOKENIZER_FIXTURE, 'merges.txt')), 1, 3);
  return {
    cropNormalize640x480To224Ms: round(cropNormalizeMs),
    tokenizerLoadMs: tokenizerLoadMs === null ? null : round(tokenizerLoadMs),
    ...(missing ? { tokenizerNote: missing } : {})
  };
}
