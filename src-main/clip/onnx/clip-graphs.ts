/**
 * CLIP's frozen towers as ONNX inference graphs, built from the HF checkpoint's tensors (no conversion
 * step). Outputs are the projected, not normalised, features, exactly as HF's CLIPModel computes them.
 * The residual stream stays [batch, tokens, width]; dense weights are stored transposed ([in, out]) so
 * every product is a plain MatMul, and the attention scale is folded into the query projection.
 */
import type { ClipConfig, TowerConfig } from '../config';
import { GraphBuilder } from './graph-builder';
import type { GraphSpec } from './proto';

/** Reads one checkpoint tensor as float32, by its HF name. */
export type WeightReader = (name: string) => Float32Array;

/** [rows, cols] row-major → [cols, rows], optionally scaled. */
export function transpose2d(data: Float32Array, rows: number, cols: number, scale = 1): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c]! * scale;
  }
  return out;
}

function scaled(data: Float32Array, scale: number): Float32Array {
  return scale === 1 ? data : data.map((v) => v * scale);
}

/** A linear layer of the checkpoint (weight [out, in]) as MatMul + Add. */
function linear(g: GraphBuilder, read: WeightReader, name: string, x: string, out: number, inp: number, opts: { bias?: boolean; scale?: number } = {}): string {
  const scale = opts.scale ?? 1;
  const w = g.weight(`${name}.weightT`, [inp, out], transpose2d(read(`${name}.weight`), out, inp, scale));
  const b = opts.bias === false ? null : g.weight(`${name}.bias`, [out], scaled(read(`${name}.bias`), scale));
  return g.dense(x, w, b);
}

function layerNorm(g: GraphBuilder, read: WeightReader, name: string, x: string, width: number, eps: number): string {
  const gamma = g.weight(`${name}.weight`, [width], read(`${name}.weight`));
  const beta = g.weight(`${name}.bias`, [width], read(`${name}.bias`));
  return g.layerNorm(x, gamma, beta, eps);
}

/** One pre-LN block on [batch, tokens, width]; `mask` is an additive [tokens, tokens] bias or null. */
function block(g: GraphBuilder, read: WeightReader, prefix: string, c: TowerConfig, x: string, mask: string | null): string {
  const { width, heads, mlp, eps } = c;
  const dh = width / heads;
  const h = layerNorm(g, read, `${prefix}.layer_norm1`, x, width, eps);
  const heads4 = (t: string, perm: number[]) => g.transpose(g.reshape(t, [0, 0, heads, dh]), perm);
  const q = heads4(linear(g, read, `${prefix}.self_attn.q_proj`, h, width, width, { scale: 1 / Math.sqrt(dh) }), [0, 2, 1, 3]);
  const kT = heads4(linear(g, read, `${prefix}.self_attn.k_proj`, h, width, width), [0, 2, 3, 1]);
  const v = heads4(linear(g, read, `${prefix}.self_attn.v_proj`, h, width, width), [0, 2, 1, 3]);
  let scores = g.matMul(q, kT);
  if (mask) scores = g.add(scores, mask);
  const context = g.reshape(g.transpose(g.matMul(g.softmax(scores), v), [0, 2, 1, 3]), [0, 0, width]);
  const x1 = g.add(x, linear(g, read, `${prefix}.self_attn.out_proj`, context, width, width));
  const inner = g.quickGelu(linear(g, read, `${prefix}.mlp.fc1`, layerNorm(g, read, `${prefix}.layer_norm2`, x1, width, eps), mlp, width));
  return g.add(x1, linear(g, read, `${prefix}.mlp.fc2`, inner, width, mlp));
}

/** pixel_values [batch, channels, size, size] (CLIP-normalised) → image_embeds [batch, projection]. */
export function visionGraph(config: ClipConfig, read: WeightReader): GraphSpec {
  const v = config.vision;
  const grid = v.imageSize / v.patchSize;
  const tokens = grid * grid + 1;
  const g = new GraphBuilder('clip_vision');
  const pixels = g.input('pixel_values', ['batch', v.channels, v.imageSize, v.imageSize]);
  const patchW = g.weight('patch_embedding.weight', [v.width, v.channels, v.patchSize, v.patchSize], read('vision_model.embeddings.patch_embedding.weight'));
  const conv = g.op('Conv', [pixels, patchW], { kernel_shape: [v.patchSize, v.patchSize], strides: [v.patchSize, v.patchSize] });
  const patches = g.transpose(g.reshape(conv, [0, 0, -1]), [0, 2, 1]);
  // One zero row in front of the patches takes the class embedding: adding (class + position 0) to it
  // equals concatenating the class token and adding positions, without a batch-sized Expand.
  const padded = g.op('Pad', [patches, g.ints([0, 1, 0, 0, 0, 0])]);
  const cls = read('vision_model.embeddings.class_embedding');
  const positions = read('vision_model.embeddings.position_embedding.weight');
  const start = new Float32Array(positions);
  for (let i = 0; i < v.width; i++) start[i] = cls[i]! + positions[i]!;
  let x = g.add(padded, g.weight('position_and_class', [tokens, v.width], start));
  x = layerNorm(g, read, 'vision_model.pre_layrnorm', x, v.width, v.eps);
  for (let i = 0; i < v.layers; i++) x = block(g, read, `vision_model.encoder.layers.${i}`, v, x, null);
  const first = g.op('Gather', [x, g.ints([0], [])], { axis: 1 });
  const pooled = layerNorm(g, read, 'vision_model.post_layernorm', first, v.width, v.eps);
  const out = linear(g, read, 'visual_projection', pooled, config.projectionDim, v.width, { bias: false });
  g.output(out, 'image_embeds', ['batch', config.projectionDim]);
  return g.build();
}

/**
 * input_ids [batch, tokens] (int64, tokens ≤ context length) and eot_index [batch] (int64) →
 * text_embeds [batch, projection]. The final LayerNorm is per token, so it runs after pooling.
 */
export function textGraph(config: ClipConfig, read: WeightReader): GraphSpec {
  const t = config.text;
  const ctx = t.contextLength;
  const g = new GraphBuilder('clip_text');
  const ids = g.input('input_ids', ['batch', 'tokens'], 7);
  const eot = g.input('eot_index', ['batch'], 7);
  const table = g.weight('token_embedding', [t.vocabSize, t.width], read('text_model.embeddings.token_embedding.weight'));
  const embeds = g.op('Gather', [table, ids], { axis: 0 });
  const length = g.op('Slice', [g.op('Shape', [ids]), g.ints([1]), g.ints([2])]);
  const positions = g.op('Slice', [
    g.weight('position_embedding', [ctx, t.width], read('text_model.embeddings.position_embedding.weight')),
    g.ints([0]),
    length,
    g.ints([0])
  ]);
  const causal = new Float32Array(ctx * ctx);
  for (let i = 0; i < ctx; i++) for (let j = i + 1; j < ctx; j++) causal[i * ctx + j] = -1e9;
  const square = g.op('Concat', [length, length], { axis: 0 });
  const mask = g.op('Slice', [g.weight('causal_mask', [ctx, ctx], causal), g.ints([0, 0]), square, g.ints([0, 1])]);
  let x = g.add(embeds, positions);
  for (let i = 0; i < t.layers; i++) x = block(g, read, `text_model.encoder.layers.${i}`, t, x, mask);
  const pooled = g.op('GatherND', [x, g.op('Unsqueeze', [eot, g.ints([1])])], { batch_dims: 1 });
  const normed = layerNorm(g, read, 'text_model.final_layer_norm', pooled, t.width, t.eps);
  const out = linear(g, read, 'text_projection', normed, config.projectionDim, t.width, { bias: false });
  g.output(out, 'text_embeds', ['batch', config.projectionDim]);
  return g.build();
}
