import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusteredData } from '../../helpers/clustered-data';
import { ClipEngine } from '../../../src-main/clip/engine';
import { tf } from '../../../src-main/clip/tf';
import { PAPER_DEFAULTS, type TrainSettings, trainPrompts } from '../../../src-main/mocoop/trainer';
import { TINY_CLIP } from '../../helpers/fixtures';

const groups = [['a photo of a {}.'], ['itap of a {}.']];

describe("the prompt trainer's checkpoints", () => {
  let engine: ClipEngine;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    engine = ClipEngine.load(TINY_CLIP, { textGradients: true });
  });
  afterAll(() => engine?.dispose());

  const settings: TrainSettings = { ...PAPER_DEFAULTS, method: 'mocoop-moe', epochs: 2, lr: 0.01, batchSize: 4, topK: 1 };

  it('holds the parameters and momentum of every expert; a run with other experts refuses it and frees what it made', async () => {
    const three = clusteredData(['ant', 'bee', 'wasp'], 2, engine.dim, 4, { virtualNames: [], groups });
    const checkpoints: Buffer[] = [];
    await trainPrompts(engine, three, settings, { onEpoch: (_, c) => checkpoints.push(c) });
    expect(checkpoints).toHaveLength(2);
    const state = JSON.parse(checkpoints[0]!.toString('utf8')) as { version: number; epoch: number; params: { shape: number[] }[]; velocity: unknown[] };
    expect(Object.keys(state)).toEqual(['version', 'epoch', 'params', 'velocity']);
    expect(state.version).toBe(1);
    expect(state.epoch).toBe(0);
    // Prefix and suffix context of each of the 2 experts, the router's W and b, the correction vector.
    expect(state.params.map((p) => p.shape.length)).toEqual([2, 2, 2, 2, 2, 1, 1]);
    expect(state.params.slice(4).map((p) => p.shape)).toEqual([[2, engine.dim], [2], [engine.dim]]);
    expect(state.velocity).toHaveLength(7);

    // Other experts (one group; a template with other context lengths): refused with the trainer's message.
    const before = tf.memory().numTensors;
    const oneGroup = { ...three, groups: [groups[0]!] };
    const otherTemplate = { ...three, groups: [groups[0]!, ['a {} in the wild, seen from far away.']] };
    for (const other of [oneGroup, otherTemplate]) {
      await expect(trainPrompts(engine, other, settings, {}, checkpoints[0])).rejects.toThrow(
        new Error('The checkpoint does not match this run (different experts or classes).')
      );
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
