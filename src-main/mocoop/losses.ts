/**
 * MoCoOp's objective (docs/ARCHITECTURE.md §1, preset "paper"): L = L_ce + λ1·L_gate + λ2·L_text, as a
 * function of the experts' raw text features and the router parameters, written in tfjs so that
 * tf.grads gives its gradients.
 */
import { type Tensor, type Tensor1D, type Tensor2D, tf } from '../clip/tf';
import { topKIndices } from './top-k';

export interface LossSettings {
  /** 'paper': the equations of docs/ARCHITECTURE.md §1; 'released-code': what the authors' public code does. */
  preset?: 'paper' | 'released-code';
  /** CLIP's exp(logit_scale), used by the released-code preset for classification logits. */
  logitScale?: number;
  topK: number;
  tauCe: number;
  tauGate: number;
  tauText: number;
  lambda1: number;
  lambda2: number;
  /** KgCoOp: weight of mean_c (1 − cos(t(c), h(c))) against the first group's first hand-written prompt. */
  lambdaKg?: number;
}

export interface FrozenTargets {
  /** hard[j]: [templates of group j, all classes A, P], L2-normalised hand-written prompt features. */
  hard: Tensor[];
  /** [G, P]: g_j = mean of h_(j,i)(c) over real classes and templates (not renormalised). */
  groupFeatures: Tensor2D;
}

export interface Batch {
  /** [B, P], L2-normalised image features. */
  images: Tensor2D;
  labels: number[];
}

export interface LossValues {
  L: Tensor;
  Lce: Tensor;
  Lgate: Tensor;
  Ltext: Tensor;
  /** KgCoOp's knowledge term mean_c (1 − cos(t(c), h(c))), unweighted (0 when λ_kg is 0). */
  Lkg: Tensor;
  logitsCe: Tensor2D;
}

const l2 = (x: Tensor, axis = -1) => tf.div(x, tf.norm(x, 'euclidean', axis, true));

/** Router probabilities r(x) = softmax(W f_x + b): [B, G]. */
export function routerLogits(images: Tensor2D, W: Tensor2D, b: Tensor1D): Tensor2D {
  return tf.add(tf.matMul(images, W, false, true), b) as Tensor2D;
}

/** S_x: the K experts with the largest r, ties to the lower index, as a 0/1 mask [B, G] (and the indices). */
export function topKMask(probs: Float32Array | number[], batch: number, experts: number, k: number): { mask: Float32Array; indices: number[][] } {
  const mask = new Float32Array(batch * experts);
  const indices: number[][] = [];
  for (let n = 0; n < batch; n++) {
    const chosen = topKIndices(probs, k, n * experts, experts);
    chosen.forEach((j) => (mask[n * experts + j] = 1));
    indices.push(chosen);
  }
  return { mask, indices };
}

/** p_hard(x) = softmax_j(cos(f_x, g_j) / τ_gate): [B, G] (no gradient flows into it). */
export function hardGate(images: Tensor2D, groupFeatures: Tensor2D, tauGate: number): Tensor2D {
  return tf.tidy(() => tf.softmax(tf.div(tf.matMul(images, l2(groupFeatures) as Tensor2D, false, true), tauGate)) as Tensor2D);
}

const crossEntropy = (logits: Tensor2D, targets: number[]) => {
  const oneHot = tf.oneHot(tf.tensor1d(targets, 'int32'), logits.shape[1]);
  return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1)));
};

export interface ReleasedCodeTargets {
  /** [G, A, P]: normalised mean over group j's templates of h_(j,i)(a). */
  prototypes: Tensor;
  /** [B, G]: softmax of cos(f_x, prototype_j(true class)) with +10 on its two largest entries. */
  gateTarget: Tensor2D;
}

/** The released code's gate target: per image, cosines to the true class's group prototypes, top two boosted. */
export function releasedGateTarget(images: Tensor2D, prototypes: Tensor, labels: number[]): Tensor2D {
  return tf.tidy(() => {
    const [G, , P] = prototypes.shape as [number, number, number];
    const B = labels.length;
    const perImage = labels.map((y) => tf.reshape(tf.slice(prototypes, [0, y, 0], [G, 1, P]), [G, P]));
    const protos = tf.stack(perImage) as Tensor;
    const cos = tf.sum(tf.mul(tf.expandDims(images, 1), protos), -1);
    const values = cos.arraySync() as number[][];
    const boost = new Float32Array(B * G);
    values.forEach((row, n) => {
      const top = row
        .map((v, j) => [v, j] as const)
        .sort((a, b) => b[0] - a[0] || a[1] - b[1])
        .slice(0, Math.min(2, G));
      top.forEach(([, j]) => (boost[n * G + j] = 10));
    });
    return tf.softmax(tf.add(cos, tf.tensor2d(boost, [B, G]))) as Tensor2D;
  });
}

export interface LossContext {
  experts: number;
  /** Real classes C (the first C of the A classes). */
  classes: number;
  allClasses: number;
  batch: Batch;
  targets: FrozenTargets;
  /** 0/1 top-K mask from the current router, fixed during one gradient evaluation. */
  topK: Tensor2D;
  pHard: Tensor2D;
  settings: LossSettings;
  released?: ReleasedCodeTargets;
}

/**
 * L_gate = mean_x KL(p_hard ‖ softmax(router logits)). p·log p → 0 as p → 0: an entry of p_hard that
 * underflowed to 0 (a tiny τ_gate) adds 0, not 0·(−∞) = NaN.
 */
export function gateKl(pHard: Tensor2D, routerLogits: Tensor2D): Tensor {
  return tf.mean(tf.sum(tf.mul(pHard, tf.sub(tf.log(tf.maximum(pHard, 1e-30)), tf.logSoftmax(routerLogits))), -1));
}

/**
 * KgCoOp's knowledge-guided term: mean over real classes c of 1 − cos(t_1(c), h_(1,1)(c)), the first
 * expert against the first group's first hand-written prompt. `features` are the raw text features
 * (under the released-code preset with the correction vector already added).
 */
export function knowledgeTerm(features: Tensor2D, ctx: Pick<LossContext, 'experts' | 'classes' | 'allClasses' | 'targets'>): Tensor {
  const { experts: G, classes: C, allClasses: A, targets } = ctx;
  const P = features.shape[1];
  const t = tf.reshape(l2(features), [G, A, P]);
  const t0 = tf.reshape(tf.slice(t, [0, 0, 0], [1, C, P]), [C, P]);
  const h0 = tf.reshape(tf.slice(targets.hard[0]!, [0, 0, 0], [1, C, P]), [C, P]);
  return tf.mean(tf.sub(1, tf.sum(tf.mul(t0, h0), -1)));
}

/**
 * The training objective of either preset, plus λ_kg times KgCoOp's knowledge term when λ_kg > 0.
 * The term is added here, once, so that it applies whatever the preset.
 */
export function mocoopLoss(features: Tensor2D, W: Tensor2D, b: Tensor1D, ctx: LossContext): LossValues {
  const values = ctx.settings.preset === 'released-code' ? releasedCodeLoss(features, W, b, ctx) : paperLoss(features, W, b, ctx);
  if (!ctx.settings.lambdaKg) return values;
  const Lkg = knowledgeTerm(features, ctx);
  return { ...values, L: tf.add(values.L, tf.mul(Lkg, ctx.settings.lambdaKg)), Lkg };
}

function paperLoss(features: Tensor2D, W: Tensor2D, b: Tensor1D, ctx: LossContext): LossValues {
  const { experts: G, classes: C, allClasses: A, batch, targets, settings } = ctx;
  const P = features.shape[1];
  const t = tf.reshape(l2(features), [G, A, P]);

  // Classification with the K-way mixture of expert class features.
  const logitsR = routerLogits(batch.images, W, b);
  const r = tf.softmax(logitsR);
  const rK = tf.mul(r, ctx.topK);
  const w = tf.div(rK, tf.sum(rK, -1, true));
  const tC = tf.reshape(tf.slice(t, [0, 0, 0], [G, C, P]), [G, C * P]);
  const mixed = tf.reshape(tf.matMul(w as Tensor2D, tC as Tensor2D), [-1, C, P]);
  const cos = tf.div(tf.sum(tf.mul(tf.expandDims(batch.images, 1), mixed), -1), tf.norm(mixed, 'euclidean', -1));
  const logitsCe = tf.div(cos, settings.tauCe) as Tensor2D;
  const Lce = crossEntropy(logitsCe, batch.labels);

  // Hard-prompt guided gating: KL(p_hard ‖ r).
  const pHard = ctx.pHard;
  const Lgate = gateKl(pHard, logitsR);

  // Semantically grouped text supervision over classes followed by virtual classes.
  const identity = Array.from({ length: A }, (_, y) => y);
  let textSum: Tensor = tf.scalar(0);
  let count = 0;
  for (let j = 0; j < G; j++) {
    const tj = tf.reshape(tf.slice(t, [j, 0, 0], [1, A, P]), [A, P]) as Tensor2D;
    const hard = targets.hard[j]!;
    const templates = hard.shape[0]!;
    for (let i = 0; i < templates; i++) {
      const h = tf.reshape(tf.slice(hard, [i, 0, 0], [1, A, P]), [A, P]) as Tensor2D;
      const logits = tf.div(tf.matMul(tj, h, false, true), settings.tauText) as Tensor2D;
      textSum = tf.add(textSum, tf.mul(crossEntropy(logits, identity), A));
      count += A;
    }
  }
  const Ltext = tf.div(textSum, count);
  const L = tf.add(tf.add(Lce, tf.mul(Lgate, settings.lambda1)), tf.mul(Ltext, settings.lambda2));
  return { L, Lce, Lgate, Ltext, Lkg: tf.scalar(0), logitsCe };
}

/**
 * The authors' released code, where it departs from the paper (KgCoOp's term is added by `mocoopLoss`,
 * as under the paper preset): classification logits = CLIP's logit
 * scale × f·m with m = Σ_top-K softmax(router logits over the top K)_j t_j (m not renormalised);
 * gate loss CE(router logits, q) with q from the true class's group prototypes; text loss with
 * unscaled cosines between each expert's features and its own group's prototypes of every class.
 * (The learnable correction vector is added to `features` by the caller.)
 */
function releasedCodeLoss(features: Tensor2D, W: Tensor2D, b: Tensor1D, ctx: LossContext): LossValues {
  const { experts: G, classes: C, allClasses: A, batch, settings } = ctx;
  const released = ctx.released!;
  const P = features.shape[1];
  const t = tf.reshape(l2(features), [G, A, P]);
  const logitsR = routerLogits(batch.images, W, b);
  // Softmax over the top-K router logits only: exp(l_j) masked to S_x, normalised over S_x.
  const maxed = tf.sub(logitsR, tf.max(logitsR, -1, true));
  const e = tf.mul(tf.exp(maxed), ctx.topK);
  const w = tf.div(e, tf.sum(e, -1, true));
  const tC = tf.reshape(tf.slice(t, [0, 0, 0], [G, C, P]), [G, C * P]);
  const mixed = tf.reshape(tf.matMul(w as Tensor2D, tC as Tensor2D), [-1, C, P]);
  const logitsCe = tf.mul(tf.sum(tf.mul(tf.expandDims(batch.images, 1), mixed), -1), settings.logitScale ?? 100) as Tensor2D;
  const Lce = crossEntropy(logitsCe, batch.labels);
  const Lgate = tf.neg(tf.mean(tf.sum(tf.mul(released.gateTarget, tf.logSoftmax(logitsR)), -1)));
  const identity = Array.from({ length: A }, (_, y) => y);
  let textSum: Tensor = tf.scalar(0);
  for (let j = 0; j < G; j++) {
    const tj = tf.reshape(tf.slice(t, [j, 0, 0], [1, A, P]), [A, P]) as Tensor2D;
    const pj = tf.reshape(tf.slice(released.prototypes, [j, 0, 0], [1, A, P]), [A, P]) as Tensor2D;
    textSum = tf.add(textSum, crossEntropy(tf.matMul(tj, pj, false, true) as Tensor2D, identity));
  }
  const Ltext = tf.div(textSum, G);
  const L = tf.add(tf.add(Lce, tf.mul(Lgate, settings.lambda1)), tf.mul(Ltext, settings.lambda2));
  return { L, Lce, Lgate, Ltext, Lkg: tf.scalar(0), logitsCe };
}
