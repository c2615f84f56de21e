/**
 * CoCoOp (Zhou et al., CVPR 2022): CoOp's learned context shifted per image by a small meta-network.
 * For an image with normalised feature x̂, π = W₂·ReLU(W₁·x̂ + b₁) + b₂ (hidden width P/16) is added to
 * every context vector; the class prompts [SOT, ctx + π, class, ".", EOT] go through the text tower for
 * that image, and logit(c) = s · x̂·t̂_c(x) with CLIP's logit scale s. Training minimises cross-entropy.
 * Because the text features depend on the image, a CoCoOp run has no fixed class table: scoring an
 * image runs the text tower (`conditionalLogits`).
 */
import type { TextGradients } from '../clip/text-gradients';
import { type Tensor, type Tensor1D, type Tensor2D, type Tensor3D, tf } from '../clip/tf';
import type { ClipTokenizer } from '../clip/tokenizer';
import { mixSeed, seededRandom } from '../util/seeded-random';
import { classTokenIds, checkExpertsTokens, expertTemplate, layoutSequences } from './experts';
import { PromptLearner } from './prompt-learner';

/** The learned part of a CoCoOp run: the context vectors [n, width] and the meta-network. */
export interface CoCoOpParams {
  ctx: Tensor2D;
  /** [P, hidden], [hidden], [hidden, width], [width]. */
  W1: Tensor2D;
  b1: Tensor1D;
  W2: Tensor2D;
  b2: Tensor1D;
}

/** The same as plain arrays (stored with the run: the "table" of a conditional method). */
export interface CoCoOpWeights {
  contextLength: number;
  width: number;
  hidden: number;
  ctx: Float32Array;
  W1: Float32Array;
  b1: Float32Array;
  W2: Float32Array;
  b2: Float32Array;
}

export const COCOOP_PARAM_NAMES = ['ctx', 'W1', 'b1', 'W2', 'b2'] as const;

export const paramList = (p: CoCoOpParams): Tensor[] => [p.ctx, p.W1, p.b1, p.W2, p.b2];
export const paramsFrom = (t: Tensor[]): CoCoOpParams => ({
  ctx: t[0] as Tensor2D,
  W1: t[1] as Tensor2D,
  b1: t[2] as Tensor1D,
  W2: t[3] as Tensor2D,
  b2: t[4] as Tensor1D
});

/** The meta-network's hidden width: the image feature size / 16, as CoCoOp. */
export const metaHidden = (dim: number): number => Math.max(1, Math.floor(dim / 16));

/**
 * A PyTorch nn.Linear's default initialisation (weight and bias uniform in ±1/√fan_in), seeded: the
 * meta-network starts as CoCoOp's does (up to the random generator).
 */
export function initMetaNet(dim: number, width: number, seed: number): Pick<CoCoOpParams, 'W1' | 'b1' | 'W2' | 'b2'> {
  const hidden = metaHidden(dim);
  const uniform = (n: number, fanIn: number, part: string) => {
    const random = seededRandom(mixSeed('cocoop-meta', seed, part));
    const bound = 1 / Math.sqrt(fanIn);
    return Float32Array.from({ length: n }, () => (2 * random() - 1) * bound);
  };
  return {
    W1: tf.tensor2d(uniform(dim * hidden, dim, 'W1'), [dim, hidden]),
    b1: tf.tensor1d(uniform(hidden, dim, 'b1')),
    W2: tf.tensor2d(uniform(hidden * width, hidden, 'W2'), [hidden, width]),
    b2: tf.tensor1d(uniform(width, hidden, 'b2'))
  };
}

/** π(x̂) [B, width] for normalised image features [B, P]. */
export function metaBias(meta: Pick<CoCoOpParams, 'W1' | 'b1' | 'W2' | 'b2'>, images: Tensor2D): Tensor2D {
  return tf.tidy(() => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(images, meta.W1), meta.b1)), meta.W2), meta.b2) as Tensor2D);
}

/** Unit rows. */
const normalise = (x: Tensor2D): Tensor2D => tf.div(x, tf.norm(x, 'euclidean', -1, true)) as Tensor2D;

/** The prompt layout of CoCoOp's classes: one learned prefix ("a photo of a"), the class, a fixed ".". */
export function cocoopLearner(tokenizer: ClipTokenizer, text: PromptLearner['text'], template: string, names: string[], contextLength: number): PromptLearner {
  const expert = expertTemplate(tokenizer, template);
  const ids = classTokenIds(tokenizer, names, false);
  checkExpertsTokens(tokenizer, [expert], names, ids);
  return new PromptLearner(layoutSequences([expert], ids, tokenizer.sotId, tokenizer.eotId, contextLength), text);
}

/** Token embeddings [B·C, tokens, width] of every image's class prompts: ctx + π_b in the context slots. */
function conditionalEmbeddings(learner: PromptLearner, ctx: Tensor2D, bias: Tensor2D): Tensor3D {
  return tf.tidy(() => {
    const B = bias.shape[0];
    const empty = tf.zeros([0, learner.text.width]) as Tensor2D;
    const parts = Array.from({ length: B }, (_, b) =>
      learner.embeddings({ prefix: [tf.add(ctx, tf.slice(bias, [b, 0], [1, -1])) as Tensor2D], suffix: [empty] })
    );
    return tf.concat(parts, 0) as Tensor3D;
  });
}

/** Each image's rows share SOT and its context vectors: an engine may encode that prefix once per image. */
function imageGroups(learner: PromptLearner, B: number): { start: number; count: number; prefix: number }[] {
  const C = learner.layout.classes;
  const prefix = 1 + learner.layout.prefixLength[0]!;
  return Array.from({ length: B }, (_, b) => ({ start: b * C, count: C, prefix }));
}

/** Cross-entropy of the logits s·x̂·t̂ [B, C], t̂ the normalised text features [B·C, P]. */
function crossEntropy(features: Tensor2D, images: Tensor2D, labels: Tensor1D, scale: number): { loss: Tensor; logits: Tensor2D } {
  const [B, P] = images.shape;
  const C = features.shape[0] / B;
  const t = tf.reshape(normalise(features), [B, C, P]) as Tensor3D;
  const logits = tf.mul(tf.squeeze(tf.matMul(t, tf.reshape(images, [B, P, 1])), [2]), scale) as Tensor2D;
  const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(labels, 'int32'), C), logits);
  return { loss, logits };
}

export interface CoCoOpStep {
  loss: number;
  /** [B, C] logits of the step's images. */
  logits: Float32Array;
  grads: CoCoOpParams;
}

/**
 * CoCoOp's loss on a batch of normalised image features and its gradients: the text tower runs once
 * forward on every image's class prompts and carries dL/dfeatures back to the token embeddings; the
 * context's gradient sums over images, π's over the context slots, and the meta-network's follows.
 */
export async function cocoopLossAndGradients(
  learner: PromptLearner,
  params: CoCoOpParams,
  images: Tensor2D,
  labels: number[],
  scale: number,
  gradients: TextGradients
): Promise<CoCoOpStep> {
  const B = labels.length;
  const C = learner.layout.classes;
  const bias = metaBias(params, images);
  const embeds = conditionalEmbeddings(learner, params.ctx, bias);
  const y = tf.tensor1d(labels, 'int32');
  let loss = 0;
  let logits: Float32Array = new Float32Array(0);
  const eot = Array.from({ length: B }, () => learner.eot).flat();
  const { features, dEmbeds } = await gradients.encodeWithGrad(
    embeds,
    eot,
    (F) =>
      tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads((f: Tensor) => {
          const out = crossEntropy(f as Tensor2D, images, y, scale);
          logits = out.logits.dataSync().slice() as Float32Array;
          return out.loss;
        })([F]);
        loss = value.dataSync()[0]!;
        return grads[0] as Tensor2D;
      }),
    imageGroups(learner, B)
  );
  const perImage = tf.tidy(() =>
    Array.from({ length: B }, (_, b) => {
      const slice = tf.slice(dEmbeds, [b * C, 0, 0], [C, -1, -1]) as Tensor3D;
      const g = learner.contextGradients(slice);
      const d = g.prefix[0]!;
      tf.dispose([...g.suffix]);
      return d;
    })
  );
  const grads = tf.tidy(() => {
    const dCtx = tf.addN(perImage) as Tensor2D;
    // π_b is added to every context slot: its gradient is the sum over the slots.
    const dBias = tf.stack(perImage.map((d) => tf.sum(d, 0))) as Tensor2D;
    const [dW1, db1, dW2, db2] = tf.grads((W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor) =>
      tf.sum(tf.mul(metaBias({ W1: W1 as Tensor2D, b1: b1 as Tensor1D, W2: W2 as Tensor2D, b2: b2 as Tensor1D }, images), dBias))
    )([params.W1, params.b1, params.W2, params.b2]);
    return { ctx: dCtx, W1: dW1 as Tensor2D, b1: db1 as Tensor1D, W2: dW2 as Tensor2D, b2: db2 as Tensor1D };
  });
  tf.dispose([bias, embeds, y, features, dEmbeds, ...perImage]);
  return { loss, logits, grads };
}

/**
 * Cosine scores x̂·t̂_c(x) [N][C] of normalised image features under CoCoOp weights: the text tower runs
 * on every image's class prompts (in chunks of about `rowsPerChunk` sequences).
 */
export async function conditionalScores(
  learner: PromptLearner,
  weights: CoCoOpWeights,
  images: Float32Array[],
  gradients: Pick<TextGradients, 'encode'>,
  rowsPerChunk = 256
): Promise<number[][]> {
  const C = learner.layout.classes;
  const P = images[0]?.length ?? 0;
  const per = Math.max(1, Math.floor(rowsPerChunk / C));
  const params = fromWeights(weights, P);
  const out: number[][] = [];
  try {
    for (let start = 0; start < images.length; start += per) {
      const chunk = images.slice(start, start + per);
      const x = tf.tensor2d(Float32Array.from(chunk.flatMap((f) => Array.from(f))), [chunk.length, P]);
      const bias = metaBias(params, x);
      const embeds = conditionalEmbeddings(learner, params.ctx, bias);
      const eot = Array.from({ length: chunk.length }, () => learner.eot).flat();
      const F = await gradients.encode(embeds, eot, imageGroups(learner, chunk.length));
      const scores = tf.tidy(() => {
        const t = tf.reshape(normalise(F), [chunk.length, C, P]) as Tensor3D;
        return tf.squeeze(tf.matMul(t, tf.reshape(x, [chunk.length, P, 1])), [2]);
      });
      const data = scores.dataSync();
      for (let b = 0; b < chunk.length; b++) out.push(Array.from(data.subarray(b * C, (b + 1) * C)));
      tf.dispose([x, bias, embeds, F, scores]);
    }
    return out;
  } finally {
    tf.dispose(paramList(params));
  }
}

/** Tensors → stored weights. */
export function toWeights(params: CoCoOpParams): CoCoOpWeights {
  const [n, width] = params.ctx.shape;
  return {
    contextLength: n,
    width,
    hidden: params.W1.shape[1],
    ctx: params.ctx.dataSync().slice() as Float32Array,
    W1: params.W1.dataSync().slice() as Float32Array,
    b1: params.b1.dataSync().slice() as Float32Array,
    W2: params.W2.dataSync().slice() as Float32Array,
    b2: params.b2.dataSync().slice() as Float32Array
  };
}

/** Stored weights → tensors (the caller disposes them). */
export function fromWeights(w: CoCoOpWeights, dim: number): CoCoOpParams {
  return {
    ctx: tf.tensor2d(w.ctx, [w.contextLength, w.width]),
    W1: tf.tensor2d(w.W1, [dim, w.hidden]),
    b1: tf.tensor1d(w.b1),
    W2: tf.tensor2d(w.W2, [w.hidden, w.width]),
    b2: tf.tensor1d(w.b2)
  };
}

/** How a run's class names become CoCoOp prompts: its prompt layout and the underscore rule. */
export interface ConditionalSpec {
  promptTemplate: string;
  underscoresAsSpaces: boolean;
}

/**
 * Cosine scores [N][C] of images against these class names under a CoCoOp table, with a loaded model's
 * text tower (the learner is built for exactly these names, so any name can be scored).
 */
export async function conditionalScoresWith(
  engine: {
    tokenizer: ClipTokenizer;
    model: { text: PromptLearner['text']; config: { text: { contextLength: number } } };
    textGradients(): Promise<TextGradients>;
  },
  weights: CoCoOpWeights,
  names: string[],
  spec: ConditionalSpec,
  images: Float32Array[]
): Promise<number[][]> {
  if (images.length === 0) return [];
  const shown = spec.underscoresAsSpaces ? names.map((n) => n.replace(/_/g, ' ')) : names;
  const learner = cocoopLearner(engine.tokenizer, engine.model.text, spec.promptTemplate, shown, engine.model.config.text.contextLength);
  try {
    return await conditionalScores(learner, weights, images, await engine.textGradients());
  } finally {
    learner.dispose();
  }
}
