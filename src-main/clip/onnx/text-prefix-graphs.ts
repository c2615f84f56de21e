/**
 * The prompt-learning text graphs for rows that share a prefix (one expert: SOT and its prefix context
 * vectors, the same for every class). Causal attention makes the prefix's hidden states identical in
 * every row, so they are computed once ([1, Lp] tokens) and every row's remaining tokens ([N, Lr])
 * attend to the prefix's keys and values next to their own. The backward sums the rows' gradients
 * with respect to the prefix's keys and values into the prefix stream, layer by layer.
 *
 * Inputs of the forward graph: prefix_embeds [1, Lp, W], rest_embeds [N, Lr, W], eot_onehot [N, Lr]
 * (EOT relative to the rest). Positions: prefix 0..Lp−1, rest Lp..Lp+Lr−1.
 */
import type { ClipConfig } from '../config';
import type { WeightReader } from './clip-graphs';
import { GraphBuilder } from './graph-builder';
import type { GraphSpec } from './proto';
import { blockWeights, denseBackward, headBackward, headForward, headWeights, layerNormBackward, mlpBackward, softmaxBackward } from './text-train-graphs';

export function prefixSavedNames(
  layer: number
): Record<'xp' | 'qp' | 'kp' | 'vp' | 'pp' | 'xp1' | 'ap' | 'xr' | 'qr' | 'kr' | 'vr' | 'pr' | 'xr1' | 'ar', string> {
  const names = ['xp', 'qp', 'kp', 'vp', 'pp', 'xp1', 'ap', 'xr', 'qr', 'kr', 'vr', 'pr', 'xr1', 'ar'] as const;
  return Object.fromEntries(names.map((n) => [n, `saved_${n}_${layer}`])) as Record<(typeof names)[number], string>;
}
export const PREFIX_SAVED_LAST = 'saved_xr_last';

/** Shapes, masks and positions from the two streams' [batch, tokens] shapes. */
function shapes(g: GraphBuilder, read: WeightReader, config: ClipConfig, prefixShaped: string, restShaped: string) {
  const t = config.text;
  const ctx = t.contextLength;
  const dh = t.width / t.heads;
  const bt = (x: string) => g.op('Slice', [g.op('Shape', [x]), g.ints([0]), g.ints([2])]);
  const btp = bt(prefixShaped);
  const btr = bt(restShaped);
  const lp = g.op('Slice', [btp, g.ints([1]), g.ints([2])]);
  const lr = g.op('Slice', [btr, g.ints([1]), g.ints([2])]);
  const n = g.op('Slice', [btr, g.ints([0]), g.ints([1])]);
  const total = g.add(lp, lr);
  const causal = new Float32Array(ctx * ctx);
  for (let i = 0; i < ctx; i++) for (let j = i + 1; j < ctx; j++) causal[i * ctx + j] = -1e9;
  const full = g.weight('causal_mask', [ctx, ctx], causal);
  const maskP = g.op('Slice', [full, g.ints([0, 0]), g.op('Concat', [lp, lp], { axis: 0 }), g.ints([0, 1])]);
  const maskR = g.op('Slice', [full, g.op('Concat', [lp, g.ints([0])], { axis: 0 }), g.op('Concat', [total, total], { axis: 0 }), g.ints([0, 1])]);
  const positions = g.weight('position_embedding', [ctx, t.width], read('text_model.embeddings.position_embedding.weight'));
  return {
    headsP: g.op('Concat', [btp, g.ints([t.heads, dh])], { axis: 0 }),
    headsR: g.op('Concat', [btr, g.ints([t.heads, dh])], { axis: 0 }),
    /** [N, H, Lp, dh]: the prefix's keys or values repeated for every row. */
    expandTo: g.op('Concat', [n, g.ints([t.heads]), lp, g.ints([dh])], { axis: 0 }),
    rowsShape: g.op('Concat', [btr, g.ints([t.width])], { axis: 0 }),
    prefixShape: g.op('Concat', [btp, g.ints([t.width])], { axis: 0 }),
    lp,
    maskP,
    maskR,
    posP: g.op('Slice', [positions, g.ints([0]), lp, g.ints([0])]),
    posR: g.op('Slice', [positions, lp, total, g.ints([0])])
  };
}

export function prefixTrainForwardGraph(config: ClipConfig, read: WeightReader): GraphSpec {
  const t = config.text;
  const dh = t.width / t.heads;
  const g = new GraphBuilder('clip_text_prefix_forward');
  const pe = g.input('prefix_embeds', [1, 'prefix', t.width]);
  const re = g.input('rest_embeds', ['batch', 'tokens', t.width]);
  const onehot = g.input('eot_onehot', ['batch', 'tokens']);
  const s = shapes(g, read, config, pe, re);
  let xp = g.reshape(g.add(pe, s.posP), [-1, t.width]);
  let xr = g.reshape(g.add(re, s.posR), [-1, t.width]);
  for (let i = 0; i < t.layers; i++) {
    const w = blockWeights(g, read, t, i);
    const n = prefixSavedNames(i);
    const split = (y: string, heads: string) => g.transpose(g.op('Reshape', [y, heads]), [0, 2, 1, 3]);
    g.output(xp, n.xp, ['prefix', t.width]);
    g.output(xr, n.xr, ['rows', t.width]);
    const hp = g.layerNorm(xp, w.ln1[0], w.ln1[1], t.eps);
    const hr = g.layerNorm(xr, w.ln1[0], w.ln1[1], t.eps);
    const qp = split(g.dense(hp, ...w.q), s.headsP);
    const kp = split(g.dense(hp, ...w.k), s.headsP);
    const vp = split(g.dense(hp, ...w.v), s.headsP);
    const qr = split(g.dense(hr, ...w.q), s.headsR);
    const kr = split(g.dense(hr, ...w.k), s.headsR);
    const vr = split(g.dense(hr, ...w.v), s.headsR);
    const pp = g.softmax(g.add(g.matMul(qp, g.transpose(kp, [0, 1, 3, 2])), s.maskP));
    const kAll = g.op('Concat', [g.op('Expand', [kp, s.expandTo]), kr], { axis: 2 });
    const vAll = g.op('Concat', [g.op('Expand', [vp, s.expandTo]), vr], { axis: 2 });
    const pr = g.softmax(g.add(g.matMul(qr, g.transpose(kAll, [0, 1, 3, 2])), s.maskR));
    for (const [value, name, dims] of [
      [qp, n.qp, [1, t.heads, 'prefix', dh]],
      [kp, n.kp, [1, t.heads, 'prefix', dh]],
      [vp, n.vp, [1, t.heads, 'prefix', dh]],
      [pp, n.pp, [1, t.heads, 'prefix', 'prefix']],
      [qr, n.qr, ['batch', t.heads, 'tokens', dh]],
      [kr, n.kr, ['batch', t.heads, 'tokens', dh]],
      [vr, n.vr, ['batch', t.heads, 'tokens', dh]],
      [pr, n.pr, ['batch', t.heads, 'tokens', 'all']]
    ] as const)
      g.output(value, name, [...dims]);
    const merge = (y: string) => g.reshape(g.transpose(y, [0, 2, 1, 3]), [-1, t.width]);
    const xp1 = g.add(xp, g.dense(merge(g.matMul(pp, vp)), ...w.out));
    const xr1 = g.add(xr, g.dense(merge(g.matMul(pr, vAll)), ...w.out));
    g.output(xp1, n.xp1, ['prefix', t.width]);
    g.output(xr1, n.xr1, ['rows', t.width]);
    const ap = g.dense(g.layerNorm(xp1, w.ln2[0], w.ln2[1], t.eps), ...w.fc1);
    const ar = g.dense(g.layerNorm(xr1, w.ln2[0], w.ln2[1], t.eps), ...w.fc1);
    g.output(ap, n.ap, ['prefix', t.mlp]);
    g.output(ar, n.ar, ['rows', t.mlp]);
    xp = g.add(xp1, g.dense(g.quickGelu(ap), ...w.fc2));
    xr = g.add(xr1, g.dense(g.quickGelu(ar), ...w.fc2));
  }
  g.output(xr, PREFIX_SAVED_LAST, ['rows', t.width]);
  const head = headWeights(g, read, config);
  g.output(headForward(g, head, onehot, g.op('Reshape', [xr, s.rowsShape]), config), 'features', ['batch', config.projectionDim]);
  return g.build();
}

/** Saved activations + eot_onehot + d_features → d_prefix [1, Lp, W] and d_rest [N, Lr, W]. */
export function prefixTrainBackwardGraph(config: ClipConfig, read: WeightReader): GraphSpec {
  const t = config.text;
  const dh = t.width / t.heads;
  const g = new GraphBuilder('clip_text_prefix_backward');
  const onehot = g.input('eot_onehot', ['batch', 'tokens']);
  const dF = g.input('d_features', ['batch', config.projectionDim]);
  // The prefix's [1, Lp] shape, from a saved [1, H, Lp, dh] tensor.
  const firstQp = g.input(prefixSavedNames(0).qp, [1, t.heads, 'prefix', dh]);
  const prefixShaped = g.op('Gather', [g.op('Shape', [firstQp]), g.ints([0, 2])], { axis: 0 }, 'prefix_bt');
  const s = shapes(g, read, config, g.op('ConstantOfShape', [prefixShaped]), onehot);
  const head = headWeights(g, read, config);
  const last = g.input(PREFIX_SAVED_LAST, ['rows', t.width]);
  let dxr = headBackward(g, head, onehot, g.op('Reshape', [last, s.rowsShape]), dF, config);
  let dxp: string | null = null;
  const headsOf = (y: string, shape: string) => g.transpose(g.op('Reshape', [y, shape]), [0, 2, 1, 3]);
  const merge = (y: string) => g.reshape(g.transpose(y, [0, 2, 1, 3]), [-1, t.width]);
  const tr = (x: string) => g.transpose(x, [0, 1, 3, 2]);

  for (let i = t.layers - 1; i >= 0; i--) {
    const w = blockWeights(g, read, t, i);
    const n = prefixSavedNames(i);
    const inp = (name: string, dims: (number | string)[]) => (name === prefixSavedNames(0).qp ? firstQp : g.input(name, dims));
    const xp = inp(n.xp, ['prefix', t.width]);
    const qp = inp(n.qp, [1, t.heads, 'prefix', dh]);
    const kp = inp(n.kp, [1, t.heads, 'prefix', dh]);
    const vp = inp(n.vp, [1, t.heads, 'prefix', dh]);
    const pp = inp(n.pp, [1, t.heads, 'prefix', 'prefix']);
    const xp1 = inp(n.xp1, ['prefix', t.width]);
    const ap = inp(n.ap, ['prefix', t.mlp]);
    const xr = inp(n.xr, ['rows', t.width]);
    const qr = inp(n.qr, ['batch', t.heads, 'tokens', dh]);
    const kr = inp(n.kr, ['batch', t.heads, 'tokens', dh]);
    const vr = inp(n.vr, ['batch', t.heads, 'tokens', dh]);
    const pr = inp(n.pr, ['batch', t.heads, 'tokens', 'all']);
    const xr1 = inp(n.xr1, ['rows', t.width]);
    const ar = inp(n.ar, ['rows', t.mlp]);

    // Rows: MLP, then attention over [prefix keys | own keys].
    const dxr1 = mlpBackward(g, w, dxr, xr1, ar, t.eps);
    const kAll = g.op('Concat', [g.op('Expand', [kp, s.expandTo]), kr], { axis: 2 });
    const vAll = g.op('Concat', [g.op('Expand', [vp, s.expandTo]), vr], { axis: 2 });
    const dCr = headsOf(denseBackward(g, dxr1, w.out[0]), s.headsR);
    const dSr = softmaxBackward(g, pr, g.matMul(dCr, tr(vAll)));
    const dVall = g.matMul(tr(pr), dCr);
    const dKall = g.matMul(tr(dSr), qr);
    const dqr = g.matMul(dSr, kAll);
    const prefixPart = (x: string) => g.op('ReduceSum', [g.op('Slice', [x, g.ints([0]), s.lp, g.ints([2])]), g.ints([0])], { keepdims: 1 });
    const restPart = (x: string) => g.op('Slice', [x, s.lp, g.ints([2 ** 30]), g.ints([2])]);
    const dhr = g.add(
      g.add(denseBackward(g, merge(dqr), w.q[0]), denseBackward(g, merge(restPart(dKall)), w.k[0])),
      denseBackward(g, merge(restPart(dVall)), w.v[0])
    );
    dxr = g.add(dxr1, layerNormBackward(g, xr, w.ln1[0], dhr, t.eps));

    // Prefix: its own MLP and causal attention, plus what the rows' attention sends to its keys and values.
    let dkp = prefixPart(dKall);
    let dvp = prefixPart(dVall);
    let dqp: string | null = null;
    let dxp1: string | null = null;
    if (dxp) {
      dxp1 = mlpBackward(g, w, dxp, xp1, ap, t.eps);
      const dCp = headsOf(denseBackward(g, dxp1, w.out[0]), s.headsP);
      const dSp = softmaxBackward(g, pp, g.matMul(dCp, tr(vp)));
      dvp = g.add(dvp, g.matMul(tr(pp), dCp));
      dkp = g.add(dkp, g.matMul(tr(dSp), qp));
      dqp = g.matMul(dSp, kp);
    }
    let dhp = g.add(denseBackward(g, merge(dkp), w.k[0]), denseBackward(g, merge(dvp), w.v[0]));
    if (dqp) dhp = g.add(dhp, denseBackward(g, merge(dqp), w.q[0]));
    const dLn = layerNormBackward(g, xp, w.ln1[0], dhp, t.eps);
    dxp = dxp1 ? g.add(dxp1, dLn) : dLn;
  }
  g.output(g.op('Reshape', [dxp!, s.prefixShape]), 'd_prefix', [1, 'prefix', t.width]);
  g.output(g.op('Reshape', [dxr, s.rowsShape]), 'd_rest', ['batch', 'tokens', t.width]);
  return g.build();
}
