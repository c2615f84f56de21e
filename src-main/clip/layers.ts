/**
 * Transformer pieces written for tfjs-wasm's fast path: every dense product is a plain 2-D matMul
 * with a pre-transposed weight, and dense layers whose input needs a gradient carry a custom
 * gradient that is again a plain 2-D product (the default backward would use slow transposed kernels).
 */
import { type Tensor, type Tensor1D, type Tensor2D, tf } from './tf';

export class Dense {
  /** `wT` is [in, out]; `w` ([out, in], the HF layout) is kept only when input gradients are needed. */
  constructor(
    readonly wT: Tensor2D,
    readonly b: Tensor1D | null,
    readonly w: Tensor2D | null
  ) {}

  apply(x: Tensor2D): Tensor2D {
    const { wT, b, w } = this;
    const forward = (input: Tensor2D) => {
      const y = tf.matMul(input, wT);
      return (b ? tf.add(y, b) : y) as Tensor2D;
    };
    if (!w) return forward(x);
    const withGrad = tf.customGrad((input, save) => {
      (save as (tensors: Tensor[]) => void)([]);
      return { value: forward(input as Tensor2D), gradFunc: (dy: Tensor) => tf.matMul(dy as Tensor2D, w) };
    });
    return withGrad(x) as Tensor2D;
  }

  dispose(): void {
    this.wT.dispose();
    this.b?.dispose();
    this.w?.dispose();
  }
}

export class LayerNorm {
  constructor(
    readonly gamma: Tensor1D,
    readonly beta: Tensor1D,
    readonly eps: number
  ) {}

  apply<T extends Tensor>(x: T): T {
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps))), this.gamma), this.beta) as T;
    });
  }

  dispose(): void {
    this.gamma.dispose();
    this.beta.dispose();
  }
}

export const quickGelu = (x: Tensor) => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));

export interface BlockWeights {
  ln1: LayerNorm;
  ln2: LayerNorm;
  q: Dense;
  k: Dense;
  v: Dense;
  out: Dense;
  fc1: Dense;
  fc2: Dense;
}

/** A pre-LN transformer block over a batch flattened to [batch * tokens, width]. */
export class Block {
  constructor(
    readonly w: BlockWeights,
    readonly heads: number
  ) {}

  apply(x: Tensor2D, batch: number, tokens: number, mask: Tensor | null): Tensor2D {
    const { w, heads } = this;
    const width = x.shape[1];
    const dh = width / heads;
    const h = w.ln1.apply(x);
    const split = (t: Tensor2D) => tf.transpose(tf.reshape(t, [batch, tokens, heads, dh]), [0, 2, 1, 3]);
    const q = split(tf.mul(w.q.apply(h), 1 / Math.sqrt(dh)) as Tensor2D);
    const k = split(w.k.apply(h));
    const v = split(w.v.apply(h));
    let scores = tf.matMul(q, k, false, true);
    if (mask) scores = tf.add(scores, mask);
    const context = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), v), [0, 2, 1, 3]), [batch * tokens, width]) as Tensor2D;
    const x1 = tf.add(x, w.out.apply(context)) as Tensor2D;
    const m = w.fc2.apply(quickGelu(w.fc1.apply(w.ln2.apply(x1))) as Tensor2D);
    return tf.add(x1, m) as Tensor2D;
  }

  dispose(): void {
    for (const part of Object.values(this.w)) part.dispose();
  }
}

/** Additive causal mask [tokens, tokens]: 0 on and below the diagonal, a large negative above. */
export function causalMask(tokens: number): Tensor2D {
  const data = new Float32Array(tokens * tokens);
  for (let i = 0; i < tokens; i++) for (let j = i + 1; j < tokens; j++) data[i * tokens + j] = -1e9;
  return tf.tensor2d(data, [tokens, tokens]);
}
