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
import { prefixTrainBackwardGraph, prefixTrainForwardGraph } from './text-prefix-graphs';
import { textTrainBackwardGraph, textTrainForwardGraph } from './text-train-graphs';

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
  /** A GPU's largest buffer binding (WebGPU's maxStorageBufferBindingSize): chunks stay below it. */
  maxBufferBytes?: number;
}

/** Tokens per chunk such that the largest activation of a chunk (MLP or attention rows) fits in one buffer. */
export function chunkTokensFor(config: ClipConfig, wanted: number, maxBufferBytes?: number): number {
  if (!maxBufferBytes) return wanted;
  const t = config.text;
  const bytesPerToken = 4 * Math.max(t.mlp, t.heads * t.contextLength, t.width * 3);
  return Math.max(t.contextLength, Math.min(wanted, Math.floor(maxBufferBytes / bytesPerToken)));
}

export interface TextGradientResult {
  /** [rows × projection], projected, not normalised. */
  features: Float32Array;
  /** [rows × tokens × width], zero after each row's longest-EOT cut. */
  dEmbeds: Float32Array;
}

/**
 * Consecutive rows that share their first `prefix` token embeddings (one expert's SOT and prefix
 * context): the prefix is encoded once for them. Their prefix gradient is returned in the group's
 * first row only (whoever sums the rows' gradients per context vector gets the same total).
 */
export interface SharedPrefixGroup {
  start: number;
  count: number;
  prefix: number;
}

type Feeds = Record<string, OrtTensor>;

/**
 * Groups of consecutive rows whose leading token embeddings are identical: a row joins the current
 * group while it shares at least the group's prefix with the group's first row (a shorter common
 * prefix starts a new group). Every row shares its SOT with its group at least, and a prefix never
 * reaches a row's EOT.
 */
export function detectSharedPrefixes(embeds: Float32Array, rows: number, tokens: number, width: number, eot: number[]): SharedPrefixGroup[] {
  const common = (a: number, b: number, limit: number) => {
    let k = 0;
    for (; k < limit; k++) {
      const x = (a * tokens + k) * width;
      const y = (b * tokens + k) * width;
      for (let i = 0; i < width; i++) if (embeds[x + i] !== embeds[y + i]) return k;
    }
    return k;
  };
  const groups: SharedPrefixGroup[] = [];
  let current: SharedPrefixGroup | null = null;
  for (let r = 0; r < rows; r++) {
    if (current) {
      const shared = Math.min(common(current.start, r, current.count === 1 ? eot[current.start]! : current.prefix), eot[r]!);
      if (current.count === 1 ? shared >= 1 : shared >= current.prefix) {
        if (current.count === 1) current.prefix = shared;
        current.count++;
        continue;
      }
    }
    current = { start: r, count: 1, prefix: Math.max(1, Math.min(1, eot[r]!)) };
    groups.push(current);
  }
  return groups;
}

/** One ONNX Runtime call's worth of rows: plain rows, or rows of one prefix group. */
interface Unit {
  feeds: Feeds;
  /** Rows [a, b) of the whole batch. */
  a: number;
  b: number;
  /** Token columns [from, from + tokens) of each row that the unit covers. */
  from: number;
  tokens: number;
  /** For a prefix group: the row that receives the prefix gradient, and the prefix length. */
  prefix?: { row: number; length: number };
}

export class OnnxTextGradients {
  private constructor(
    private readonly ort: Ort,
    private readonly config: ClipConfig,
    private readonly plain: { forward: Session; backward: Session } | null,
    private readonly shared: { forward: Session; backward: Session } | null,
    readonly threads: number,
    readonly provider: string,
    private readonly chunkTokens: number,
    private readonly savedBudgetBytes: number
  ) {}

  /** `graphs`: the plain pair (any rows), the shared-prefix pair (rows in prefix groups), or both. */
  static async load(
    config: ClipConfig,
    read: WeightReader,
    options: TextGradientOptions & { graphs?: 'plain' | 'prefix' | 'both' } = {}
  ): Promise<OnnxTextGradients> {
    const ortModule = await import('onnxruntime-node');
    const ort = ((ortModule as { default?: Ort }).default ?? ortModule) as Ort;
    const threads = options.threads ?? defaultThreads();
    const provider = options.provider ?? 'cpu';
    const graphs = options.graphs ?? 'both';
    const opened: Session[] = [];
    const open = async (graph: () => import('./proto').GraphSpec) => {
      const session = await ort.InferenceSession.create(encodeModel(graph()), sessionOptions(provider, threads));
      opened.push(session);
      return session;
    };
    try {
      const plain =
        graphs === 'prefix'
          ? null
          : { forward: await open(() => textTrainForwardGraph(config, read)), backward: await open(() => textTrainBackwardGraph(config, read)) };
      const shared =
        graphs === 'plain'
          ? null
          : { forward: await open(() => prefixTrainForwardGraph(config, read)), backward: await open(() => prefixTrainBackwardGraph(config, read)) };
      return new OnnxTextGradients(
        ort,
        config,
        plain,
        shared,
        threads,
        provider,
        chunkTokensFor(config, options.chunkTokens ?? 2048, options.maxBufferBytes),
        options.savedBudgetBytes ?? 2 ** 30
      );
    } catch (error) {
      await Promise.all(opened.map((session) => session.release()));
      throw error;
    }
  }

  private get width(): number {
    return this.config.text.width;
  }

  /** Bytes of saved activations per token (all layers); attention rows of `keys` keys. */
  private savedBytesPerToken(keys: number): number {
    const t = this.config.text;
    return 4 * t.layers * (6 * t.width + t.mlp + t.heads * keys) + 4 * t.width;
  }

  private slice(embeds: Float32Array, fullTokens: number, rows: [number, number], from: number, tokens: number): Float32Array {
    const W = this.width;
    const [a, b] = rows;
    if (from === 0 && fullTokens === tokens) return embeds.subarray(a * tokens * W, b * tokens * W);
    const data = new Float32Array((b - a) * tokens * W);
    for (let r = 0; r < b - a; r++) data.set(embeds.subarray(((a + r) * fullTokens + from) * W, ((a + r) * fullTokens + from + tokens) * W), r * tokens * W);
    return data;
  }

  private onehot(eot: number[], [a, b]: [number, number], from: number, tokens: number): OrtTensor {
    const data = new Float32Array((b - a) * tokens);
    for (let r = 0; r < b - a; r++) data[r * tokens + eot[a + r]! - from] = 1;
    return new this.ort.Tensor('float32', data, [b - a, tokens]);
  }

  /** Splits the rows into ONNX Runtime calls of about `chunkTokens` tokens each. */
  private units(embeds: Float32Array, rows: number, tokens: number, eot: number[], groups?: SharedPrefixGroup[]): Unit[] {
    const W = this.width;
    const units: Unit[] = [];
    const chunked = (a: number, b: number, perRow: number, make: (range: [number, number]) => Unit) => {
      const per = Math.max(1, Math.floor(this.chunkTokens / perRow));
      for (let x = a; x < b; x += per) units.push(make([x, Math.min(b, x + per)]));
    };
    // Without the plain graphs, the shared prefixes are found in the embeddings themselves.
    if (!groups && !this.plain) groups = detectSharedPrefixes(embeds, rows, tokens, W, eot);
    if (!groups) {
      const cut = Math.max(...eot) + 1;
      chunked(0, rows, cut, (range) => ({
        feeds: {
          embeds: new this.ort.Tensor('float32', this.slice(embeds, tokens, range, 0, cut), [range[1] - range[0], cut, W]),
          eot_onehot: this.onehot(eot, range, 0, cut)
        },
        a: range[0],
        b: range[1],
        from: 0,
        tokens: cut
      }));
      return units;
    }
    if (!this.shared) throw new Error('The shared-prefix text-gradient graphs are not loaded.');
    let next = 0;
    for (const group of groups) {
      if (group.start !== next || group.count < 1 || group.start + group.count > rows) throw new Error('Shared-prefix groups must cover the rows in order.');
      next = group.start + group.count;
      const last = Math.max(...eot.slice(group.start, next));
      if (group.prefix < 1 || Math.min(...eot.slice(group.start, next)) < group.prefix)
        throw new Error(`A shared prefix of ${group.prefix} tokens reaches a row's EOT.`);
      const rest = last + 1 - group.prefix;
      const prefix = new this.ort.Tensor('float32', embeds.slice(group.start * tokens * W, (group.start * tokens + group.prefix) * W), [1, group.prefix, W]);
      chunked(group.start, next, rest, (range) => ({
        feeds: {
          prefix_embeds: prefix,
          rest_embeds: new this.ort.Tensor('float32', this.slice(embeds, tokens, range, group.prefix, rest), [range[1] - range[0], rest, W]),
          eot_onehot: this.onehot(eot, range, group.prefix, rest)
        },
        a: range[0],
        b: range[1],
        from: group.prefix,
        tokens: rest,
        prefix: { row: group.start, length: group.prefix }
      }));
    }
    if (next !== rows) throw new Error('Shared-prefix groups must cover every row.');
    return units;
  }

  private sessions(unit: Unit): { forward: Session; backward: Session } {
    return (unit.prefix ? this.shared : this.plain)!;
  }

  private checkEot(rows: number, tokens: number, eot: number[]): void {
    if (eot.length !== rows) throw new Error(`${eot.length} EOT positions for ${rows} rows.`);
    if (Math.max(...eot) + 1 > tokens || Math.min(...eot) < 0) throw new Error(`EOT position out of range (tokens ${tokens}).`);
  }

  /** Projected features of rows of token embeddings [rows × tokens × width]. */
  async encode(embeds: Float32Array, rows: number, tokens: number, eot: number[], groups?: SharedPrefixGroup[]): Promise<Float32Array> {
    this.checkEot(rows, tokens, eot);
    const P = this.config.projectionDim;
    const features = new Float32Array(rows * P);
    for (const unit of this.units(embeds, rows, tokens, eot, groups)) {
      const out = await this.sessions(unit).forward.run(unit.feeds, ['features']);
      features.set(out.features!.data as Float32Array, unit.a * P);
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
    dFeatures: (features: Float32Array) => Float32Array | Promise<Float32Array>,
    groups?: SharedPrefixGroup[]
  ): Promise<TextGradientResult> {
    this.checkEot(rows, tokens, eot);
    const P = this.config.projectionDim;
    const W = this.width;
    const units = this.units(embeds, rows, tokens, eot, groups);
    const savedBytes = units.reduce((sum, u) => sum + (u.b - u.a) * u.tokens * this.savedBytesPerToken(u.tokens + (u.prefix?.length ?? 0)), 0);
    const keepAll = savedBytes <= this.savedBudgetBytes;
    const features = new Float32Array(rows * P);
    const saved: Record<string, OrtTensor>[] = [];
    for (const unit of units) {
      const forward = this.sessions(unit).forward;
      const out = keepAll ? await forward.run(unit.feeds) : await forward.run(unit.feeds, ['features']);
      features.set(out.features!.data as Float32Array, unit.a * P);
      if (keepAll) saved.push(out);
      else for (const tensor of Object.values(out)) tensor.dispose();
    }
    const dF = await dFeatures(features);
    if (dF.length !== rows * P) throw new Error(`d features has ${dF.length} values; expected ${rows * P}.`);
    const dEmbeds = new Float32Array(rows * tokens * W);
    for (const [k, unit] of units.entries()) {
      const { forward, backward } = this.sessions(unit);
      const activations = keepAll ? saved[k]! : await forward.run(unit.feeds);
      const inputs: Feeds = {
        eot_onehot: unit.feeds.eot_onehot!,
        d_features: new this.ort.Tensor('float32', dF.subarray(unit.a * P, unit.b * P), [unit.b - unit.a, P])
      };
      for (const name of backward.inputNames) if (!(name in inputs)) inputs[name] = activations[name]!;
      const out = await backward.run(inputs);
      const d = (unit.prefix ? out.d_rest! : out.d_embeds!).data as Float32Array;
      for (let r = 0; r < unit.b - unit.a; r++)
        dEmbeds.set(d.subarray(r * unit.tokens * W, (r + 1) * unit.tokens * W), ((unit.a + r) * tokens + unit.from) * W);
      if (unit.prefix) {
        const dp = out.d_prefix!.data as Float32Array;
        const at = unit.prefix.row * tokens * W;
        for (let i = 0; i < dp.length; i++) dEmbeds[at + i]! += dp[i]!;
      }
      for (const tensor of [...Object.values(out), ...Object.values(activations)]) tensor.dispose();
    }
    return { features, dEmbeds };
  }

  async dispose(): Promise<void> {
    await Promise.all([this.plain?.forward.release(), this.plain?.backward.release(), this.shared?.forward.release(), this.shared?.backward.release()]);
  }
}
