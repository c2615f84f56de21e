/**
 * Linear probe by CoOp's protocol (its lpclip/linear_probe.py): multinomial logistic regression with
 * an L2 penalty on L2-normalised image features, fitted by L-BFGS as scikit-learn's
 * LogisticRegression(solver="lbfgs", max_iter=1000) does — objective mean CE + ‖W‖²/(2·C·N), the bias
 * unpenalised, stop when every gradient entry is within 1e-4 — and C chosen on a validation split:
 * first over 1e6, 1e4, …, 1e-6, then eight steps of CoOp's binary search around the best.
 * Plain float64 arithmetic, deterministic (weights start at zero).
 */

export interface LinearProbe {
  classes: number;
  dim: number;
  /** [C, P] */
  weights: Float32Array;
  bias: Float32Array;
}

export interface LogisticFit extends LinearProbe {
  C: number;
  iterations: number;
  loss: number;
}

function normalizeRows(features: Float32Array[]): Float64Array {
  const P = features[0]!.length;
  const X = new Float64Array(features.length * P);
  features.forEach((f, n) => {
    let sum = 0;
    for (let p = 0; p < P; p++) sum += f[p]! * f[p]!;
    const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let p = 0; p < P; p++) X[n * P + p] = f[p]! * inv;
  });
  return X;
}

/** Objective and gradient at theta = [W (K×P) row-major, b (K)]. */
function objective(X: Float64Array, y: number[], K: number, P: number, C: number, theta: Float64Array, grad: Float64Array): number {
  const N = y.length;
  grad.fill(0);
  const logits = new Float64Array(K);
  let loss = 0;
  const bOff = K * P;
  for (let n = 0; n < N; n++) {
    const row = n * P;
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      let z = theta[bOff + k]!;
      const w = k * P;
      for (let p = 0; p < P; p++) z += theta[w + p]! * X[row + p]!;
      logits[k] = z;
      if (z > max) max = z;
    }
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(logits[k]! - max);
    const lse = max + Math.log(sum);
    loss += lse - logits[y[n]!]!;
    for (let k = 0; k < K; k++) {
      const d = (Math.exp(logits[k]! - lse) - (k === y[n] ? 1 : 0)) / N;
      if (d === 0) continue;
      const w = k * P;
      for (let p = 0; p < P; p++) grad[w + p]! += d * X[row + p]!;
      grad[bOff + k]! += d;
    }
  }
  loss /= N;
  const reg = 1 / (C * N);
  let penalty = 0;
  for (let i = 0; i < bOff; i++) {
    penalty += theta[i]! * theta[i]!;
    grad[i]! += reg * theta[i]!;
  }
  return loss + 0.5 * reg * penalty;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** One L2-penalised multinomial logistic regression at penalty C (scikit-learn's parameterisation), by L-BFGS. */
export function fitLogistic(
  features: Float32Array[],
  labels: number[],
  classes: number,
  C: number,
  options: { maxIterations?: number; gtol?: number; onIteration?: (i: number, loss: number) => void } = {}
): LogisticFit {
  if (features.length === 0) throw new Error('the linear probe needs at least one image');
  const P = features[0]!.length;
  const X = normalizeRows(features);
  const D = classes * P + classes;
  const maxIterations = options.maxIterations ?? 1000;
  const gtol = options.gtol ?? 1e-4;
  const m = 10;
  let theta = new Float64Array(D);
  let grad = new Float64Array(D);
  let f = objective(X, labels, classes, P, C, theta, grad);
  const S: Float64Array[] = [];
  const Yh: Float64Array[] = [];
  let iterations = 0;
  const maxAbs = (g: Float64Array) => g.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
  for (; iterations < maxIterations && maxAbs(grad) > gtol; iterations++) {
    // Two-loop recursion: d = -H·g.
    const q = Float64Array.from(grad);
    const alphas: number[] = [];
    for (let i = S.length - 1; i >= 0; i--) {
      const a = dot(S[i]!, q) / dot(Yh[i]!, S[i]!);
      alphas[i] = a;
      for (let j = 0; j < D; j++) q[j]! -= a * Yh[i]![j]!;
    }
    const gamma = S.length ? dot(S.at(-1)!, Yh.at(-1)!) / dot(Yh.at(-1)!, Yh.at(-1)!) : 1 / Math.max(1, Math.sqrt(dot(grad, grad)));
    for (let j = 0; j < D; j++) q[j]! *= gamma;
    for (let i = 0; i < S.length; i++) {
      const b = dot(Yh[i]!, q) / dot(Yh[i]!, S[i]!);
      for (let j = 0; j < D; j++) q[j]! += S[i]![j]! * (alphas[i]! - b);
    }
    const d = q.map((v) => -v);
    let slope = dot(grad, d);
    if (!(slope < 0)) {
      // Not a descent direction: restart from the gradient.
      S.length = 0;
      Yh.length = 0;
      for (let j = 0; j < D; j++) d[j] = -grad[j]!;
      slope = -dot(grad, grad);
    }
    // Backtracking line search (Armijo), up to 50 tries as scipy's maxls.
    let step = 1;
    const next = new Float64Array(D);
    const nextGrad = new Float64Array(D);
    let fNext = Infinity;
    for (let tries = 0; tries < 50; tries++) {
      for (let j = 0; j < D; j++) next[j] = theta[j]! + step * d[j]!;
      fNext = objective(X, labels, classes, P, C, next, nextGrad);
      if (fNext <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNext < f)) break;
    const s = next.map((v, j) => v - theta[j]!);
    const yv = nextGrad.map((v, j) => v - grad[j]!);
    if (dot(s, yv) > 1e-12) {
      S.push(s);
      Yh.push(yv);
      if (S.length > m) {
        S.shift();
        Yh.shift();
      }
    }
    const reduction = (f - fNext) / Math.max(Math.abs(f), Math.abs(fNext), 1);
    theta = next;
    grad = nextGrad;
    f = fNext;
    options.onIteration?.(iterations, f);
    if (reduction <= 64 * Number.EPSILON) {
      iterations++;
      break;
    }
  }
  const weights = new Float32Array(classes * P);
  for (let i = 0; i < classes * P; i++) weights[i] = theta[i]!;
  const bias = new Float32Array(classes);
  for (let k = 0; k < classes; k++) bias[k] = theta[classes * P + k]!;
  return { classes, dim: P, weights, bias, C, iterations, loss: f };
}

/** Accuracy of a probe on (L2-normalised) features. */
export function probeAccuracy(probe: LinearProbe, features: Float32Array[], labels: number[]): number {
  if (features.length === 0) return 0;
  const X = normalizeRows(features);
  const P = probe.dim;
  let correct = 0;
  labels.forEach((y, n) => {
    let best = 0;
    let bestScore = -Infinity;
    for (let k = 0; k < probe.classes; k++) {
      let z = probe.bias[k]!;
      for (let p = 0; p < P; p++) z += probe.weights[k * P + p]! * X[n * P + p]!;
      if (z > bestScore) {
        bestScore = z;
        best = k;
      }
    }
    if (best === y) correct++;
  });
  return correct / labels.length;
}

export const C_SEARCH_LIST = [1e6, 1e4, 1e2, 1, 1e-2, 1e-4, 1e-6] as const;

export interface CSearch {
  C: number;
  /** Every C tried, in order, with its validation accuracy. */
  tried: { C: number; accuracy: number }[];
}

/**
 * CoOp's search for C: validation accuracy over C_SEARCH_LIST (the first best wins, as np.argmax), then
 * eight steps of its binary search in log10(C) between a tenth and ten times the best.
 */
export function searchC(fit: (C: number) => LinearProbe, validation: { features: Float32Array[]; labels: number[] }, steps = 8): CSearch {
  const tried: CSearch['tried'] = [];
  const score = (C: number) => {
    const accuracy = probeAccuracy(fit(C), validation.features, validation.labels);
    tried.push({ C, accuracy });
    return accuracy;
  };
  const accs = C_SEARCH_LIST.map(score);
  const peak: number = C_SEARCH_LIST[accs.indexOf(Math.max(...accs))]!;
  let left = 0.1 * peak;
  let right = 10 * peak;
  let final: number = peak;
  for (let s = 0; s < steps; s++) {
    const accLeft = score(left);
    const accRight = score(right);
    let logLeft: number;
    let logRight: number;
    if (accLeft < accRight) {
      final = right;
      logLeft = 0.5 * (Math.log10(right) + Math.log10(left));
      logRight = Math.log10(right);
    } else {
      final = left;
      logRight = 0.5 * (Math.log10(right) + Math.log10(left));
      logLeft = Math.log10(left);
    }
    left = 10 ** logLeft;
    right = 10 ** logRight;
  }
  return { C: final, tried };
}

/**
 * The probe of a run: C searched on `validation` when given (then refitted on the training images), else
 * scikit-learn's default C = 1.
 */
export function fitLinearProbe(
  features: Float32Array[],
  labels: number[],
  classes: number,
  options: {
    validation?: { features: Float32Array[]; labels: number[] };
    C?: number;
    maxIterations?: number;
    onIteration?: (i: number, loss: number) => void;
  } = {}
): LogisticFit & { search: CSearch | null } {
  const fit = (C: number) => fitLogistic(features, labels, classes, C, { maxIterations: options.maxIterations });
  const search = options.C === undefined && options.validation && options.validation.features.length ? searchC(fit, options.validation) : null;
  const C = options.C ?? search?.C ?? 1;
  return { ...fitLogistic(features, labels, classes, C, { maxIterations: options.maxIterations, onIteration: options.onIteration }), search };
}
