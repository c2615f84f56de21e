/**
 * CoCoOp's training loop on cached (or augmented) image features: the same SGD, schedule, seeded epoch
 * order, whole batches, per-epoch checkpoints and cancelling as the prompt trainer; CoCoOp's own
 * parameters (context + meta-network) and loss (cross-entropy at CLIP's logit scale).
 */
import { countCorrect } from './batch-accuracy';
import type { ClipEngine } from '../clip/engine';
import { type Tensor, type Tensor2D, tf } from '../clip/tf';
import { COOP_BASE_TO_NEW_PROMPT } from './baselines';
import { restoreCheckpoint, serializeCheckpoint } from './checkpoint';
import { cocoopLearner, cocoopLossAndGradients, initMetaNet, paramList, paramsFrom, toWeights } from './cocoop';
import type { ExpertTable } from './inference';
import { sgdStep } from './sgd';
import {
  type TrainCallbacks,
  type TrainData,
  type TrainResult,
  type TrainSettings,
  TrainingDivergedError,
  epochOrder,
  learningRate,
  stepsPerEpoch
} from './trainer';

/** The message a checkpoint of another run is refused with. */
const CHECKPOINT_MISMATCH = 'The checkpoint does not match this run (a different model or prompt).';

/** CoCoOp's prompt: CoOp's base-to-new layout ("a photo of a" as 4 learned vectors, the class, a fixed "."). */
export const COCOOP_PROMPT = COOP_BASE_TO_NEW_PROMPT;

export async function trainCoCoOp(
  engine: Pick<ClipEngine, 'tokenizer' | 'model' | 'dim' | 'logitScale' | 'textGradients'>,
  data: TrainData,
  settings: TrainSettings,
  callbacks: TrainCallbacks = {},
  resumeFrom?: Buffer
): Promise<TrainResult> {
  const template = settings.promptTemplate ?? COCOOP_PROMPT;
  const names = data.classNames.map((n) => (settings.underscoresAsSpaces ? n.replace(/_/g, ' ') : n));
  const C = names.length;
  const P = engine.dim;
  const contextLength = engine.model.config.text.contextLength;
  const learner = cocoopLearner(engine.tokenizer, engine.model.text, template, names, contextLength);
  const gradients = await engine.textGradients();
  const scale = engine.logitScale;

  const context = learner.initialContext();
  tf.dispose(context.suffix);
  let params: Tensor[] = paramList({ ctx: context.prefix[0]!, ...initMetaNet(P, engine.model.text.width, settings.seed) });
  let velocity: Tensor[] = params.map((t) => tf.zerosLike(t));
  let startEpoch = 0;
  if (resumeFrom) {
    const restored = restoreCheckpoint(resumeFrom, { params, velocity: params }, CHECKPOINT_MISMATCH);
    tf.dispose([...params, ...velocity]);
    params = restored.lists.params;
    velocity = restored.lists.velocity;
    startEpoch = restored.epoch + 1;
  }

  const N = data.features.length;
  const perEpoch = stepsPerEpoch(N, settings.batchSize);
  const totalSteps = perEpoch * settings.epochs;
  let step = startEpoch * perEpoch;
  let stopped = false;
  let lastEpoch = startEpoch - 1;
  const started = performance.now();
  let stepsHere = 0;
  try {
    for (let epoch = startEpoch; epoch < settings.epochs && !stopped; epoch++) {
      const lr = learningRate(settings, epoch);
      const order = epochOrder(settings.seed, epoch, N);
      for (let s = 0; s < perEpoch; s++) {
        if (callbacks.shouldStop?.()) {
          stopped = true;
          break;
        }
        const idx = order.slice(s * settings.batchSize, (s + 1) * settings.batchSize);
        const flat = new Float32Array(idx.length * P);
        if (data.views) (await data.views.features(epoch, idx)).forEach((f, k) => flat.set(f, k * P));
        else idx.forEach((n, k) => flat.set(data.features[n]!, k * P));
        const images = tf.tensor2d(flat, [idx.length, P]) as Tensor2D;
        const labels = idx.map((n) => data.labels[n]!);
        const result = await cocoopLossAndGradients(learner, paramsFrom(params), images, labels, scale, gradients);
        const grads = paramList(result.grads);
        const gradNorm = tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!);
        if (!Number.isFinite(result.loss) || !Number.isFinite(gradNorm)) {
          tf.dispose([...grads, images]);
          throw new TrainingDivergedError(epoch, step + 1, result.loss, settings.lr);
        }
        // SGD with momentum and (coupled) weight decay, as torch.optim.SGD.
        const next = sgdStep(params, grads, velocity, { lr, momentum: settings.momentum, weightDecay: settings.weightDecay });
        tf.dispose([...params, ...velocity, ...grads, images]);
        params = next.params;
        velocity = next.velocity;

        const correct = countCorrect(result.logits, labels, C);
        step++;
        stepsHere++;
        const elapsed = (performance.now() - started) / 1000;
        callbacks.onStep?.({
          event: 'step',
          epoch,
          step,
          loss: result.loss,
          l_ce: result.loss,
          l_gate: 0,
          l_text: 0,
          lr,
          accuracy: correct / labels.length,
          images_per_s: (stepsHere * Math.min(settings.batchSize, N)) / Math.max(elapsed, 1e-6),
          eta_s: (elapsed / stepsHere) * (totalSteps - step)
        });
      }
      if (!stopped) {
        lastEpoch = epoch;
        callbacks.onEpoch?.(epoch, serializeCheckpoint(epoch, { params, velocity }));
      }
    }
    const weights = toWeights(paramsFrom(params));
    const A = C + data.virtualNames.length;
    const table: ExpertTable = {
      experts: 1,
      classes: A,
      dim: P,
      // No fixed class features: scoring runs the text tower per image (see `conditional`).
      features: new Float32Array(0),
      W: new Float32Array(P),
      b: new Float32Array(1),
      topK: 1,
      logitScale: scale,
      conditional: weights
    };
    return { table, steps: step, stopped, lastEpoch };
  } finally {
    tf.dispose([...params, ...velocity]);
    learner.dispose();
  }
}
