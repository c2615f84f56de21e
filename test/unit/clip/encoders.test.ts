import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClipModel, l2Normalize, loadClipModel } from '../../../src-main/clip/model';
import { tf } from '../../../src-main/clip/tf';
import { TINY_CLIP } from '../../helpers/fixtures';
import { useBackend } from '../../helpers/tf-backend';

const FIXTURE = TINY_CLIP;
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'expected.json'), 'utf8'));

function maxAbsDiff(actual: ArrayLike<number>, wanted: number[]): number {
  let max = 0;
  for (let i = 0; i < wanted.length; i++) max = Math.max(max, Math.abs(actual[i]! - wanted[i]!));
  return max;
}

describe.each(['cpu', 'wasm'])('CLIP encoders on tiny-clip-a (%s backend)', (backend) => {
  let model: ClipModel;
  useBackend(backend);
  beforeAll(async () => {
    expect(tf.getBackend()).toBe(backend);
    model = loadClipModel(FIXTURE);
  });
  afterAll(() => model?.dispose());

  it('image embeddings match the reference within 1e-4 from the expected pixel values', () => {
    const pixels = new Float32Array(expected.pixel_values.flat(3));
    const out = model.vision.encode(pixels, expected.pixel_values.length);
    const normed = l2Normalize(out);
    expect(maxAbsDiff(out.dataSync(), expected.image_embeds.flat())).toBeLessThan(1e-4);
    expect(maxAbsDiff(normed.dataSync(), expected.image_embeds_normalized.flat())).toBeLessThan(1e-4);
    out.dispose();
    normed.dispose();
  });

  it('text embeddings match the reference within 1e-4 from the expected input ids', () => {
    const out = model.text.encodeIds(expected.input_ids, expected.eot_index);
    expect(maxAbsDiff(out.dataSync(), expected.text_embeds.flat())).toBeLessThan(1e-4);
    out.dispose();
  });

  it('encoding from embeddings equals encoding from ids, and extra padding changes nothing', () => {
    const ids = expected.input_ids.slice(0, 4);
    const eot = expected.eot_index.slice(0, 4);
    const a = model.text.encodeIds(ids, eot);
    const embeds = model.text.embedTokens(ids, 77);
    const b = model.text.encodeEmbeddings(embeds, eot);
    expect(maxAbsDiff(b.dataSync(), Array.from(a.dataSync()))).toBeLessThan(1e-6);
    tf.dispose([a, b, embeds]);
  });

  it('the block-wise gradient equals plain autograd', () => {
    const ids = expected.input_ids.slice(0, 3);
    const eot = expected.eot_index.slice(0, 3);
    const embeds = model.text.embedTokens(ids, 77);
    const dF = tf.randomNormal([3, model.config.projectionDim], 0, 1, 'float32', 7) as tf.Tensor2D;
    const { features, dEmbeds } = model.text.encodeEmbeddingsWithGrad(embeds, eot, dF);
    // Chunked (one row at a time) gives the same features and gradients.
    const chunked = model.text.encodeEmbeddingsWithGrad(embeds, eot, dF, 1);
    expect(maxAbsDiff(chunked.dEmbeds.dataSync(), Array.from(dEmbeds.dataSync()))).toBeLessThan(1e-6);
    expect(maxAbsDiff(chunked.features.dataSync(), Array.from(features.dataSync()))).toBeLessThan(1e-6);
    tf.dispose([chunked.features, chunked.dEmbeds]);
    const reference = tf.grad((e: tf.Tensor) => tf.sum(tf.mul(model.text.encodeEmbeddings(e as tf.Tensor3D, eot), dF)))(embeds);
    const scale = Math.max(...Array.from(reference.abs().dataSync()));
    expect(maxAbsDiff(dEmbeds.dataSync(), Array.from(reference.dataSync())) / scale).toBeLessThan(1e-4);
    expect(scale).toBeGreaterThan(0);
    tf.dispose([embeds, dF, features, dEmbeds, reference]);
  });

  it('does not leak tensors over 50 encode calls', () => {
    const ids = expected.input_ids.slice(0, 2);
    const eot = expected.eot_index.slice(0, 2);
    const pixels = new Float32Array(expected.pixel_values.slice(0, 2).flat(3));
    const warm = [model.text.encodeIds(ids, eot), model.vision.encode(pixels, 2)];
    tf.dispose(warm);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) {
      tf.dispose(model.text.encodeIds(ids, eot));
      tf.dispose(model.vision.encode(pixels, 2));
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
