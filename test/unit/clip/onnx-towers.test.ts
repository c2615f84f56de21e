import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff } from '../../helpers/arrays';
import * as ort from 'onnxruntime-node';
import { ClipEngine } from '../../../src-main/clip/engine';
import { type CheckedWeights, loadClipModel, openCheckedWeights } from '../../../src-main/clip/model';
import { GraphBuilder } from '../../../src-main/clip/onnx/graph-builder';
import { OnnxTowers } from '../../../src-main/clip/onnx/onnx-towers';
import { encodeModel } from '../../../src-main/clip/onnx/proto';
import { transpose2d } from '../../../src-main/clip/onnx/clip-graphs';
import { tf } from '../../../src-main/clip/tf';
import { TINY_CLIP } from '../../helpers/fixtures';
import { backendForTest } from '../../helpers/tf-backend';

const FIXTURE = TINY_CLIP;
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'expected.json'), 'utf8'));

describe('ONNX protobuf writer', () => {
  it('writes a graph ONNX Runtime runs: negative shape values, float attributes, symbolic dims', async () => {
    const g = new GraphBuilder('probe');
    const x = g.input('x', ['n', 6]);
    const w = g.weight('w', [3, 2], Float32Array.from([1, 2, 3, 4, 5, 6]));
    const reshaped = g.reshape(x, [-1, 3]);
    const ln = g.layerNorm(g.matMul(reshaped, w), g.weight('gamma', [2], Float32Array.of(2, 2)), g.weight('beta', [2], Float32Array.of(0.5, 0.5)), 0.25);
    g.output(g.quickGelu(ln), 'y', ['m', 2]);
    const session = await ort.InferenceSession.create(encodeModel(g.build()));
    const input = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]);
    const { y } = await session.run({ x: new ort.Tensor('float32', input, [2, 6]) });
    expect(y!.dims).toEqual([4, 2]);
    // Reference in plain arithmetic.
    const rows = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [1, 1, 1]
    ].map(([a, b, c]) => [a! * 1 + b! * 3 + c! * 5, a! * 2 + b! * 4 + c! * 6]);
    const want = rows.flatMap(([p, q]) => {
      const mean = (p! + q!) / 2;
      const variance = ((p! - mean) ** 2 + (q! - mean) ** 2) / 2;
      return [p!, q!].map((v) => {
        const z = ((v - mean) / Math.sqrt(variance + 0.25)) * 2 + 0.5;
        return z / (1 + Math.exp(-1.702 * z));
      });
    });
    expect(maxAbsDiff(y!.data as Float32Array, want)).toBeLessThan(1e-5);
    await session.release();
  });

  it('transposes row-major matrices with an optional scale', () => {
    expect(Array.from(transpose2d(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3, 2))).toEqual([2, 8, 4, 10, 6, 12]);
  });
});

describe('CLIP towers on ONNX Runtime (tiny-clip-a)', () => {
  let towers: OnnxTowers;
  let weights: CheckedWeights;
  beforeAll(async () => {
    weights = openCheckedWeights(FIXTURE);
    const loaded = await OnnxTowers.load(weights.config, weights.read, { provider: 'cpu', threads: 1 });
    if ('unavailable' in loaded) throw new Error(loaded.unavailable);
    towers = loaded;
  });
  afterAll(async () => {
    weights?.close();
    await towers?.dispose();
  });

  it('image features match the PyTorch reference within 1e-4', async () => {
    const pixels = new Float32Array(expected.pixel_values.flat(3));
    const out = await towers.encodeImages(pixels, expected.pixel_values.length);
    expect(maxAbsDiff(out, expected.image_embeds.flat())).toBeLessThan(1e-4);
  });

  it('text features match the PyTorch reference within 1e-4, whatever the grouping by length', async () => {
    const out = await towers.encodeTexts(expected.input_ids, expected.eot_index);
    expect(maxAbsDiff(out, expected.text_embeds.flat())).toBeLessThan(1e-4);
    const small = await towers.encodeTexts(expected.input_ids, expected.eot_index, 3);
    expect(maxAbsDiff(small, out)).toBeLessThan(1e-6);
  });

  it('agrees with the tfjs encoders within 1e-5', async () => {
    await backendForTest('cpu');
    const model = loadClipModel(FIXTURE);
    try {
      const pixels = new Float32Array(expected.pixel_values.flat(3));
      const tfImage = model.vision.encode(pixels, expected.pixel_values.length);
      expect(maxAbsDiff(await towers.encodeImages(pixels, expected.pixel_values.length), tfImage.dataSync())).toBeLessThan(1e-5);
      const tfText = model.text.encodeIds(expected.input_ids, expected.eot_index);
      expect(maxAbsDiff(await towers.encodeTexts(expected.input_ids, expected.eot_index), tfText.dataSync())).toBeLessThan(1e-5);
      tf.dispose([tfImage, tfText]);
    } finally {
      model.dispose();
    }
  });
});

describe('ClipEngine frozen towers', () => {
  it('uses ONNX Runtime by default and gives the same normalised embeddings as tfjs (MOCOOP_ONNX=0)', async () => {
    await backendForTest('cpu');
    const files = expected.images.map((image: { file: string }) => path.join(FIXTURE, image.file));
    const texts: string[] = expected.texts;
    const fast = ClipEngine.load(FIXTURE);
    const previous = process.env.MOCOOP_ONNX;
    process.env.MOCOOP_ONNX = '0';
    const plain = ClipEngine.load(FIXTURE);
    try {
      expect((await plain.frozenTowers()).engine).toBe('tfjs');
      if (previous === undefined) delete process.env.MOCOOP_ONNX;
      else process.env.MOCOOP_ONNX = previous;
      const info = await fast.frozenTowers();
      expect(info.engine).toBe('onnxruntime');
      const [a, b] = [await fast.embedImageFiles(files), await plain.embedImageFiles(files)];
      expect(a.map((r) => r.index)).toEqual(b.map((r) => r.index));
      a.forEach((r, i) => expect(maxAbsDiff(r.vector!, b[i]!.vector!)).toBeLessThan(1e-5));
      const [ta, tb] = [await fast.embedTextsAsync(texts), plain.embedTexts(texts)];
      ta.forEach((v, i) => expect(maxAbsDiff(v, tb[i]!)).toBeLessThan(1e-5));
      expect(maxAbsDiff(ta[0]!, expected.text_embeds_normalized[0])).toBeLessThan(1e-4);
    } finally {
      fast.dispose();
      plain.dispose();
    }
  });
});

describe('text tower gradients on ONNX Runtime (explicit backward graph)', () => {
  it.each([
    ["keeping every chunk's activations", 1 << 30],
    ["re-running each chunk's forward before its backward", 0]
  ])('features and d embeddings equal tfjs autograd, %s', async (_, savedBudgetBytes) => {
    const { OnnxTextGradients } = await import('../../../src-main/clip/onnx/text-gradients');
    await backendForTest('cpu');
    const model = loadClipModel(FIXTURE);
    const weights = openCheckedWeights(FIXTURE);
    const gradients = await OnnxTextGradients.load(weights.config, weights.read, { threads: 1, chunkTokens: 40, savedBudgetBytes });
    weights.close();
    try {
      const ids = expected.input_ids.slice(0, 5);
      const eot: number[] = expected.eot_index.slice(0, 5);
      const tokens = 20;
      const embeds = model.text.embedTokens(ids, tokens);
      const dF = tf.randomNormal([5, model.config.projectionDim], 0, 1, 'float32', 7) as tf.Tensor2D;
      const reference = model.text.encodeEmbeddingsWithGrad(embeds, eot, dF);
      let seen: Float32Array | null = null;
      const out = await gradients.encodeWithGrad(embeds.dataSync() as Float32Array, 5, tokens, eot, (features) => {
        seen = features.slice();
        return dF.dataSync() as Float32Array;
      });
      expect(maxAbsDiff(out.features, reference.features.dataSync())).toBeLessThan(1e-5);
      expect(maxAbsDiff(seen!, reference.features.dataSync())).toBeLessThan(1e-5);
      const wanted = reference.dEmbeds.dataSync();
      const scale = Math.max(...Array.from(wanted, Math.abs));
      expect(maxAbsDiff(out.dEmbeds, wanted) / scale).toBeLessThan(1e-5);
      expect(maxAbsDiff(await gradients.encode(embeds.dataSync() as Float32Array, 5, tokens, eot), reference.features.dataSync())).toBeLessThan(1e-5);
      tf.dispose([embeds, dF, reference.features, reference.dEmbeds]);
    } finally {
      await gradients.dispose();
      model.dispose();
    }
  });
});

describe('what ONNX Runtime can use here', () => {
  it('finds a working provider (the CPU at least) and says it in words', async () => {
    const { probeOnnxRuntime } = await import('../../../src-main/clip/onnx/onnx-towers');
    const { describeOnnx } = await import('../../../src-main/clip/backend');
    const info = await probeOnnxRuntime('cpu');
    expect(info.unavailable).toBeUndefined();
    expect(info.provider).toBe('cpu');
    expect(info.version).toMatch(/^\d+\.\d+/);
    expect(describeOnnx(info)).toMatch(/^ONNX Runtime \d+\.\d+\.\d+ on CPU, \d+ thread\(s\)$/);
    expect(describeOnnx({ skipped: [], unavailable: 'not installed' })).toMatch(/unavailable \(not installed\): TensorFlow.js runs the encoders/);
  });
});

describe("shared-prefix text gradients (each expert's prefix encoded once)", () => {
  it.each([
    ['in one call per group', 2048, 1 << 30],
    ['in small chunks, recomputing forwards', 20, 0]
  ])("equal the plain graphs: same features, prefix gradients summed into each group's first row (%s)", async (_, chunkTokens, savedBudgetBytes) => {
    const { OnnxTextGradients } = await import('../../../src-main/clip/onnx/text-gradients');
    const weights = openCheckedWeights(FIXTURE);
    const gradients = await OnnxTextGradients.load(weights.config, weights.read, { threads: 1, chunkTokens, savedBudgetBytes });
    weights.close();
    try {
      const W = 32;
      const T = 14;
      const rows = 7;
      const groups = [
        { start: 0, count: 4, prefix: 3 },
        { start: 4, count: 3, prefix: 5 }
      ];
      let seed = 1;
      const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff - 0.5;
      const embeds = Float32Array.from({ length: rows * T * W }, () => random() * 0.5);
      for (const g of groups) for (let r = g.start + 1; r < g.start + g.count; r++) embeds.copyWithin(r * T * W, g.start * T * W, (g.start * T + g.prefix) * W);
      const eot = [5, 7, 9, 6, 8, 12, 10];
      const dF = Float32Array.from({ length: rows * 24 }, () => random());
      const plain = await gradients.encodeWithGrad(embeds, rows, T, eot, () => dF);
      const shared = await gradients.encodeWithGrad(embeds, rows, T, eot, () => dF, groups);
      expect(maxAbsDiff(shared.features, plain.features)).toBeLessThan(1e-5);
      const wanted = plain.dEmbeds.slice();
      for (const g of groups)
        for (let r = g.start + 1; r < g.start + g.count; r++)
          for (let i = 0; i < g.prefix * W; i++) {
            wanted[g.start * T * W + i]! += wanted[r * T * W + i]!;
            wanted[r * T * W + i] = 0;
          }
      expect(maxAbsDiff(shared.dEmbeds, wanted) / Math.max(...Array.from(wanted, Math.abs))).toBeLessThan(1e-5);
      expect(maxAbsDiff(await gradients.encode(embeds, rows, T, eot, groups), plain.features)).toBeLessThan(1e-5);
      // The groups are found from the embeddings alone, and an engine without the plain graphs uses them.
      const { detectSharedPrefixes } = await import('../../../src-main/clip/onnx/text-gradients');
      expect(detectSharedPrefixes(embeds, rows, T, W, eot)).toEqual(groups);
      const weights2 = openCheckedWeights(FIXTURE);
      const prefixOnly = await OnnxTextGradients.load(weights2.config, weights2.read, { threads: 1, chunkTokens, savedBudgetBytes, graphs: 'prefix' });
      weights2.close();
      const detected = await prefixOnly.encodeWithGrad(embeds, rows, T, eot, () => dF);
      await prefixOnly.dispose();
      expect(maxAbsDiff(detected.features, plain.features)).toBeLessThan(1e-5);
      expect(maxAbsDiff(detected.dEmbeds, shared.dEmbeds)).toBeLessThan(1e-6);
      // A group whose prefix would swallow a row's EOT is refused.
      await expect(gradients.encode(embeds, rows, T, eot, [{ start: 0, count: 7, prefix: 6 }])).rejects.toThrow(/reaches a row's EOT/);
    } finally {
      await gradients.dispose();
    }
  });
});

describe('chunk sizes under a GPU buffer limit', () => {
  it('keeps the largest activation of a chunk within the limit, never below one full context', async () => {
    const { chunkTokensFor } = await import('../../../src-main/clip/onnx/text-gradients');
    const { parseClipConfig } = await import('../../../src-main/clip/config');
    const config = parseClipConfig(JSON.parse(fs.readFileSync(path.join(FIXTURE, 'config.json'), 'utf8')));
    expect(chunkTokensFor(config, 2048)).toBe(2048);
    const perToken = 4 * Math.max(config.text.mlp, config.text.heads * 77, config.text.width * 3);
    expect(chunkTokensFor(config, 2048, 128 * perToken)).toBe(128);
    expect(chunkTokensFor(config, 2048, 128 * perToken) * perToken).toBeLessThanOrEqual(128 * perToken);
    expect(chunkTokensFor(config, 2048, 10)).toBe(77);
  });
});
