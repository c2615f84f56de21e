/**
 * Linear probe: multinomial logistic regression with an L2 penalty on cached image features, fitted
 * by full-batch gradient descent with Adam (deterministic: no sampling).
 */
import { type Tensor, tf } from '../clip/tf';

export interface LinearProbe {
  classes: number;
  dim: number;
  /** [C, P] */
  weights: Float32Array;
  bias: Float32Array;
}

export function fitLinearProbe(features: Float32Array[], labels: number[], classes: number, options: { l2?: number; iterations?: number; lr?: number; onIteration?: (i: number, loss: number) => void } = {}): LinearProbe {
  const P = features[0]!.length;
  const N = features.length;
  const l2 = options.l2 ?? 1e-3;
  const flat = new Float32Array(N * P);
  features.forEach((f, n) => flat.set(f, n * P));
  const X = tf.tensor2d(flat, [N, P]);
  const Y = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
  const W = tf.variable(tf.zeros([P, classes]));
  const b = tf.variable(tf.zeros([classes]));
  const optimizer = tf.train.adam(options.lr ?? 0.05);
  try {
    for (let i = 0; i < (options.iterations ?? 300); i++) {
      const cost = optimizer.minimize(() => {
        const logits = tf.add(tf.matMul(X, W), b);
        const ce = tf.neg(tf.mean(tf.sum(tf.mul(Y, tf.logSoftmax(logits)), -1)));
        return tf.add(ce, tf.mul(tf.sum(tf.square(W)), l2)) as tf.Scalar;
      }, true) as Tensor;
      options.onIteration?.(i, cost.dataSync()[0]!);
      cost.dispose();
    }
    const weights = tf.tidy(() => tf.transpose(W).dataSync().slice()) as Float32Array;
    return { classes, dim: P, weights, bias: b.dataSync().slice() as Float32Array };
  } finally {
    optimizer.dispose();
    tf.dispose([X, Y, W, b]);
  }
}
