/**
 * The frozen text tower for prompt learning as two inference graphs: a forward pass that also returns
 * the activations its backward needs, and the backward pass itself (the vector-Jacobian product from
 * d loss / d features to d loss / d input embeddings). The weights are frozen, so the backward is a
 * fixed feed-forward graph of ordinary ops and needs no weight gradients: about one forward's work.
 *
 * Closed forms used (per token row, width W):
 * - LayerNorm: dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dy·γ
 * - softmax attention P = softmax(QKᵀ + mask): dP = dC·Vᵀ, dV = Pᵀ·dC, dS = P⊙(dP − Σ_j dP⊙P),
 *   dQ = dS·K, dK = dSᵀ·Q (the 1/√d scale is folded into the query projection's weights)
 * - quick-GELU g = a·σ(1.702a): dg/da = s + 1.702·a·s·(1 − s), s = σ(1.702a)
 * - dense y = x·W (W stored [in, out]): dx = dy·Wᵀ, a Gemm with transB on the same initializer.
 */
import type { ClipConfig, TowerConfig } from '../config';
import { type WeightReader, transpose2d } from './clip-graphs';
import { GraphBuilder } from './graph-builder';
import type { GraphSpec } from './proto';

/** The names of the activations one block saves for its backward. */
export function savedNames(layer: number): { x: string; q: string; k: string; v: string; p: string; x1: string; a: string } {
  return {
    x: `saved_x_${layer}`,
    q: `saved_q_${layer}`,
    k: `saved_k_${layer}`,
    v: `saved_v_${layer}`,
    p: `saved_p_${layer}`,
    x1: `saved_x1_${layer}`,
    a: `saved_a_${layer}`
  };
}
export const SAVED_LAST = 'saved_x_last';

export interface BlockWeights {
  ln1: [string, string];
  ln2: [string, string];
  q: [string, string];
  k: [string, string];
  v: [string, string];
  out: [string, string];
  fc1: [string, string];
  fc2: [string, string];
}

export function blockWeights(g: GraphBuilder, read: WeightReader, c: TowerConfig, layer: number): BlockWeights {
  const prefix = `text_model.encoder.layers.${layer}`;
  const { width, heads, mlp } = c;
  const scale = 1 / Math.sqrt(width / heads);
  const dense = (name: string, out: number, inp: number, s = 1): [string, string] => [
    g.weight(`${prefix}.${name}.weightT`, [inp, out], transpose2d(read(`${prefix}.${name}.weight`), out, inp, s)),
    g.weight(`${prefix}.${name}.bias`, [out], s === 1 ? read(`${prefix}.${name}.bias`) : read(`${prefix}.${name}.bias`).map((x) => x * s))
  ];
  const norm = (name: string): [string, string] => [
    g.weight(`${prefix}.${name}.weight`, [width], read(`${prefix}.${name}.weight`)),
    g.weight(`${prefix}.${name}.bias`, [width], read(`${prefix}.${name}.bias`))
  ];
  return {
    ln1: norm('layer_norm1'),
    ln2: norm('layer_norm2'),
    q: dense('self_attn.q_proj', width, width, scale),
    k: dense('self_attn.k_proj', width, width),
    v: dense('self_attn.v_proj', width, width),
    out: dense('self_attn.out_proj', width, width),
    fc1: dense('mlp.fc1', mlp, width),
    fc2: dense('mlp.fc2', width, mlp)
  };
}

export function headWeights(g: GraphBuilder, read: WeightReader, config: ClipConfig) {
  const t = config.text;
  return {
    ln: [
      g.weight('final_ln.weight', [t.width], read('text_model.final_layer_norm.weight')),
      g.weight('final_ln.bias', [t.width], read('text_model.final_layer_norm.bias'))
    ] as [string, string],
    proj: g.weight('text_projection.weightT', [t.width, config.projectionDim], transpose2d(read('text_projection.weight'), config.projectionDim, t.width))
  };
}

/** The head on rows [B, T, W]: pooled at each row's EOT (one-hot [B, T]), final LayerNorm, projection. */
export function headForward(g: GraphBuilder, head: ReturnType<typeof headWeights>, onehot: string, rows3: string, config: ClipConfig): string {
  const t = config.text;
  const pooled = g.reshape(g.matMul(g.op('Unsqueeze', [onehot, g.ints([1])]), rows3), [-1, t.width]);
  return g.dense(g.layerNorm(pooled, head.ln[0], head.ln[1], t.eps), head.proj, null);
}

/** The head's backward: d loss / d rows [B·T, W] (non-zero at each row's EOT only) from d features. */
export function headBackward(g: GraphBuilder, head: ReturnType<typeof headWeights>, onehot: string, rows3: string, dF: string, config: ClipConfig): string {
  const t = config.text;
  const pooled = g.reshape(g.matMul(g.op('Unsqueeze', [onehot, g.ints([1])]), rows3), [-1, t.width]);
  const dPooled = layerNormBackward(g, pooled, head.ln[0], denseBackward(g, dF, head.proj), t.eps);
  return g.reshape(g.mul(g.op('Unsqueeze', [onehot, g.ints([2])]), g.op('Unsqueeze', [dPooled, g.ints([1])])), [-1, t.width]);
}

/** Shapes every graph needs from its [batch, tokens] input: [B, T, H, dh] and the causal mask [T, T]. */
function commonShapes(g: GraphBuilder, read: WeightReader, config: ClipConfig, shaped: string) {
  const t = config.text;
  const bt = g.op('Slice', [g.op('Shape', [shaped]), g.ints([0]), g.ints([2])]);
  const heads4 = g.op('Concat', [bt, g.ints([t.heads, t.width / t.heads])], { axis: 0 });
  const length = g.op('Slice', [bt, g.ints([1]), g.ints([2])]);
  const ctx = t.contextLength;
  const causal = new Float32Array(ctx * ctx);
  for (let i = 0; i < ctx; i++) for (let j = i + 1; j < ctx; j++) causal[i * ctx + j] = -1e9;
  const mask = g.op('Slice', [g.weight('causal_mask', [ctx, ctx], causal), g.ints([0, 0]), g.op('Concat', [length, length], { axis: 0 }), g.ints([0, 1])]);
  const positions = g.op('Slice', [
    g.weight('position_embedding', [ctx, t.width], read('text_model.embeddings.position_embedding.weight')),
    g.ints([0]),
    length,
    g.ints([0])
  ]);
  return { heads4, mask, positions };
}

/**
 * embeds [B, T, W] and eot_onehot [B, T] → features [B, P] and, per block, the saved activations
 * (block input x, scaled Q, K, V as [B, H, T, dh], attention P, mid-block residual x1, fc1 output a),
 * plus the last block's output. The residual stream is [B·T, W].
 */
export function textTrainForwardGraph(config: ClipConfig, read: WeightReader): GraphSpec {
  const t = config.text;
  const g = new GraphBuilder('clip_text_train_forward');
  const embeds = g.input('embeds', ['batch', 'tokens', t.width]);
  const onehot = g.input('eot_onehot', ['batch', 'tokens']);
  const { heads4, mask, positions } = commonShapes(g, read, config, onehot);
  let x = g.reshape(g.add(embeds, positions), [-1, t.width]);
  for (let i = 0; i < t.layers; i++) {
    const w = blockWeights(g, read, t, i);
    const names = savedNames(i);
    g.output(x, names.x, ['rows', t.width]);
    const h = g.layerNorm(x, w.ln1[0], w.ln1[1], t.eps);
    const split = (y: string) => g.transpose(g.op('Reshape', [y, heads4]), [0, 2, 1, 3]);
    const q = split(g.dense(h, ...w.q));
    const k = split(g.dense(h, ...w.k));
    const v = split(g.dense(h, ...w.v));
    const p = g.softmax(g.add(g.matMul(q, g.transpose(k, [0, 1, 3, 2])), mask));
    g.output(q, names.q, ['batch', t.heads, 'tokens', t.width / t.heads]);
    g.output(k, names.k, ['batch', t.heads, 'tokens', t.width / t.heads]);
    g.output(v, names.v, ['batch', t.heads, 'tokens', t.width / t.heads]);
    g.output(p, names.p, ['batch', t.heads, 'tokens', 'tokens']);
    const context = g.reshape(g.transpose(g.matMul(p, v), [0, 2, 1, 3]), [-1, t.width]);
    const x1 = g.add(x, g.dense(context, ...w.out));
    g.output(x1, names.x1, ['rows', t.width]);
    const a = g.dense(g.layerNorm(x1, w.ln2[0], w.ln2[1], t.eps), ...w.fc1);
    g.output(a, names.a, ['rows', t.mlp]);
    x = g.add(x1, g.dense(g.quickGelu(a), ...w.fc2));
  }
  g.output(x, SAVED_LAST, ['rows', t.width]);
  const head = headWeights(g, read, config);
  const features = headForward(g, head, onehot, g.op('Reshape', [x, g.op('Shape', [embeds])]), config);
  g.output(features, 'features', ['batch', config.projectionDim]);
  return g.build();
}

/** LayerNorm's input gradient from the saved input x (statistics recomputed) and dy. */
export function layerNormBackward(g: GraphBuilder, x: string, gamma: string, dy: string, eps: number): string {
  const mean = (y: string) => g.op('ReduceMean', [y], { axes: [-1], keepdims: 1 });
  const centred = g.sub(x, mean(x));
  const rstd = g.op('Reciprocal', [g.op('Sqrt', [g.add(mean(g.mul(centred, centred)), g.scalar(eps))])]);
  const xhat = g.mul(centred, rstd);
  const dxhat = g.mul(dy, gamma);
  return g.mul(rstd, g.sub(g.sub(dxhat, mean(dxhat)), g.mul(xhat, mean(g.mul(dxhat, xhat)))));
}

/** dy·Wᵀ for a weight stored [in, out], on rows [N, out]. */
export function denseBackward(g: GraphBuilder, dy: string, wIn: string): string {
  return g.op('Gemm', [dy, wIn], { transB: 1 });
}

/** The MLP half of a block, y = x1 + fc2(gelu(fc1(LN2(x1)))): d x1 from dy, the saved x1 and fc1 output a. */
export function mlpBackward(g: GraphBuilder, w: BlockWeights, dy: string, x1: string, a: string, eps: number): string {
  const s = g.sigmoid(g.mul(a, g.scalar(1.702)));
  const geluGrad = g.add(s, g.mul(g.mul(g.mul(a, g.scalar(1.702)), s), g.sub(g.scalar(1), s)));
  const da = g.mul(denseBackward(g, dy, w.fc2[0]), geluGrad);
  return g.add(dy, layerNormBackward(g, x1, w.ln2[0], denseBackward(g, da, w.fc1[0]), eps));
}

/** Softmax's input gradient from its output P and dP: P ⊙ (dP − Σ_j dP ⊙ P). */
export function softmaxBackward(g: GraphBuilder, p: string, dP: string): string {
  return g.mul(p, g.sub(dP, g.op('ReduceSum', [g.mul(dP, p), g.ints([-1])], { keepdims: 1 })));
}

/** Saved activations + eot_onehot [B, T] + d_features [B, P] → d_embeds [B, T, W]. */
export function textTrainBackwardGraph(config: ClipConfig, read: WeightReader): GraphSpec {
  const t = config.text;
  const dh = t.width / t.heads;
  const g = new GraphBuilder('clip_text_train_backward');
  const onehot = g.input('eot_onehot', ['batch', 'tokens']);
  const dF = g.input('d_features', ['batch', config.projectionDim]);
  const { heads4 } = commonShapes(g, read, config, onehot);
  const last = g.input(SAVED_LAST, ['rows', t.width]);
  const head = headWeights(g, read, config);
  // Head: pooled = onehotᵀ·x_last per row; features = LN(pooled)·W_proj.
  const rowsShape = g.op('Concat', [g.op('Slice', [g.op('Shape', [onehot]), g.ints([0]), g.ints([2])]), g.ints([t.width])], { axis: 0 });
  const last3 = g.op('Reshape', [last, rowsShape]);
  let dx = headBackward(g, head, onehot, last3, dF, config);

  for (let i = t.layers - 1; i >= 0; i--) {
    const w = blockWeights(g, read, t, i);
    const n = savedNames(i);
    const x = g.input(n.x, ['rows', t.width]);
    const q = g.input(n.q, ['batch', t.heads, 'tokens', dh]);
    const k = g.input(n.k, ['batch', t.heads, 'tokens', dh]);
    const v = g.input(n.v, ['batch', t.heads, 'tokens', dh]);
    const p = g.input(n.p, ['batch', t.heads, 'tokens', 'tokens']);
    const x1 = g.input(n.x1, ['rows', t.width]);
    const a = g.input(n.a, ['rows', t.mlp]);
    const dx1 = mlpBackward(g, w, dx, x1, a, t.eps);
    // Attention: x1 = x + out(merge(P·V)), P = softmax(Q·Kᵀ + mask), Q, K, V from LN1(x).
    const dC = g.transpose(g.op('Reshape', [denseBackward(g, dx1, w.out[0]), heads4]), [0, 2, 1, 3]);
    const dP = g.matMul(dC, g.transpose(v, [0, 1, 3, 2]));
    const dV = g.matMul(g.transpose(p, [0, 1, 3, 2]), dC);
    const dS = softmaxBackward(g, p, dP);
    const dQ = g.matMul(dS, k);
    const dK = g.matMul(g.transpose(dS, [0, 1, 3, 2]), q);
    const merge = (y: string) => g.reshape(g.transpose(y, [0, 2, 1, 3]), [-1, t.width]);
    const dH = g.add(g.add(denseBackward(g, merge(dQ), w.q[0]), denseBackward(g, merge(dK), w.k[0])), denseBackward(g, merge(dV), w.v[0]));
    dx = g.add(dx1, layerNormBackward(g, x, w.ln1[0], dH, t.eps));
  }
  g.output(g.op('Reshape', [dx, rowsShape]), 'd_embeds', ['batch', 'tokens', t.width]);
  return g.build();
}
