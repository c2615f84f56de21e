/**
 * CoCoOp against its equations on the tiny CLIP: the loss and logits recomputed independently (token
 * embeddings built by hand, the text tower's plain forward), gradients against finite differences,
 * seeded determinism, resume, scoring, and the stored table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipEngine } from '../../../src-main/clip/engine';
import { type Tensor2D, tf } from '../../../src-main/clip/tf';
import { tfjsTextGradients } from '../../../src-main/clip/text-gradients';
import {
  type CoCoOpParams,
  cocoopLearner,
  cocoopLossAndGradients,
  conditionalScores,
  fromWeights,
  initMetaNet,
  metaBias,
  paramList,
  toWeights
} from '../../../src-main/mocoop/cocoop';
import { COCOOP_PROMPT, trainCoCoOp } from '../../../src-main/mocoop/cocoop-trainer';
import { predict } from '../../../src-main/mocoop/inference';
import { decodeTable, encodeTable } from '../../../src-main/mocoop/table-codec';
import { PAPER_DEFAULTS, type TrainSettings } from '../../../src-main/mocoop/trainer';
import { seededRandom } from '../../../src-main/util/seeded-random';
import { TINY_CLIP } from '../../helpers/fixtures';
import { useBackend } from '../../helpers/tf-backend';

const NAMES = ['ant', 'bee', 'moth'];

/** Random unit vectors, seeded. */
function unitVectors(n: number, dim: number, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const v = Float32Array.from({ length: dim }, () => random() - 0.5);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

describe('CoCoOp (conditional context)', () => {
  let engine: ClipEngine;

  useBackend('wasm');
  beforeAll(async () => {
    engine = ClipEngine.load(TINY_CLIP, { textGradients: true });
  });
  afterAll(() => engine?.dispose());

  const learnerFor = (names = NAMES) => cocoopLearner(engine.tokenizer, engine.model.text, COCOOP_PROMPT, names, engine.model.config.text.contextLength);
  const freshParams = (seed = 3): CoCoOpParams => {
    const learner = learnerFor();
    const ctx = learner.initialContext();
    tf.dispose(ctx.suffix);
    learner.dispose();
    // A non-zero meta-network output, so π matters in every check.
    return { ctx: ctx.prefix[0]!, ...initMetaNet(engine.dim, engine.model.text.width, seed) };
  };

  /** The loss by the paper's equations, built independently of the learner's assignment matrices. */
  function referenceLoss(params: CoCoOpParams, images: Float32Array[], labels: number[]): { loss: number; logits: number[][] } {
    return tf.tidy(() => {
      const learner = learnerFor();
      const { ids, eot, prefixLength } = learner.layout;
      const n = prefixLength[0]!;
      const tokens = learner.tokens;
      const x = tf.tensor2d(
        images.flatMap((f) => Array.from(f)),
        [images.length, engine.dim]
      );
      const bias = metaBias(params, x);
      const logits: number[][] = [];
      let loss = 0;
      images.forEach((_, b) => {
        const base = engine.model.text.embedTokens(ids, tokens).arraySync() as number[][][];
        const shifted = tf.add(params.ctx, tf.slice(bias, [b, 0], [1, -1])).arraySync() as number[][];
        for (const row of base) for (let k = 0; k < n; k++) row[1 + k] = shifted[k]!;
        const F = engine.model.text.encodeEmbeddings(tf.tensor3d(base), eot);
        const t = tf.div(F, tf.norm(F, 'euclidean', -1, true));
        const xb = tf.slice(x, [b, 0], [1, -1]);
        const row = (tf.matMul(t, xb, false, true).arraySync() as number[][]).map((r) => engine.logitScale * r[0]!);
        logits.push(row);
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
        loss += (lse - row[labels[b]!]!) / images.length;
      });
      learner.dispose();
      return { loss, logits };
    });
  }

  it("computes the paper's loss and logits: prompts [SOT, ctx + π(x̂), class, '.'] through the text tower", async () => {
    const params = freshParams();
    const images = unitVectors(2, engine.dim, 11);
    const labels = [2, 0];
    const learner = learnerFor();
    const x = tf.tensor2d(
      images.flatMap((f) => Array.from(f)),
      [2, engine.dim]
    ) as Tensor2D;
    const step = await cocoopLossAndGradients(learner, params, x, labels, engine.logitScale, tfjsTextGradients(engine.model.text));
    const ref = referenceLoss(params, images, labels);
    expect(step.loss).toBeCloseTo(ref.loss, 4);
    ref.logits.flat().forEach((v, i) => expect(step.logits[i]).toBeCloseTo(v, 3));
    // π is not zero: the image changes the prompts (else CoCoOp would be CoOp).
    expect(Math.abs(ref.logits[0]![0]! / engine.logitScale)).toBeGreaterThan(0);
    tf.dispose([x, ...paramList(step.grads), ...paramList(params)]);
    learner.dispose();
  });

  it('has gradients that match central finite differences for the context and the meta-network', async () => {
    const params = freshParams(5);
    const images = unitVectors(2, engine.dim, 21);
    const labels = [1, 2];
    const learner = learnerFor();
    const x = tf.tensor2d(
      images.flatMap((f) => Array.from(f)),
      [2, engine.dim]
    ) as Tensor2D;
    const step = await cocoopLossAndGradients(learner, params, x, labels, engine.logitScale, tfjsTextGradients(engine.model.text));
    const eps = 1e-2;
    const probes: { name: keyof CoCoOpParams; index: number }[] = [
      { name: 'ctx', index: 0 },
      { name: 'ctx', index: 37 },
      { name: 'W1', index: 5 },
      { name: 'b1', index: 0 },
      { name: 'W2', index: 9 },
      { name: 'b2', index: 3 }
    ];
    for (const { name, index } of probes) {
      const analytic = step.grads[name].dataSync()[index]!;
      const shifted = (delta: number) => {
        const data = params[name].dataSync().slice();
        data[index]! += delta;
        const moved = { ...params, [name]: tf.tensor(data, params[name].shape) } as CoCoOpParams;
        const value = referenceLoss(moved, images, labels).loss;
        moved[name].dispose();
        return value;
      };
      const numeric = (shifted(eps) - shifted(-eps)) / (2 * eps);
      expect(Math.abs(analytic - numeric), `${name}[${index}]: analytic ${analytic}, numeric ${numeric}`).toBeLessThan(2e-3 + 0.05 * Math.abs(numeric));
    }
    // Some gradient reaches the meta-network (it is what makes the context conditional).
    expect(tf.tidy(() => tf.sum(tf.abs(step.grads.W1)).dataSync()[0]!)).toBeGreaterThan(0);
    tf.dispose([x, ...paramList(step.grads), ...paramList(params)]);
    learner.dispose();
  });

  const settings = (over: Partial<TrainSettings> = {}): TrainSettings => ({
    ...PAPER_DEFAULTS,
    method: 'cocoop',
    epochs: 3,
    lr: 0.002,
    warmupEpochs: 1,
    batchSize: 1,
    seed: 4,
    promptTemplate: COCOOP_PROMPT,
    ...over
  });
  const data = () => {
    const features = unitVectors(6, engine.dim, 31);
    return { classNames: NAMES, virtualNames: ['wasp'], groups: [], features, labels: [0, 1, 2, 0, 1, 2] };
  };

  it('trains deterministically by seed, resumes identically, and stores weights that score like the step', async () => {
    const checkpoints: Buffer[] = [];
    const events: number[] = [];
    const full = await trainCoCoOp(engine, data(), settings({ lr: 0.05 }), {
      onEpoch: (_, state) => checkpoints.push(state),
      onStep: (e) => events.push(e.loss)
    });
    // Measured after a first run: the engine creates its text tower for training lazily, once.
    const before = tf.memory().numTensors;
    expect(full.steps).toBe(18);
    expect(events).toHaveLength(18);
    expect(events.every(Number.isFinite)).toBe(true);
    const again = await trainCoCoOp(engine, data(), settings({ lr: 0.05 }));
    expect(Buffer.from(encodeTable(again.table)).equals(Buffer.from(encodeTable(full.table)))).toBe(true);
    const resumed = await trainCoCoOp(engine, data(), settings({ lr: 0.05 }), {}, checkpoints[0]);
    expect(Buffer.from(encodeTable(resumed.table)).equals(Buffer.from(encodeTable(full.table)))).toBe(true);
    expect((await trainCoCoOp(engine, data(), settings({ lr: 0.05, seed: 5 }))).table.conditional!.W1).not.toEqual(full.table.conditional!.W1);
    // Three more trainings left no tensor behind.
    expect(tf.memory().numTensors).toBe(before);

    // The stored table round-trips, refuses fixed-table prediction, and scores through the text tower.
    const table = decodeTable(encodeTable(full.table));
    expect(table.conditional).toEqual(full.table.conditional);
    expect(table.logitScale).toBeCloseTo(engine.logitScale, 5);
    const image = data().features[0]!;
    expect(() => predict(table, image, [0, 1, 2])).toThrow(/text tower/);
    // Scoring twice: the text tower caches one attention mask per prompt length on first use.
    const score = async () => {
      const learner = learnerFor();
      const [scores] = await conditionalScores(learner, table.conditional!, [image], tfjsTextGradients(engine.model.text));
      const params = fromWeights(table.conditional!, engine.dim);
      const ref = referenceLoss(params, [image], [0]);
      scores!.forEach((s, c) => expect(s * engine.logitScale).toBeCloseTo(ref.logits[0]![c]!, 3));
      expect(predict(table, image, [0, 1, 2], scores).predicted).toBe(scores!.indexOf(Math.max(...scores!)));
      // A class named after training needs nothing but its name.
      const open = learnerFor([...NAMES, 'wasp']);
      const [wider] = await conditionalScores(open, table.conditional!, [image], tfjsTextGradients(engine.model.text));
      wider!.slice(0, 3).forEach((s, c) => expect(s).toBeCloseTo(scores![c]!, 5));
      expect(toWeights(params)).toEqual(table.conditional);
      tf.dispose(paramList(params));
      learner.dispose();
      open.dispose();
    };
    await score();
    const warm = tf.memory().numTensors;
    await score();
    expect(tf.memory().numTensors).toBe(warm);
  }, 600_000);
});
