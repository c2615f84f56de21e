/**
 * One step of SGD with momentum and coupled weight decay, as torch.optim.SGD (dampening 0, no
 * Nesterov), over any list of parameter tensors:
 *
 *   g ← g + λ·p;   v ← μ·v + g;   p ← p − lr·v
 *
 * (torch starts the momentum buffer at the first gradient; starting v at zeros gives the same numbers,
 * since μ·0 + g = g exactly). Pure: it returns new tensors and leaves its inputs alone, the caller
 * disposing of the old ones.
 */
import { type Tensor, tf } from '../clip/tf';

export interface SgdSettings {
  /** The learning rate of this step. */
  lr: number;
  /** μ: the momentum (0: plain SGD). */
  momentum: number;
  /** λ: the coupled (L2) weight decay added to the gradient. */
  weightDecay: number;
}

export interface SgdResult {
  /** The parameters after the step, in the order given. */
  params: Tensor[];
  /** The momentum buffers after the step, in the order given. */
  velocity: Tensor[];
}

export function sgdStep(params: Tensor[], grads: Tensor[], velocity: Tensor[], { lr, momentum, weightDecay }: SgdSettings): SgdResult {
  if (grads.length !== params.length || velocity.length !== params.length)
    throw new Error(`SGD: ${params.length} parameters, ${grads.length} gradients and ${velocity.length} momentum buffers.`);
  params.forEach((p, k) => {
    const shape = p.shape.join(',');
    if (grads[k]!.shape.join(',') !== shape || velocity[k]!.shape.join(',') !== shape)
      throw new Error(`SGD: parameter ${k} has shape [${shape}], its gradient [${grads[k]!.shape.join(',')}], its momentum [${velocity[k]!.shape.join(',')}].`);
  });
  const next: SgdResult = { params: [], velocity: [] };
  params.forEach((param, k) => {
    const [p, v] = tf.tidy(() => {
      const g = tf.add(grads[k]!, tf.mul(param, weightDecay));
      const vel = tf.add(tf.mul(velocity[k]!, momentum), g);
      return [tf.sub(param, tf.mul(vel, lr)), vel];
    });
    next.params.push(p!);
    next.velocity.push(v!);
  });
  return next;
}
