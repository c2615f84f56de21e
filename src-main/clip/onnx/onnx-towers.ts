/**
 * CLIP's frozen towers on ONNX Runtime: graphs built in memory from the checkpoint when the model is
 * loaded, run with every core (or a GPU execution provider when asked for and present). When
 * onnxruntime-node is missing or refuses the graph, `loadOnnxTowers` says why and the caller keeps
 * its tfjs encoders.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { ClipConfig } from '../config';
import { type WeightReader, textGraph, visionGraph } from './clip-graphs';
import { encodeModel } from './proto';
import { GraphBuilder } from './graph-builder';
import { type WebGpuAdapter, probeWebGpu } from './webgpu-probe';

type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;

export const ONNX_PROVIDERS = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'] as const;
export type OnnxProvider = (typeof ONNX_PROVIDERS)[number];

export interface OnnxTowersInfo {
  provider: Exclude<OnnxProvider, 'auto'>;
  /** The WebGPU adapter's largest storage buffer binding, when the provider is WebGPU. */
  maxBufferBytes?: number;
  threads: number;
  towers: ('vision' | 'text')[];
  skipped: { name: string; reason: string }[];
}

export interface OnnxTowerOptions {
  vision?: boolean;
  text?: boolean;
  /** Intra-op threads; all cores by default (MOCOOP_THREADS overrides). */
  threads?: number;
  /** Else MOCOOP_ONNX_PROVIDER, else "auto": the platform's GPU provider where one works, then the CPU. */
  provider?: OnnxProvider;
}

let ortModule: Promise<Ort> | null = null;
function importOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node').then((m) => ((m as { default?: Ort }).default ?? m) as Ort);
  return ortModule;
}

export function defaultThreads(): number {
  const fromEnv = Number(process.env.MOCOOP_THREADS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/** The CUDA provider is not in the npm package: its install step downloads it on request (README). */
function cudaInstalled(): boolean {
  try {
    const main = createRequire(import.meta.url).resolve('onnxruntime-node');
    const bin = path.join(path.dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
    return fs.existsSync(path.join(bin, 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

/** The providers to try, best first; what "auto" passes over is said in `skipped`. */
export async function providerCandidates(provider: OnnxProvider, skipped: OnnxTowersInfo['skipped']): Promise<Exclude<OnnxProvider, 'auto'>[]> {
  if (provider !== 'auto') return provider === 'cpu' ? ['cpu'] : [provider, 'cpu'];
  const order: Exclude<OnnxProvider, 'auto'>[] = [];
  if (process.platform === 'win32') order.push('dml');
  if (process.platform === 'linux') {
    if (cudaInstalled()) order.push('cuda');
    else skipped.push({ name: 'cuda', reason: "ONNX Runtime's CUDA provider is not installed (see the README: GPUs)" });
  }
  const webgpu = await probeWebGpu();
  if ('unavailable' in webgpu) skipped.push({ name: 'webgpu', reason: webgpu.unavailable });
  else if (!webgpu.hardware)
    skipped.push({ name: 'webgpu', reason: `only a software WebGPU adapter (${webgpu.adapter.description || webgpu.adapter.device}): the CPU is faster` });
  else order.push('webgpu');
  if (process.platform === 'darwin') order.push('coreml');
  order.push('cpu');
  return order;
}

/**
 * Session options shared by every graph: all optimisations, quiet logs, and denormal floats flushed
 * to zero (tiny loss gradients otherwise run the backward through the CPU's slow denormal path).
 */
export function sessionOptions(provider: Exclude<OnnxProvider, 'auto'>, threads: number): import('onnxruntime-node').InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    extra: { session: { set_denormal_as_zero: '1' } }
  };
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error)
    .split('\n')[0]!
    .slice(0, 300);
}

/** What ONNX Runtime can use on this machine, found by opening a one-node graph on each provider. */
export interface OnnxRuntimeInfo {
  version?: string;
  provider?: Exclude<OnnxProvider, 'auto'>;
  threads?: number;
  skipped: { name: string; reason: string }[];
  webgpuAdapter?: WebGpuAdapter;
  /** Why ONNX Runtime is not used at all (the tfjs encoders run instead). */
  unavailable?: string;
}

export async function probeOnnxRuntime(provider?: OnnxProvider): Promise<OnnxRuntimeInfo> {
  if (process.env.MOCOOP_ONNX === '0') return { skipped: [], unavailable: 'turned off (MOCOOP_ONNX=0)' };
  let ort: Ort;
  try {
    ort = await importOrt();
  } catch (error) {
    return { skipped: [], unavailable: `onnxruntime-node is not usable here (${firstLine(error)})` };
  }
  const requested = provider ?? (process.env.MOCOOP_ONNX_PROVIDER as OnnxProvider | undefined) ?? 'auto';
  const skipped: OnnxRuntimeInfo['skipped'] = [];
  const threads = defaultThreads();
  const g = new GraphBuilder('probe');
  g.output(g.add(g.input('x', [2]), g.weight('one', [2], Float32Array.of(1, 1))), 'y', [2]);
  const model = encodeModel(g.build());
  const webgpu = await probeWebGpu();
  const webgpuAdapter = 'adapter' in webgpu ? webgpu.adapter : undefined;
  for (const candidate of await providerCandidates(requested, skipped)) {
    try {
      const session = await ort.InferenceSession.create(model, sessionOptions(candidate, 1));
      const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2), [2]) });
      await session.release();
      if ((out.y!.data as Float32Array)[1] !== 3) throw new Error('wrong result from a test graph');
      return { version: ort.env.versions?.node, provider: candidate, threads, skipped, webgpuAdapter };
    } catch (error) {
      skipped.push({ name: candidate, reason: firstLine(error) });
    }
  }
  return { version: ort.env.versions?.node, skipped, webgpuAdapter, unavailable: 'no execution provider worked' };
}

export class OnnxTowers {
  private constructor(
    private readonly ort: Ort,
    readonly config: ClipConfig,
    readonly info: OnnxTowersInfo,
    private readonly vision: Session | null,
    private readonly text: Session | null
  ) {}

  get hasVision(): boolean {
    return this.vision !== null;
  }

  get hasText(): boolean {
    return this.text !== null;
  }

  /** Projected image features [count × projection] of preprocessed pixels (CHW, back to back). */
  async encodeImages(pixels: Float32Array, count: number): Promise<Float32Array> {
    if (!this.vision) throw new Error('The image tower is not loaded on ONNX Runtime.');
    const { channels, imageSize } = this.config.vision;
    const input = new this.ort.Tensor('float32', pixels, [count, channels, imageSize, imageSize]);
    const result = await this.vision.run({ pixel_values: input });
    const out = result.image_embeds!;
    const data = (out.data as Float32Array).slice();
    for (const tensor of Object.values(result)) tensor.dispose();
    return data;
  }

  /**
   * Projected text features [rows × projection] of token ids, in the order given. Rows are grouped
   * by length so each run pads only to the longest EOT of its group (causal attention makes the
   * positions after a row's EOT irrelevant to it).
   */
  async encodeTexts(ids: ArrayLike<number>[], eot: number[], rowsPerRun = 64): Promise<Float32Array> {
    if (!this.text) throw new Error('The text tower is not loaded on ONNX Runtime.');
    const dim = this.config.projectionDim;
    const out = new Float32Array(ids.length * dim);
    const order = ids.map((_, i) => i).sort((a, b) => eot[a]! - eot[b]!);
    for (let start = 0; start < order.length; start += rowsPerRun) {
      const rows = order.slice(start, start + rowsPerRun);
      const tokens = Math.max(...rows.map((r) => eot[r]!)) + 1;
      const flat = new BigInt64Array(rows.length * tokens);
      rows.forEach((r, k) => {
        const row = ids[r]!;
        for (let t = 0; t < tokens; t++) flat[k * tokens + t] = BigInt(row[t] ?? 0);
      });
      const result = await this.text.run({
        input_ids: new this.ort.Tensor('int64', flat, [rows.length, tokens]),
        eot_index: new this.ort.Tensor('int64', BigInt64Array.from(rows.map((r) => BigInt(eot[r]!))), [rows.length])
      });
      const data = result.text_embeds!.data as Float32Array;
      rows.forEach((r, k) => out.set(data.subarray(k * dim, (k + 1) * dim), r * dim));
      for (const tensor of Object.values(result)) tensor.dispose();
    }
    return out;
  }

  async dispose(): Promise<void> {
    await Promise.all([this.vision?.release(), this.text?.release()]);
  }

  /**
   * Builds and opens the requested towers. Returns the towers, or the reason ONNX Runtime cannot be
   * used here (not installed, no usable provider), for the caller to show beside its fallback.
   */
  static async load(config: ClipConfig, read: WeightReader, options: OnnxTowerOptions = {}): Promise<OnnxTowers | { unavailable: string }> {
    let ort: Ort;
    try {
      ort = await importOrt();
    } catch (error) {
      return { unavailable: `onnxruntime-node is not usable here (${firstLine(error)})` };
    }
    const threads = options.threads ?? defaultThreads();
    const requested = options.provider ?? (process.env.MOCOOP_ONNX_PROVIDER as OnnxProvider | undefined) ?? 'auto';
    if (!ONNX_PROVIDERS.includes(requested)) return { unavailable: `MOCOOP_ONNX_PROVIDER="${requested}" is not one of ${ONNX_PROVIDERS.join(', ')}` };
    const towers: OnnxTowersInfo['towers'] = [];
    if (options.vision ?? true) towers.push('vision');
    if (options.text ?? true) towers.push('text');
    // Graphs are built one at a time and dropped once ONNX Runtime holds the weights.
    const models = new Map<string, () => Uint8Array>([
      ['vision', () => encodeModel(visionGraph(config, read))],
      ['text', () => encodeModel(textGraph(config, read))]
    ]);
    const skipped: OnnxTowersInfo['skipped'] = [];
    for (const provider of await providerCandidates(requested, skipped)) {
      const sessions: Session[] = [];
      try {
        const open = async (tower: string) => {
          const session = await ort.InferenceSession.create(models.get(tower)!(), sessionOptions(provider, threads));
          sessions.push(session);
          return session;
        };
        const vision = towers.includes('vision') ? await open('vision') : null;
        const text = towers.includes('text') ? await open('text') : null;
        const webgpu = provider === 'webgpu' ? await probeWebGpu() : null;
        const maxBufferBytes = webgpu && 'adapter' in webgpu ? webgpu.adapter.maxStorageBufferBindingSize : undefined;
        return new OnnxTowers(ort, config, { provider, threads, towers, skipped, maxBufferBytes }, vision, text);
      } catch (error) {
        await Promise.all(sessions.map((s) => s.release()));
        skipped.push({ name: provider, reason: firstLine(error) });
      }
    }
    return { unavailable: `ONNX Runtime could not open the model: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}` };
  }
}
