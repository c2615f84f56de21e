/**
 * CLIP encoder speed with randomly initialised ViT-B/16 weights (real shapes), each figure beside the
 * same workload through a plain reference path (transposed dense products, full-tape autograd, no
 * truncation to the longest EOT), so the speed-up is a ratio measured in one run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../src-main/clip/backend';
import { expectedTensors, parseClipConfig } from '../../src-main/clip/config';
import { Block, Dense, causalMask } from '../../src-main/clip/layers';
import { type ClipModel, TextEncoder, loadClipModel } from '../../src-main/clip/model';
import { type Tensor, type Tensor2D, type Tensor3D, tf } from '../../src-main/clip/tf';

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const quick = process.env.BENCH_QUICK === '1';

const VIT_B16 = {
  projection_dim: 512,
  text_config: {
    hidden_size: 512,
    intermediate_size: 2048,
    num_hidden_layers: 12,
    num_attention_heads: 8,
    vocab_size: 49408,
    max_position_embeddings: 77,
    layer_norm_eps: 1e-5,
    hidden_act: 'quick_gelu'
  },
  vision_config: {
    hidden_size: 768,
    intermediate_size: 3072,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    image_size: 224,
    patch_size: 16,
    num_channels: 3,
    layer_norm_eps: 1e-5,
    hidden_act: 'quick_gelu'
  }
};

/** Writes config.json + a random F32 model.safetensors with every tensor the config (ViT-B/16 by default) needs. */
export function writeRandomModel(dir: string, config: object = VIT_B16): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const shapes = expectedTensors(parseClipConfig(config));
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of shapes) {
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const fd = fs.openSync(path.join(dir, 'model.safetensors'), 'w');
  fs.writeSync(fd, len);
  fs.writeSync(fd, json);
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff - 0.5) * 0.04;
  for (const [name, shape] of shapes) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const isNormWeight = /norm.*\.weight$|layrnorm\.weight$/.test(name);
    for (let i = 0; i < data.length; i++) data[i] = isNormWeight ? 1 + rand() : rand();
    if (name === 'logit_scale') data[0] = Math.log(100);
    fs.writeSync(fd, new Uint8Array(data.buffer));
  }
  fs.closeSync(fd);
}

/** The reference dense layer: y = x·Wᵀ + b with a transposed product and tfjs's default gradient. */
class PlainDense extends Dense {
  override apply(x: Tensor2D): Tensor2D {
    const y = tf.matMul(x, this.w!, false, true);
    return (this.b ? tf.add(y, this.b) : y) as Tensor2D;
  }
}

function plainTextEncoder(text: TextEncoder): TextEncoder {
  const plain = (d: Dense) => new PlainDense(d.wT, d.b, d.w);
  const blocks = text.blocks.map(
    (b) => new Block({ ...b.w, q: plain(b.w.q), k: plain(b.w.k), v: plain(b.w.v), out: plain(b.w.out), fc1: plain(b.w.fc1), fc2: plain(b.w.fc2) }, b.heads)
  );
  return new TextEncoder(text.config, text.tokenEmbedding, text.positionEmbedding, blocks, text.finalLn, plain(text.projection));
}

/** Median seconds of `repeats` runs, after one warm-up run (kernels, packed weights) unless `warm` is false. */
function time(fn: () => void, repeats: number, warm = true): number {
  if (warm) fn();
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    fn();
    times.push((performance.now() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

let peakRss = 0;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

/** The folder of the random ViT-B/16 model, written once and reused by later runs. */
export function ensureRandomModel(): string {
  const dir = path.join(os.tmpdir(), 'mocoop-bench-vitb16');
  if (!fs.existsSync(path.join(dir, 'model.safetensors'))) {
    log('writing random ViT-B/16 weights');
    writeRandomModel(dir);
  }
  return dir;
}

export async function benchClip(): Promise<Record<string, unknown>> {
  const backend = await initBackend((process.env.MOCOOP_BACKEND as 'auto') ?? 'auto');
  log(`backend ${backend.name} (${backend.device})`);
  const dir = ensureRandomModel();
  const weightsBytes = fs.statSync(path.join(dir, 'model.safetensors')).size;
  const timer = setInterval(sampleRss, 20);
  const rssBefore = process.memoryUsage().rss;
  peakRss = rssBefore;
  const start = performance.now();
  const model: ClipModel = loadClipModel(dir, { textGradients: true });
  const loadSeconds = (performance.now() - start) / 1000;
  sampleRss();
  const loadPeak = peakRss - rssBefore;
  log(`loaded in ${loadSeconds.toFixed(1)} s, peak +${(loadPeak / 2 ** 20).toFixed(0)} MiB (weights ${(weightsBytes / 2 ** 20).toFixed(0)} MiB)`);

  const repeats = quick ? 1 : 2;
  const batch = 8;
  const pixels = Float32Array.from({ length: batch * 3 * 224 * 224 }, (_, i) => Math.sin(i) * 0.5);
  const imageSeconds = time(() => tf.dispose(model.vision.encode(pixels, batch)), repeats);
  log(`image encoding: ${(batch / imageSeconds).toFixed(2)} images/s`);
  // Reference ViT: the same blocks with transposed dense products.
  const transposedOf = (d: Dense) => new PlainDense(d.wT, d.b, tf.transpose(d.wT) as Tensor2D);
  const vision = model.vision;
  const refBlocks = vision.blocks.map(
    (b) =>
      new Block(
        {
          ...b.w,
          q: transposedOf(b.w.q),
          k: transposedOf(b.w.k),
          v: transposedOf(b.w.v),
          out: transposedOf(b.w.out),
          fc1: transposedOf(b.w.fc1),
          fc2: transposedOf(b.w.fc2)
        },
        b.heads
      )
  );
  const refVision = Object.assign(Object.create(Object.getPrototypeOf(vision)), vision, { blocks: refBlocks });
  const imageRefSeconds = time(() => tf.dispose(refVision.encode(pixels, batch)), 1, false);
  refBlocks.forEach((b) => [b.w.q, b.w.k, b.w.v, b.w.out, b.w.fc1, b.w.fc2].forEach((d) => d.w?.dispose()));
  log(`image encoding (reference): ${(batch / imageRefSeconds).toFixed(2)} images/s`);

  // Text: 100 prompts of 16 tokens (EOT at 15).
  const prompts = 100;
  const ids = Array.from({ length: prompts }, (_, p) => [49406, ...Array.from({ length: 14 }, (_, t) => 1000 + ((p * 31 + t * 7) % 40000)), 49407]);
  const eot = ids.map(() => 15);
  const textSeconds = time(() => tf.dispose(model.text.encodeIds(ids, eot)), repeats);
  log(`text forward: ${textSeconds.toFixed(2)} s`);
  const plain = plainTextEncoder(model.text);
  const padded = ids.map((row) => [...row, ...Array(77 - row.length).fill(0)]);
  // The reference runs the full 77-token context (no truncation to the longest EOT).
  const textRefSeconds = time(
    () => {
      const embeds = plain.embedTokens(padded, 77);
      const mask = causalMask(77);
      let x = tf.tidy(() => tf.reshape(tf.add(embeds, plain.positionEmbedding), [prompts * 77, 512]) as Tensor2D);
      for (const b of plain.blocks) {
        const next = tf.tidy(() => b.apply(x, prompts, 77, mask));
        x.dispose();
        x = next;
      }
      tf.dispose([embeds, x, mask]);
    },
    1,
    false
  );
  log(`text forward (reference, 77 tokens): ${textRefSeconds.toFixed(2)} s`);

  const embeds = model.text.embedTokens(ids, 16);
  const dF = tf.randomNormal([prompts, 512]) as Tensor2D;
  const gradSeconds = time(() => {
    const { features, dEmbeds } = model.text.encodeEmbeddingsWithGrad(embeds as Tensor3D, eot, dF);
    tf.dispose([features, dEmbeds]);
  }, repeats);
  log(`text forward+backward: ${gradSeconds.toFixed(2)} s`);
  // Reference: plain autograd over the whole encoder with default dense gradients, in chunks of 20
  // prompts (one tape over all 100 exceeds the 4 GiB wasm heap).
  const gradRefSeconds = time(
    () => {
      for (let c = 0; c < prompts; c += 20) {
        const chunk = tf.slice(embeds, [c, 0, 0], [20, 16, 512]);
        const g = tf.grad((e: Tensor) => tf.sum(tf.mul(plain.encodeEmbeddings(e as Tensor3D, eot.slice(c, c + 20)), tf.slice(dF, [c, 0], [20, 512]))))(chunk);
        tf.dispose([chunk, g]);
      }
    },
    1,
    false
  );
  log(`text forward+backward (reference): ${gradRefSeconds.toFixed(2)} s`);
  tf.dispose([embeds, dF]);
  clearInterval(timer);
  sampleRss();
  model.dispose();

  const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
  return {
    backend: `${backend.name} · ${backend.device}`,
    model: 'ViT-B/16 shapes, random weights',
    load: {
      seconds: round(loadSeconds),
      weightsMiB: round(weightsBytes / 2 ** 20, 0),
      peakRssIncreaseMiB: round(loadPeak / 2 ** 20, 0),
      extraCopies: round(loadPeak / weightsBytes - 1)
    },
    imageEncoding: {
      batch,
      imagesPerSecond: round(batch / imageSeconds),
      referenceImagesPerSecond: round(batch / imageRefSeconds),
      speedup: round(imageRefSeconds / imageSeconds)
    },
    textForward: { prompts, tokens: 16, seconds: round(textSeconds), referenceSeconds: round(textRefSeconds), speedup: round(textRefSeconds / textSeconds) },
    textForwardBackward: {
      prompts,
      tokens: 16,
      seconds: round(gradSeconds),
      referenceSeconds: round(gradRefSeconds),
      speedup: round(gradRefSeconds / gradSeconds)
    },
    peakRssMiB: round(peakRss / 2 ** 20, 0),
    pytorchOpenblasOrientation: { imagesPerSecond: 1.4, textForwardBackward100x16Seconds: 4 }
  };
}
