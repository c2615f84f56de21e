/**
 * The WebGPU path (ONNX Runtime's WebGPU provider over Dawn): fixture fidelity of both frozen towers,
 * the text tower's gradients, and a short training run, on whatever adapter the machine has. CI
 * installs Mesa's Vulkan drivers (a CPU adapter) and sets MOCOOP_REQUIRE_WEBGPU=1, so there these
 * tests must run; elsewhere they are skipped with the reason when no adapter exists.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff } from '../../helpers/arrays';
import { ClipEngine } from '../../../src-main/clip/engine';
import { loadClipModel, openCheckedWeights } from '../../../src-main/clip/model';
import { OnnxTowers } from '../../../src-main/clip/onnx/onnx-towers';
import { OnnxTextGradients } from '../../../src-main/clip/onnx/text-gradients';
import { isSoftwareAdapter, probeWebGpu } from '../../../src-main/clip/onnx/webgpu-probe';
import { tf } from '../../../src-main/clip/tf';
import { seededRandom } from '../../../src-main/mocoop/fewshot';
import { PAPER_DEFAULTS, type StepEvent, trainPrompts } from '../../../src-main/mocoop/trainer';
import { TINY_CLIP } from '../../helpers/fixtures';
import { backendForTest } from '../../helpers/tf-backend';

const FIXTURE = TINY_CLIP;
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'expected.json'), 'utf8'));
const probe = await probeWebGpu();
const required = process.env.MOCOOP_REQUIRE_WEBGPU === '1';
if ('unavailable' in probe) {
  if (required) throw new Error(`MOCOOP_REQUIRE_WEBGPU=1 but WebGPU is unavailable: ${probe.unavailable}`);
  console.warn(`[webgpu tests skipped] ${probe.unavailable}`);
}
const available = !('unavailable' in probe);

describe('software adapters are told apart from GPUs', () => {
  it('llvmpipe, SwiftShader and WARP are software; a discrete GPU is not', () => {
    expect(isSoftwareAdapter({ architecture: 'software', description: 'llvmpipe: Mesa 25', device: 'llvmpipe', isFallbackAdapter: false })).toBe(true);
    expect(isSoftwareAdapter({ architecture: '', description: 'SwiftShader Device (Subzero)', device: '', isFallbackAdapter: undefined })).toBe(true);
    expect(isSoftwareAdapter({ architecture: '', description: 'Microsoft Basic Render Driver', device: '', isFallbackAdapter: undefined })).toBe(true);
    expect(isSoftwareAdapter({ architecture: 'hopper', description: 'NVIDIA H200', device: '', isFallbackAdapter: false })).toBe(false);
    expect(isSoftwareAdapter({ architecture: 'rdna-3', description: 'AMD Radeon RX 7900', device: '', isFallbackAdapter: true })).toBe(true);
  });
});

describe.skipIf(!available)('ONNX Runtime on WebGPU (tiny-clip-a)', () => {
  let weights: ReturnType<typeof openCheckedWeights>;
  beforeAll(() => {
    weights = openCheckedWeights(FIXTURE);
  });
  afterAll(() => weights?.close());

  it('frozen towers match the PyTorch reference within 1e-4', async () => {
    const towers = await OnnxTowers.load(weights.config, weights.read, { provider: 'webgpu' });
    if ('unavailable' in towers) throw new Error(towers.unavailable);
    try {
      expect(towers.info.provider).toBe('webgpu');
      const pixels = new Float32Array(expected.pixel_values.flat(3));
      expect(maxAbsDiff(await towers.encodeImages(pixels, expected.pixel_values.length), expected.image_embeds.flat())).toBeLessThan(1e-4);
      expect(maxAbsDiff(await towers.encodeTexts(expected.input_ids, expected.eot_index), expected.text_embeds.flat())).toBeLessThan(1e-4);
    } finally {
      await towers.dispose();
    }
  });

  it('text gradients equal tfjs autograd within 1e-5 relative', async () => {
    await backendForTest('cpu');
    const model = loadClipModel(FIXTURE);
    const gradients = await OnnxTextGradients.load(weights.config, weights.read, { provider: 'webgpu', chunkTokens: 40 });
    try {
      const ids = expected.input_ids.slice(0, 5);
      const eot: number[] = expected.eot_index.slice(0, 5);
      const embeds = model.text.embedTokens(ids, 20);
      const dF = tf.randomNormal([5, model.config.projectionDim], 0, 1, 'float32', 3) as tf.Tensor2D;
      const reference = model.text.encodeEmbeddingsWithGrad(embeds, eot, dF);
      const out = await gradients.encodeWithGrad(embeds.dataSync() as Float32Array, 5, 20, eot, () => dF.dataSync() as Float32Array);
      expect(maxAbsDiff(out.features, reference.features.dataSync())).toBeLessThan(1e-5);
      const wanted = reference.dEmbeds.dataSync();
      expect(maxAbsDiff(out.dEmbeds, wanted) / Math.max(...Array.from(wanted, Math.abs))).toBeLessThan(1e-5);
      tf.dispose([embeds, dF, reference.features, reference.dEmbeds]);
    } finally {
      await gradients.dispose();
      model.dispose();
    }
  });

  it('a short MoCoOp run trains on WebGPU like on the CPU, without leaking tensors', async () => {
    await backendForTest('cpu');
    const random = seededRandom(4);
    const classes = ['cat', 'dog', 'bird'];
    const features: Float32Array[] = [];
    const labels: number[] = [];
    const centers = classes.map(() => Float32Array.from({ length: 24 }, () => random() - 0.5));
    classes.forEach((_, c) =>
      Array.from({ length: 4 }, () => {
        const v = centers[c]!.map((x) => x + 0.1 * (random() - 0.5));
        const norm = Math.hypot(...v);
        features.push(v.map((x) => x / norm));
        labels.push(c);
      })
    );
    const data = { classNames: classes, virtualNames: ['fish'], groups: [['a photo of a {}.'], ['art of the {}.']], features, labels };
    const settings = { ...PAPER_DEFAULTS, method: 'mocoop' as const, epochs: 3, lr: 0.05, batchSize: 6 };
    const runOn = async (provider: 'webgpu' | 'cpu') => {
      const engine = ClipEngine.load(FIXTURE, { textGradients: true, onnxProvider: provider });
      const events: StepEvent[] = [];
      try {
        expect((await engine.textGradients()).describe).toMatch(provider === 'webgpu' ? /webgpu/ : /CPU/);
        const before = tf.memory().numTensors;
        const result = await trainPrompts(engine, data, settings, { onStep: (e) => events.push(e) });
        expect(tf.memory().numTensors).toBe(before);
        return { events, table: result.table.features };
      } finally {
        engine.dispose();
      }
    };
    const gpu = await runOn('webgpu');
    const cpu = await runOn('cpu');
    expect(gpu.events.length).toBe(cpu.events.length);
    gpu.events.forEach((e, i) => expect(Math.abs(e.loss - cpu.events[i]!.loss)).toBeLessThan(1e-3));
    expect(maxAbsDiff(gpu.table, cpu.table)).toBeLessThan(1e-3);
  });
});
