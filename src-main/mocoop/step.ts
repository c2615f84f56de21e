/**
 * One evaluation of MoCoOp's loss and its gradients with respect to every expert's context vectors
 * and the router. The text encoder runs once forward; the loss's gradient with respect to the text
 * features is then carried back through the encoder block by block.
 */
import { type TextGradients, tfjsTextGradients } from '../clip/text-gradients';
import { type Tensor, type Tensor1D, type Tensor2D, tf } from '../clip/tf';
import {
  type Batch,
  type FrozenTargets,
  type LossContext,
  type LossSettings,
  hardGate,
  mocoopLoss,
  releasedGateTarget,
  routerLogits,
  topKMask
} from './losses';
import type { ContextVectors, PromptLearner } from './prompt-learner';

export interface Router {
  W: Tensor2D;
  b: Tensor1D;
  /** Released-code preset: a learnable vector added to every expert text feature before normalisation. */
  correction?: Tensor1D;
}

export interface StepResult {
  losses: { L: number; Lce: number; Lgate: number; Ltext: number; Lkg: number };
  /** Raw (projected, not normalised) text features of every (expert, class) sequence. */
  features: Tensor2D;
  logitsCe: Float32Array;
  topK: number[][];
  grads: { context: ContextVectors; W: Tensor2D; b: Tensor1D; correction?: Tensor1D };
}

export async function lossAndGradients(
  learner: PromptLearner,
  context: ContextVectors,
  router: Router,
  batch: Batch,
  targets: FrozenTargets,
  settings: LossSettings,
  classes: number,
  released?: { prototypes: Tensor },
  gradients: TextGradients = tfjsTextGradients(learner.text)
): Promise<StepResult> {
  const { experts } = learner.layout;
  const allClasses = learner.layout.classes;
  const B = batch.labels.length;
  const probs = tf.tidy(() => tf.softmax(routerLogits(batch.images, router.W, router.b)));
  const { mask, indices } = topKMask(probs.dataSync() as Float32Array, B, experts, settings.topK);
  probs.dispose();
  const topK = tf.tensor2d(mask, [B, experts]);
  const pHard = hardGate(batch.images, targets.groupFeatures, settings.tauGate);
  const gateTarget = released ? releasedGateTarget(batch.images, released.prototypes, batch.labels) : null;
  const ctx: LossContext = {
    experts,
    classes,
    allClasses,
    batch,
    targets,
    topK,
    pHard,
    settings,
    released: released && gateTarget ? { prototypes: released.prototypes, gateTarget } : undefined
  };
  const correction = settings.preset === 'released-code' ? router.correction : undefined;

  let values: StepResult['losses'] = { L: 0, Lce: 0, Lgate: 0, Ltext: 0, Lkg: 0 };
  let logitsCe: Float32Array = new Float32Array(0);
  let dW: Tensor2D | null = null;
  let db: Tensor1D | null = null;
  let dv: Tensor1D | undefined;
  const embeds = learner.embeddings(context);
  const { features, dEmbeds } = await gradients.encodeWithGrad(
    embeds,
    learner.eot,
    (F) => {
      const out = tf.tidy(() => {
        const shifted = correction ? (tf.add(F, correction) as Tensor2D) : F;
        // One evaluation of the loss: its value, its parts and the classification logits are read
        // while the gradient tape records it, and its gradients come from the same evaluation.
        const {
          grads: [gF, gW, gb]
        } = tf.valueAndGrads((f: Tensor, w: Tensor, bb: Tensor) => {
          const loss = mocoopLoss(f as Tensor2D, w as Tensor2D, bb as Tensor1D, ctx);
          values = {
            L: loss.L.dataSync()[0]!,
            Lce: loss.Lce.dataSync()[0]!,
            Lgate: loss.Lgate.dataSync()[0]!,
            Ltext: loss.Ltext.dataSync()[0]!,
            Lkg: loss.Lkg.dataSync()[0]!
          };
          logitsCe = loss.logitsCe.dataSync() as Float32Array;
          return loss.L;
        })([shifted, router.W, router.b]);
        // d(F + v)/dv sums over rows: the correction's gradient is the column sum of dL/dF.
        return { gF: gF as Tensor2D, gW: gW as Tensor2D, gb: gb as Tensor1D, gv: correction ? (tf.sum(gF!, 0) as Tensor1D) : undefined };
      });
      dW = out.gW;
      db = out.gb;
      dv = out.gv;
      return out.gF;
    },
    learner.sharedPrefixGroups()
  );
  const contextGrads = learner.contextGradients(dEmbeds);
  tf.dispose([embeds, dEmbeds, topK, pHard]);
  if (gateTarget) gateTarget.dispose();
  return { losses: values, features, logitsCe, topK: indices, grads: { context: contextGrads, W: dW!, b: db!, correction: dv } };
}
