/**
 * `npm run gpu-check`: every ONNX Runtime provider this machine offers (CPU, CUDA, WebGPU, DirectML,
 * CoreML), each checked for fidelity against the CPU provider on a small random CLIP (image and text
 * features, text gradients) and timed at ViT-B/16 shapes (image img/s, text forward + backward of a
 * MoCoOp step's prompts). One JSON document on stdout; progress on stderr. Needs nothing outside the
 * repository; bounded by GPU_CHECK_BUDGET_S (default 420 s): providers left when it runs out are
 * listed as not timed.
 */
import os from 'node:os';
import path from 'node:path';
import { openCheckedWeights } from '../../src-main/clip/model';
import { type OnnxProvider, OnnxTowers, probeOnnxRuntime } from '../../src-main/clip/onnx/onnx-towers';
import { OnnxTextGradients } from '../../src-main/clip/onnx/text-gradients';
import { probeWebGpu } from '../../src-main/clip/onnx/webgpu-probe';
import { ensureRandomModel, writeRandomModel } from './clip.mts';
import { minSeconds } from './timing.mts';

type Provider = Exclude<OnnxProvider, 'auto'>;
const log = (message: string) => process.stderr.write(`[gpu-check] ${message}\n`);
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const started = performance.now();
const budget = Number(process.env.GPU_CHECK_BUDGET_S ?? 420);
const left = () => budget - (performance.now() - started) / 1000;

const TINY = {
  projection_dim: 24,
  text_config: { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 49408, max_position_embeddings: 77 },
  vision_config: { hidden_size: 48, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4, image_size: 32, patch_size: 8 }
};

function maxAbs(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Image and text features and text gradients of the tiny random model on `provider`. */
async function outputs(dir: string, provider: Provider) {
  const w = openCheckedWeights(dir);
  try {
    const towers = await OnnxTowers.load(w.config, w.read, { provider });
    if ('unavailable' in towers) throw new Error(towers.unavailable);
    if (towers.info.provider !== provider) throw new Error(`fell back to ${towers.info.provider}`);
    const gradients = await OnnxTextGradients.load(w.config, w.read, { provider });
    const pixels = Float32Array.from({ length: 4 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37));
    const ids = Array.from({ length: 6 }, (_, r) => [49406, ...Array.from({ length: 3 + r }, (_, t) => 300 + r * 11 + t), 49407]);
    const eot = ids.map((row) => row.length - 1);
    const tokens = 12;
    const embeds = Float32Array.from({ length: 6 * tokens * 32 }, (_, i) => Math.cos(i * 0.11) * 0.05);
    const dF = Float32Array.from({ length: 6 * 24 }, (_, i) => Math.sin(i * 0.7));
    const result = {
      image: await towers.encodeImages(pixels, 4),
      text: await towers.encodeTexts(ids, eot),
      grad: (await gradients.encodeWithGrad(embeds, 6, tokens, eot, () => dF)).dEmbeds
    };
    await Promise.all([towers.dispose(), gradients.dispose()]);
    return result;
  } finally {
    w.close();
  }
}

async function timeAtVitB16(dir: string, provider: Provider) {
  const w = openCheckedWeights(dir);
  try {
    const towers = await OnnxTowers.load(w.config, w.read, { provider, text: false });
    if ('unavailable' in towers) throw new Error(towers.unavailable);
    const batch = provider === 'cpu' ? 8 : 32;
    const pixels = Float32Array.from({ length: batch * 3 * 224 * 224 }, (_, i) => Math.sin(i) * 0.5);
    const image = await minSeconds(() => towers.encodeImages(pixels, batch), 3);
    await towers.dispose();
    const gradients = await OnnxTextGradients.load(w.config, w.read, { provider });
    // A MoCoOp step's text work: G = 5 experts × (C = 10 classes + 10 virtual) prompts of 16 tokens.
    const rows = 100;
    const embeds = Float32Array.from({ length: rows * 16 * 512 }, (_, i) => Math.sin(i) * 0.02);
    const eot = Array(rows).fill(15);
    const dF = Float32Array.from({ length: rows * 512 }, (_, i) => Math.cos(i) * 1e-3);
    const step = await minSeconds(() => gradients.encodeWithGrad(embeds, rows, 16, eot, () => dF), 3);
    await gradients.dispose();
    return { imageBatch: batch, imagesPerSecond: round(batch / image, 2), textForwardBackward100x16Seconds: round(step) };
  } finally {
    w.close();
  }
}

const tinyDir = path.join(os.tmpdir(), 'mocoop-gpu-check-tiny');
writeRandomModel(tinyDir, TINY);
const bigDir = ensureRandomModel();
const webgpu = await probeWebGpu();
const found: { name: Provider; works: boolean; reason?: string }[] = [];
for (const name of ['cpu', 'cuda', 'webgpu', 'dml', 'coreml'] as Provider[]) {
  const info = await probeOnnxRuntime(name);
  const works = info.provider === name;
  found.push({ name, works, reason: works ? undefined : (info.skipped.find((s) => s.name === name)?.reason ?? info.unavailable) });
  log(`${name}: ${works ? 'works' : `not available (${found.at(-1)!.reason})`}`);
}
const reference = await outputs(tinyDir, 'cpu');
const providers: Record<string, unknown>[] = [];
for (const { name } of found.filter((p) => p.works)) {
  const entry: Record<string, unknown> = { provider: name };
  try {
    const out = await outputs(tinyDir, name);
    entry.fidelityVsCpu = {
      imageMaxAbs: maxAbs(out.image, reference.image),
      textMaxAbs: maxAbs(out.text, reference.text),
      textGradientMaxAbs: maxAbs(out.grad, reference.grad)
    };
    entry.fidelityOk = Object.values(entry.fidelityVsCpu as Record<string, number>).every((d) => d < 1e-4);
    if (name === 'webgpu' && 'adapter' in webgpu && !webgpu.hardware) entry.vitB16 = 'not timed: a software WebGPU adapter (hours at ViT-B/16 shapes)';
    else if (left() > 60) entry.vitB16 = await timeAtVitB16(bigDir, name);
    else entry.vitB16 = 'not timed: out of time budget';
    log(`${name}: ${JSON.stringify(entry)}`);
  } catch (error) {
    entry.error = String((error as Error).message).split('\n')[0];
  }
  providers.push(entry);
}
process.stdout.write(
  JSON.stringify(
    {
      date: new Date().toISOString(),
      host: { platform: process.platform, arch: process.arch, cores: os.cpus().length, cpu: os.cpus()[0]?.model },
      webgpuAdapter: 'adapter' in webgpu ? webgpu.adapter : { unavailable: webgpu.unavailable },
      found,
      providers,
      pytorchOpenblas1ThreadAnchor: { imagesPerSecond: 2.2, textForwardBackward100x16Seconds: 2.34 },
      seconds: round((performance.now() - started) / 1000, 1)
    },
    null,
    2
  ) + '\n'
);
process.exit(0);
