/**
 * CLIP's two encoders in tfjs, loaded from a HuggingFace folder. Every tensor is checked against the
 * config before anything is built; tensors are read from disk one at a time (no second full copy).
 */
import path from 'node:path';
import { type ClipConfig, type TowerConfig, expectedTensors, readClipConfig } from './config';
import { Block, Dense, LayerNorm, causalMask } from './layers';
import { SafetensorsError, SafetensorsFile } from './safetensors';
import { type Tensor, type Tensor1D, type Tensor2D, type Tensor3D, tf } from './tf';

export class ModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelLoadError';
  }
}

type Reader = (name: string) => Float32Array;

function checkTensors(st: SafetensorsFile, config: ClipConfig): void {
  const expected = expectedTensors(config);
  const missing: string[] = [];
  for (const [name, shape] of expected) {
    const entry = st.entries.get(name);
    if (!entry) {
      missing.push(name);
      continue;
    }
    if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i])) {
      throw new ModelLoadError(
        `${st.file}: tensor "${name}" has shape [${entry.shape.join(', ')}], but config.json implies [${shape.join(', ')}]. The weights do not belong to this config.`
      );
    }
  }
  if (missing.length) {
    throw new ModelLoadError(
      `${st.file}: ${missing.length} tensor(s) the model needs are missing, e.g. "${missing.slice(0, 3).join('", "')}". Is this a complete CLIP checkpoint?`
    );
  }
}

function dense(read: Reader, name: string, out: number, inp: number, keepForGrad: boolean, bias = true): Dense {
  const data = read(`${name}.weight`);
  const w = tf.tensor2d(data, [out, inp]);
  const wT = tf.transpose(w) as Tensor2D;
  const b = bias ? tf.tensor1d(read(`${name}.bias`)) : null;
  if (keepForGrad) return new Dense(wT, b, w);
  w.dispose();
  return new Dense(wT, b, null);
}

function layerNorm(read: Reader, name: string, eps: number): LayerNorm {
  return new LayerNorm(tf.tensor1d(read(`${name}.weight`)), tf.tensor1d(read(`${name}.bias`)), eps);
}

function blocks(read: Reader, prefix: string, c: TowerConfig, keepForGrad: boolean): Block[] {
  return Array.from({ length: c.layers }, (_, i) => {
    const l = `${prefix}.encoder.layers.${i}`;
    const d = (n: string, out: number, inp: number) => dense(read, `${l}.${n}`, out, inp, keepForGrad);
    return new Block(
      {
        ln1: layerNorm(read, `${l}.layer_norm1`, c.eps),
        ln2: layerNorm(read, `${l}.layer_norm2`, c.eps),
        q: d('self_attn.q_proj', c.width, c.width),
        k: d('self_attn.k_proj', c.width, c.width),
        v: d('self_attn.v_proj', c.width, c.width),
        out: d('self_attn.out_proj', c.width, c.width),
        fc1: d('mlp.fc1', c.mlp, c.width),
        fc2: d('mlp.fc2', c.width, c.mlp)
      },
      c.heads
    );
  });
}

/**
 * Runs blocks one after another, freeing each block's intermediates as soon as it is done (one tidy
 * for the whole stack would hold every layer's activations until the end and exhaust the wasm heap
 * for long batches). Under a gradient tape nothing may be freed early, so it is then a plain loop.
 */
function runBlocks(blocks: Block[], input: Tensor2D, batch: number, tokens: number, mask: Tensor | null): Tensor2D {
  if (tf.engine().isTapeOn()) {
    let x = input;
    for (const block of blocks) x = block.apply(x, batch, tokens, mask);
    return x;
  }
  let x = input;
  for (const block of blocks) {
    const next = tf.tidy(() => block.apply(x, batch, tokens, mask));
    if (x !== input) x.dispose();
    x = next;
  }
  return x;
}

export class TextEncoder {
  private masks = new Map<number, Tensor2D>();

  constructor(
    readonly config: ClipConfig,
    readonly tokenEmbedding: Tensor2D,
    readonly positionEmbedding: Tensor2D,
    readonly blocks: Block[],
    readonly finalLn: LayerNorm,
    readonly projection: Dense
  ) {}

  get width(): number {
    return this.config.text.width;
  }

  private mask(tokens: number): Tensor2D {
    let mask = this.masks.get(tokens);
    if (!mask) {
      mask = tf.keep(causalMask(tokens));
      this.masks.set(tokens, mask);
    }
    return mask;
  }

  /** Token embeddings of ids [batch][tokens] from the frozen table: [batch, tokens, width]. */
  embedTokens(ids: ArrayLike<number>[], tokens: number): Tensor3D {
    const flat = new Int32Array(ids.length * tokens);
    ids.forEach((row, b) => {
      for (let t = 0; t < tokens; t++) flat[b * tokens + t] = row[t] ?? 0;
    });
    return tf.tidy(() => tf.reshape(tf.gather(this.tokenEmbedding, tf.tensor1d(flat, 'int32')), [ids.length, tokens, this.width]) as Tensor3D);
  }

  /** Embeddings + positions, flattened: the input of the first block. */
  private start(embeds: Tensor3D): Tensor2D {
    const [batch, tokens] = embeds.shape;
    const positions = tf.slice(this.positionEmbedding, [0, 0], [tokens, this.width]);
    return tf.reshape(tf.add(embeds, positions), [batch * tokens, this.width]) as Tensor2D;
  }

  /** Final LN, pooling at each row's EOT position (a one-hot mask keeps it differentiable on wasm), projection. */
  private head(x: Tensor2D, batch: number, tokens: number, eot: number[]): Tensor2D {
    const oneHot = new Float32Array(batch * tokens);
    eot.forEach((p, b) => (oneHot[b * tokens + p] = 1));
    const normed = tf.reshape(this.finalLn.apply(x), [batch, tokens, this.width]);
    const pooled = tf.sum(tf.mul(normed, tf.tensor3d(oneHot, [batch, tokens, 1])), 1) as Tensor2D;
    return this.projection.apply(pooled);
  }

  private checkEot(embeds: Tensor3D, eot: number[]): number {
    const [batch, tokens] = embeds.shape;
    if (eot.length !== batch) throw new Error(`encodeEmbeddings: ${eot.length} EOT positions for a batch of ${batch}.`);
    const longest = Math.max(...eot) + 1;
    if (longest > tokens || Math.min(...eot) < 0) throw new Error(`encodeEmbeddings: EOT position out of range (tokens ${tokens}).`);
    return longest;
  }

  /**
   * Projected (not normalised) text features from token embeddings [batch, tokens, width]. Causal
   * attention makes tokens after the last EOT irrelevant, so the batch is cut to the longest EOT.
   */
  encodeEmbeddings(embeds: Tensor3D, eot: number[]): Tensor2D {
    const tokens = this.checkEot(embeds, eot);
    const batch = embeds.shape[0];
    const mask = this.mask(tokens);
    const input = tf.tidy(() => this.start(tf.slice(embeds, [0, 0, 0], [batch, tokens, this.width])));
    const x = runBlocks(this.blocks, input, batch, tokens, mask);
    const out = tf.tidy(() => this.head(x, batch, tokens, eot));
    // Without a tape (a gradient would need them) the blocks' input and output are freed here.
    if (!tf.engine().isTapeOn()) tf.dispose(x === input ? [x] : [x, input]);
    return out;
  }

  encodeIds(ids: ArrayLike<number>[], eot: number[]): Tensor2D {
    const tokens = Math.max(...eot) + 1;
    return tf.tidy(() => {
      const embeds = this.embedTokens(ids, tokens);
      return this.encodeEmbeddings(embeds, eot);
    });
  }

  /**
   * Features and the gradient of a loss with respect to the input embeddings. `dFeatures` is the
   * loss's gradient with respect to the features: a tensor, or a function of the features (called
   * once, after the forward pass). Rows go through in chunks of about `tokenBudget` tokens, and
   * blocks are recomputed one at a time (two forwards, one backward each), so the tape never holds
   * more than one block of one chunk: a full tape would exceed the wasm heap for a few hundred prompts.
   */
  encodeEmbeddingsWithGrad(
    embeds: Tensor3D,
    eot: number[],
    dFeatures: Tensor2D | ((features: Tensor2D) => Tensor2D),
    tokenBudget = 4096
  ): { features: Tensor2D; dEmbeds: Tensor3D } {
    const tokens = this.checkEot(embeds, eot);
    const batch = embeds.shape[0];
    const mask = this.mask(tokens);
    const rowsPerChunk = Math.max(1, Math.floor(tokenBudget / tokens));
    const chunks: [number, number][] = [];
    for (let a = 0; a < batch; a += rowsPerChunk) chunks.push([a, Math.min(batch, a + rowsPerChunk)]);

    // Forward, chunk by chunk, keeping each block's input (not its intermediates).
    const saved: Tensor2D[][] = [];
    const parts: Tensor2D[] = [];
    for (const [a, b] of chunks) {
      const n = b - a;
      const inputs: Tensor2D[] = [];
      let x = tf.tidy(() => this.start(tf.slice(embeds, [a, 0, 0], [n, tokens, this.width])));
      for (const block of this.blocks) {
        inputs.push(x);
        const input = x;
        x = tf.tidy(() => block.apply(input, n, tokens, mask));
      }
      inputs.push(x);
      saved.push(inputs);
      parts.push(tf.tidy(() => this.head(x, n, tokens, eot.slice(a, b))));
    }
    const features = parts.length === 1 ? parts[0]! : (tf.concat(parts, 0) as Tensor2D);
    if (parts.length > 1) tf.dispose(parts);
    const dF = typeof dFeatures === 'function' ? dFeatures(features) : dFeatures;

    // Backward, chunk by chunk, block by block.
    const grads: Tensor2D[] = chunks.map(([a, b], k) => {
      const n = b - a;
      const inputs = saved[k]!;
      const chunkEot = eot.slice(a, b);
      let grad = tf.tidy(
        () =>
          tf.grad((x: Tensor) => this.head(x as Tensor2D, n, tokens, chunkEot))(inputs[inputs.length - 1]!, tf.slice(dF, [a, 0], [n, dF.shape[1]])) as Tensor2D
      );
      for (let i = this.blocks.length - 1; i >= 0; i--) {
        const block = this.blocks[i]!;
        const dy = grad;
        const next = tf.tidy(() => tf.grad((x: Tensor) => block.apply(x as Tensor2D, n, tokens, mask))(inputs[i]!, dy) as Tensor2D);
        dy.dispose();
        grad = next;
      }
      inputs.forEach((t) => t.dispose());
      return grad;
    });
    if (dF !== dFeatures) dF.dispose();
    const full = tf.tidy(() => {
      const g = tf.reshape(grads.length === 1 ? grads[0]! : tf.concat(grads, 0), [batch, tokens, this.width]);
      const rest = embeds.shape[1] - tokens;
      return (rest > 0 ? tf.concat([g, tf.zeros([batch, rest, this.width])], 1) : g) as Tensor3D;
    });
    tf.dispose(grads);
    return { features, dEmbeds: full };
  }

  dispose(): void {
    this.tokenEmbedding.dispose();
    this.positionEmbedding.dispose();
    this.blocks.forEach((b) => b.dispose());
    this.finalLn.dispose();
    this.projection.dispose();
    this.masks.forEach((m) => m.dispose());
  }
}

export class VisionEncoder {
  constructor(
    readonly config: ClipConfig,
    readonly patchWeightT: Tensor2D,
    readonly classEmbedding: Tensor1D,
    readonly positionEmbedding: Tensor2D,
    readonly preLn: LayerNorm,
    readonly blocks: Block[],
    readonly postLn: LayerNorm,
    readonly projection: Dense
  ) {}

  /** Projected (not normalised) image features from pixels [batch, 3, size, size] (CHW, normalised). */
  encode(pixels: Float32Array, batch: number): Tensor2D {
    const { imageSize: s, patchSize: p, width, channels } = this.config.vision;
    const g = s / p;
    const tokens = g * g + 1;
    return tf.tidy(() => {
      // Patches as rows [batch * g * g, channels * p * p], in the (c, ky, kx) order of the conv weight.
      const x = tf.tensor(pixels, [batch, channels, g, p, g, p]);
      const patches = tf.reshape(tf.transpose(x, [0, 2, 4, 1, 3, 5]), [batch * g * g, channels * p * p]) as Tensor2D;
      const embedded = tf.reshape(tf.matMul(patches, this.patchWeightT), [batch, g * g, width]);
      const cls = tf.broadcastTo(tf.reshape(this.classEmbedding, [1, 1, width]), [batch, 1, width]);
      const seq = tf.add(tf.concat([cls, embedded], 1), this.positionEmbedding);
      let h = this.preLn.apply(tf.reshape(seq, [batch * tokens, width]) as Tensor2D);
      h = runBlocks(this.blocks, h, batch, tokens, null);
      const first = tf.reshape(tf.slice(tf.reshape(h, [batch, tokens, width]), [0, 0, 0], [batch, 1, width]), [batch, width]) as Tensor2D;
      return this.projection.apply(this.postLn.apply(first));
    });
  }

  dispose(): void {
    this.patchWeightT.dispose();
    this.classEmbedding.dispose();
    this.positionEmbedding.dispose();
    this.preLn.dispose();
    this.blocks.forEach((b) => b.dispose());
    this.postLn.dispose();
    this.projection.dispose();
  }
}

export interface ClipModel {
  dir: string;
  config: ClipConfig;
  text: TextEncoder;
  vision: VisionEncoder;
  logitScale: number;
  dispose(): void;
}

export interface LoadOptions {
  /** Keep what the text encoder needs for input gradients (training soft prompts). Default true. */
  textGradients?: boolean;
}

/** An open, checked checkpoint: every tensor the config implies is present with its shape. */
export interface CheckedWeights {
  config: ClipConfig;
  read: Reader;
  close(): void;
}

/** Opens config.json + model.safetensors of a HuggingFace CLIP folder and checks every tensor. */
export function openCheckedWeights(dir: string): CheckedWeights {
  const config = readClipConfig(dir);
  let st: SafetensorsFile;
  try {
    st = SafetensorsFile.open(path.join(dir, 'model.safetensors'));
  } catch (error) {
    if (error instanceof SafetensorsError) throw new ModelLoadError(error.message);
    throw error;
  }
  try {
    checkTensors(st, config);
  } catch (error) {
    st.close();
    throw error;
  }
  const read: Reader = (name) => {
    try {
      return st.readFloat32(name);
    } catch (error) {
      throw new ModelLoadError((error as Error).message);
    }
  };
  return { config, read, close: () => st.close() };
}

function buildVision(config: ClipConfig, read: Reader): VisionEncoder {
  const v = config.vision;
  const g = v.imageSize / v.patchSize;
  const patch = tf.tensor2d(read('vision_model.embeddings.patch_embedding.weight'), [v.width, v.channels * v.patchSize * v.patchSize]);
  const vision = new VisionEncoder(
    config,
    tf.transpose(patch) as Tensor2D,
    tf.tensor1d(read('vision_model.embeddings.class_embedding')),
    tf.tensor2d(read('vision_model.embeddings.position_embedding.weight'), [g * g + 1, v.width]),
    layerNorm(read, 'vision_model.pre_layrnorm', v.eps),
    blocks(read, 'vision_model', v, false),
    layerNorm(read, 'vision_model.post_layernorm', v.eps),
    dense(read, 'visual_projection', config.projectionDim, v.width, false, false)
  );
  patch.dispose();
  return vision;
}

/** The image tower alone, for callers that load it only when images are first encoded. */
export function loadVisionEncoder(dir: string): VisionEncoder {
  const weights = openCheckedWeights(dir);
  try {
    return buildVision(weights.config, weights.read);
  } finally {
    weights.close();
  }
}

/** Loads config.json + model.safetensors from a HuggingFace CLIP folder (both towers). */
export function loadClipModel(dir: string, options: LoadOptions = {}): ClipModel {
  const weights = openCheckedWeights(dir);
  try {
    return buildModel(dir, weights, options, true);
  } finally {
    weights.close();
  }
}

/** The text tower and logit scale only; the image tower is loaded later with `loadVisionEncoder`. */
export function loadClipTextModel(dir: string, options: LoadOptions = {}): Omit<ClipModel, 'vision'> {
  const weights = openCheckedWeights(dir);
  try {
    return buildModel(dir, weights, options, false);
  } finally {
    weights.close();
  }
}

function buildModel(dir: string, weights: CheckedWeights, options: LoadOptions, withVision: true): ClipModel;
function buildModel(dir: string, weights: CheckedWeights, options: LoadOptions, withVision: false): Omit<ClipModel, 'vision'>;
function buildModel(
  dir: string,
  { config, read }: CheckedWeights,
  options: LoadOptions,
  withVision: boolean
): Omit<ClipModel, 'vision'> & { vision?: VisionEncoder } {
  const grads = options.textGradients ?? true;
  const t = config.text;
  const text = new TextEncoder(
    config,
    tf.tensor2d(read('text_model.embeddings.token_embedding.weight'), [t.vocabSize, t.width]),
    tf.tensor2d(read('text_model.embeddings.position_embedding.weight'), [t.contextLength, t.width]),
    blocks(read, 'text_model', t, grads),
    layerNorm(read, 'text_model.final_layer_norm', t.eps),
    dense(read, 'text_projection', config.projectionDim, t.width, grads, false)
  );
  let vision: VisionEncoder | undefined;
  try {
    vision = withVision ? buildVision(config, read) : undefined;
  } catch (error) {
    text.dispose();
    throw error;
  }
  const logitScale = read('logit_scale')[0]!;
  return {
    dir,
    config,
    text,
    ...(vision ? { vision } : {}),
    logitScale,
    dispose() {
      text.dispose();
      vision?.dispose();
    }
  };
}

export function l2Normalize(x: Tensor2D): Tensor2D {
  return tf.tidy(() => tf.div(x, tf.norm(x, 'euclidean', -1, true)) as Tensor2D);
}
