import { beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, tf } from '../../../src-main/clip/tf';
import { sgdStep } from '../../../src-main/mocoop/sgd';

const f = Math.fround;

/**
 * torch.optim.SGD's update by hand, in float32 as the tensors are (every product and sum rounded):
 * g ← g + λp; v ← μv + g; p ← p − lr·v.
 */
function torchSgd(p: number[], g: number[], v: number[], lr: number, mu: number, wd: number): { p: number[]; v: number[] } {
  const vel = p.map((pk, k) => f(f(f(v[k]!) * f(mu)) + f(f(g[k]!) + f(f(pk) * f(wd)))));
  return { p: p.map((pk, k) => f(f(pk) - f(vel[k]! * f(lr)))), v: vel };
}

const values = (ts: Tensor[]) => ts.map((t) => Array.from(t.dataSync()));

describe('sgdStep: SGD with momentum and coupled weight decay, as torch.optim.SGD', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const p0 = [
    [0.5, -1.25, 2],
    [0.3, -0.7]
  ];
  const grads = [
    [
      [0.1, 0.2, -0.3],
      [-0.05, 0.4]
    ],
    [
      [-0.2, 0.15, 0.05],
      [0.25, -0.1]
    ]
  ];
  const settings = [
    { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 },
    { lr: 0.002, momentum: 0.9, weightDecay: 5e-4 }
  ];

  it('equals the hand computation of v = μv + g + λp; p = p − lr·v over two steps, for a list of tensors of any shapes', () => {
    let params: Tensor[] = [tf.tensor1d(p0[0]!), tf.tensor2d([p0[1]!])];
    let velocity: Tensor[] = params.map((t) => tf.zerosLike(t));
    let hand = p0.map((p) => ({ p, v: p.map(() => 0) }));
    for (let step = 0; step < 2; step++) {
      const g = [tf.tensor1d(grads[step]![0]!), tf.tensor2d([grads[step]![1]!])];
      const s = settings[step]!;
      const next = sgdStep(params, g, velocity, s);
      hand = hand.map((h, k) => torchSgd(h.p, grads[step]![k]!, h.v, s.lr, s.momentum, s.weightDecay));
      expect(next.params.map((t) => t.shape)).toEqual([[3], [1, 2]]);
      expect(next.velocity.map((t) => t.shape)).toEqual([[3], [1, 2]]);
      expect(values(next.params)).toEqual(hand.map((h) => h.p));
      expect(values(next.velocity)).toEqual(hand.map((h) => h.v));
      tf.dispose([...params, ...velocity, ...g]);
      params = next.params;
      velocity = next.velocity;
    }
    // In float64 the same two steps agree to float32's precision (torch's first momentum buffer is the gradient itself).
    const v1 = grads[0]![0]!.map((g, i) => g + 5e-4 * p0[0]![i]!);
    const p1 = p0[0]!.map((p, i) => p - 0.01 * v1[i]!);
    const v2 = v1.map((v, i) => 0.9 * v + grads[1]![0]![i]! + 5e-4 * p1[i]!);
    const p2 = p1.map((p, i) => p - 0.002 * v2[i]!);
    Array.from(params[0]!.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(p2[i]!, 6));
    Array.from(velocity[0]!.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(v2[i]!, 6));
    tf.dispose([...params, ...velocity]);
  });

  it('without momentum or weight decay it is plain gradient descent', () => {
    const [p, g, v] = [tf.tensor1d([1, 2]), tf.tensor1d([0.5, -0.25]), tf.tensor1d([7, 7])];
    const next = sgdStep([p], [g], [v], { lr: 0.5, momentum: 0, weightDecay: 0 });
    expect(values(next.params)).toEqual([[0.75, 2.125]]);
    expect(values(next.velocity)).toEqual([[0.5, -0.25]]);
    tf.dispose([p, g, v, ...next.params, ...next.velocity]);
  });

  it('returns new tensors, leaves its inputs as they were and leaks nothing', () => {
    const params = [tf.tensor2d([[1, -2]]), tf.tensor1d([3])];
    const grads = [tf.tensor2d([[0.1, 0.2]]), tf.tensor1d([-0.3])];
    const velocity = [tf.tensor2d([[0.01, -0.02]]), tf.tensor1d([0.03])];
    const inputs: Tensor[] = [...params, ...grads, ...velocity];
    const before = values(inputs);
    const count = tf.memory().numTensors;
    const next = sgdStep(params, grads, velocity, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    // Exactly the returned tensors are new.
    expect(tf.memory().numTensors - count).toBe(next.params.length + next.velocity.length);
    expect([...next.params, ...next.velocity].some((t) => inputs.includes(t))).toBe(false);
    expect(inputs.every((t) => !t.isDisposed)).toBe(true);
    expect(values(inputs)).toEqual(before);
    tf.dispose([...next.params, ...next.velocity]);
    expect(tf.memory().numTensors).toBe(count);
    tf.dispose(inputs);
  });

  it('refuses lists of different lengths or shapes, making no tensor', () => {
    const [a, b] = [tf.tensor1d([1, 2]), tf.tensor1d([1, 2, 3])];
    const count = tf.memory().numTensors;
    const s = { lr: 0.1, momentum: 0.9, weightDecay: 0 };
    expect(() => sgdStep([a, a], [a], [a, a], s)).toThrow(/2 parameters, 1 gradients and 2 momentum buffers/);
    expect(() => sgdStep([a], [b], [a], s)).toThrow(/parameter 0 has shape \[2\], its gradient \[3\]/);
    expect(tf.memory().numTensors).toBe(count);
    tf.dispose([a, b]);
  });
});
