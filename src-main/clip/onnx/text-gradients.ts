/**
 * Text features and d loss / d input embeddings through the frozen text tower on ONNX Runtime, for
 * prompt learning: the forward graph returns the activations the backward graph needs, so a step
 * costs one forward and one backward (no recomputation) while they fit in `savedBudgetBytes`; beyond
 * that, a features-only pass comes first and each chunk's forward is redone just before its backward.
 */
import type { ClipConfig } from '../config';
import type { WeightReader } from './clip-graphs';
import { type OnnxProvider, defaultThreads, sessionOptions } from './onnx-towers';
import { encodeModel } from './proto';
import { SAVED_LAST, savedNames, textTrainBackwardGraph, textTrainForwardGraph } from './text-train-graphs';

type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;
type OrtTensor = import('onnxruntime-node').Tensor;

export interface TextGradientOptions {
  threads?: number;
  provider?: Exclude<OnnxProvider, 'auto'>;
  /** Rows go through in chunks of about this many tokens. */
  chunkTokens?: number;
  /** Saved activations of all chunks are kept when they fit in this many bytes (default 1 GiB). */
  savedBudgetBytes?: number;
}

export interface TextGradientResult {
  /** [rows × projection], projected, not normalised. */
  features: Float32Array;
  /** [rows × tokens × width], zero after each row's longest-EOT cut. */
  dEmbeds: Float32Array;
}

export class OnnxTextGradients {
  private constructor(
    private readonly ort: Ort,
    private readonly config: ClipConfig,
    private readonly forward: Session,
    private readonly backward: Session,
    readonly threads: number,
    readonly provider: string,
    private readonly chunkTokens: number,
    private readonly savedBudgetBytes: number
  ) {}

  static async load(config: ClipConfig, read: WeightReader, options: TextGradientOptions = {}): Promise<OnnxTextGradients> {
    const ortModule = await import('onnxruntime-node');
    const ort = ((ortModule as { default?: Ort }).default ?? ortModule) as Ort;
    const threads = options.threads ?? defaultThreads();
    const provider = options.provider ?? 'cpu';
    const options_ = sessionOptions(provider, threads);
    const forward = await ort.InferenceSession.create(encodeModel(textTrainForwardGraph(config, read)), options_);
    try {
      const backward = await ort.InferenceSession.create(encodeModel(textTrainBackwardGraph(config, read)), options_);
      return new OnnxTextGradients(ort, config, forward, backward, threads, provider, options.chunkTokens ?? 2048, options.savedBudgetBytes ?? 2 ** 30);
    } catch (error) {
      await forward.release();
      throw error;
    }
  }

  private get width(): number {
    return this.config.text.width;
  }

  /** Bytes of saved activations per token (all layers). */
  private savedBytesPerToken(tokens: number): number {
    const t = this.config.text;
    return 4 * t.layers * (6 * t.width + t.mlp + t.heads * tokens) + 4 * t.width;
  }

  private chunks(rows: number, tokens: number): [number, number][] {
    const per = Math.max(1, Math.floor(this.chunkTokens / tokens));
    const out: [number, number][] = [];
    for (let a = 0; a < rows; a += per) out.push([a, Math.min(rows, a + per)]);
    return out;
  }

  private feeds(embeds: Float32Array, fullTokens: number, tokens: number, eot: number[], [a, b]: [number, number]) {
    const n = b - a;
    const W = this.width;
    let data: Float32Array;
    if (fullTokens === tokens) data = embeds.subarray(a * tokens * W, b * tokens * W);
    else {
      data = new Float32Array(n * tokens * W);
      for (let r = 0; r < n; r++) data.set(embeds.subarray((a + r) * fullTokens * W, (a + r) * fullTokens * W + tokens * W), r * tokens * W);
    }
    const onehot = new Float32Array(n * tokens);
    for (let r = 0; r < n; r++) onehot[r * tokens + eot[a + r]!] = 1;
    return { embeds: new this.ort.Tensor('float32', data, [n, tokens, W]), eot_onehot: new this.ort.Tensor('float32', onehot, [n, tokens]) };
  }

  private checkEot(rows: number, tokens: number, eot: number[]): number {
    if (eot.length !== rows) throw new Error(`${eot.length} EOT positions for ${rows} rows.`);
    const longest = Math.max(...eot) + 1;
    if (longest > tokens || Math.min(...eot) < 0) throw new Error(`EOT position out of range (tokens ${tokens}).`);
    return longest;
  }

  /** Projected features of rows of token embeddings [rows × tokens × width]. */
  async encode(embeds: Float32Array, rows: number, tokens: number, eot: number[]): Promise<Float32Array> {
    const cut = this.checkEot(rows, tokens, eot);
    const P = this.config.projectionDim;
    const features = new Float32Array(rows * P);
    for (const chunk of this.chunks(rows, cut)) {
      const out = await this.forward.run(this.feeds(embeds, tokens, cut, eot, chunk), ['features']);
      features.set(out.features!.data as Float32Array, chunk[0] * P);
      for (const tensor of Object.values(out)) tensor.dispose();
    }
    return features;
  }

  /**
   * Features and the gradient of a loss with respect to the input embeddings. `dFeatures` gets the
   * features of all rows (the loss couples them) and returns d loss / d features [rows × projection].
   */
  async encodeWithGrad(
    embeds: Float32Array,
    rows: number,
    tokens: number,
    eot: number[],
    dFeatures: (features: Float32Array) => Float32Array | Promise<Float32Array>
  ): Promise<TextGradientResult> {
    const cut = this.checkEot(rows, tokens, eot);
    const P = this.config.projectionDim;
    const W = this.width;
    const chunks = this.chunks(rows, cut);
    const keepAll = rows * cut * this.savedBytesPerToken(cut) <= this.savedBudgetBytes;
    const features = new Float32Array(rows * P);
    const saved: Record<string, OrtTensor>[] = [];
    const feeds = chunks.map((chunk) => this.feeds(embeds, tokens, cut, eot, chunk));
    for (const [k, chunk] of chunks.entries()) {
      const out = keepAll ? await this.forward.run(feeds[k]!) : await this.forward.run(feeds[k]!, ['features']);
      features.set(out.features!.data as Float32Array, chunk[0] * P);
      if (keepAll) saved.push(out);
      else for (const tensor of Object.values(out)) tensor.dispose();
    }
    const dF = await dFeatures(features);
    if (dF.length !== rows * P) throw new Error(`d features has ${dF.length} values; expected ${rows * P}.`);
    const dEmbeds = new Float32Array(rows * tokens * W);
    for (const [k, [a, b]] of chunks.entries()) {
      const activations = keepAll ? saved[k]! : await this.forward.run(feeds[k]!);
      const inputs: Record<string, OrtTensor> = {
        eot_onehot: feeds[k]!.eot_onehot,
        d_features: new this.ort.Tensor('float32', dF.subarray(a * P, b * P), [b - a, P]),
        [SAVED_LAST]: activations[SAVED_LAST]!
      };
      for (let i = 0; i < this.config.text.layers; i++) for (const name of Object.values(savedNames(i))) inputs[name] = activations[name]!;
      const out = await this.backward.run(inputs);
      const d = out.d_embeds!.data as Float32Array;
      for (let r = 0; r < b - a; r++) dEmbeds.set(d.subarray(r * cut * W, (r + 1) * cut * W), (a + r) * tokens * W);
      for (const tensor of [...Object.values(out), ...Object.values(activations)]) tensor.dispose();
    }
    return { features, dEmbeds };
  }

  async dispose(): Promise<void> {
    await Promise.all([this.forward.release(), this.backward.release()]);
  }
}
