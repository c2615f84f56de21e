import { beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, tf } from '../../../src-main/clip/tf';
import { CHECKPOINT_MISMATCH, restoreCheckpoint, serializeCheckpoint } from '../../../src-main/mocoop/checkpoint';

const values = (ts: Tensor[]) => ts.map((t) => Array.from(t.dataSync()));

describe('training checkpoints', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('writes version 1 JSON: the epoch, then each named list of {shape, data} in order', () => {
    const params = [tf.tensor2d([[0.5, -1]]), tf.tensor1d([0.1])];
    const velocity = [tf.tensor2d([[0, 2]]), tf.tensor1d([-0.25])];
    const buffer = serializeCheckpoint(3, { params, velocity });
    // 0.1 as the float32 it is, written as the double of that float.
    expect(buffer.toString('utf8')).toBe(
      '{"version":1,"epoch":3,"params":[{"shape":[1,2],"data":[0.5,-1]},{"shape":[1],"data":[0.10000000149011612]}],' +
        '"velocity":[{"shape":[1,2],"data":[0,2]},{"shape":[1],"data":[-0.25]}]}'
    );
    tf.dispose([...params, ...velocity]);
  });

  it('restores every list bit for bit, as new tensors of the shapes of the run', () => {
    const params = [tf.tensor3d([[[Math.PI, -1e-30]], [[1e30, 2 / 3]]]), tf.tensor1d([0.1, -0.7, 5e-4])];
    const velocity = [tf.randomNormal([2, 1, 2], 0, 1, 'float32', 7), tf.tensor1d([1, 2, 3])];
    const buffer = serializeCheckpoint(11, { params, velocity });
    const count = tf.memory().numTensors;
    const restored = restoreCheckpoint(buffer, { params, velocity: params });
    expect(tf.memory().numTensors - count).toBe(4);
    expect(restored.epoch).toBe(11);
    expect(restored.lists.params.map((t) => t.shape)).toEqual([[2, 1, 2], [3]]);
    expect(restored.lists.velocity.map((t) => t.shape)).toEqual([[2, 1, 2], [3]]);
    expect(restored.lists.params.every((t) => t.dtype === 'float32')).toBe(true);
    expect(values(restored.lists.params)).toEqual(values(params));
    expect(values(restored.lists.velocity)).toEqual(values(velocity));
    // Saving again gives the same bytes.
    expect(serializeCheckpoint(11, restored.lists).equals(buffer)).toBe(true);
    tf.dispose([...params, ...velocity, ...restored.lists.params, ...restored.lists.velocity]);
  });

  it('restores a checkpoint written by the trainers before this module', () => {
    const old = Buffer.from(
      JSON.stringify({
        version: 1,
        epoch: 0,
        params: [
          { shape: [2, 2], data: [1, 2, 3, 4] },
          { shape: [2], data: [-0.5, 0.25] }
        ],
        velocity: [
          { shape: [2, 2], data: [0, 0, 0, 0.125] },
          { shape: [2], data: [0, 1] }
        ]
      })
    );
    const like = [tf.zeros([2, 2]), tf.zeros([2])];
    const { epoch, lists } = restoreCheckpoint(old, { params: like, velocity: like });
    expect(epoch).toBe(0);
    expect(values(lists.params)).toEqual([
      [1, 2, 3, 4],
      [-0.5, 0.25]
    ]);
    expect(values(lists.velocity)).toEqual([
      [0, 0, 0, 0.125],
      [0, 1]
    ]);
    tf.dispose([...like, ...lists.params, ...lists.velocity]);
  });

  it("refuses a checkpoint of another run (other count or shapes, a list missing) with the caller's message, making no tensor", () => {
    const like = [tf.zeros([2, 3]), tf.zeros([3])];
    const saved = (params: Tensor[], velocity: Tensor[]) => serializeCheckpoint(4, { params, velocity });
    const other = [tf.zeros([2, 4]), tf.zeros([4])];
    const fewer = [tf.zeros([2, 3])];
    const message = 'The checkpoint does not match this run (different experts or classes).';
    const count = tf.memory().numTensors;
    const refused = [
      saved(other, other),
      saved(fewer, fewer),
      saved(like, other), // the parameters fit, the momentum does not
      saved(like, [...like, ...fewer]),
      Buffer.from('{"version":1,"epoch":4,"params":[{"shape":[2,3],"data":[0,0,0,0,0,0]},{"shape":[3],"data":[0,0,0]}]}'),
      Buffer.from('{"version":1,"epoch":4,"params":[{"data":[]},{"shape":3}],"velocity":[]}')
    ];
    for (const buffer of refused) {
      expect(() => restoreCheckpoint(buffer, { params: like, velocity: like }, message)).toThrow(new Error(message));
      expect(() => restoreCheckpoint(buffer, { params: like, velocity: like })).toThrow(new Error(CHECKPOINT_MISMATCH));
    }
    expect(tf.memory().numTensors).toBe(count);
    const fits = restoreCheckpoint(saved(like, like), { params: like, velocity: like }, message);
    tf.dispose([...like, ...other, ...fewer, ...fits.lists.params, ...fits.lists.velocity]);
  });
});
