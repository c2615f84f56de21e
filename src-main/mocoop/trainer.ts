/**
 * The training loop for MoCoOp and the prompt-learning baselines on cached image features:
 * SGD with momentum and weight decay, constant warm-up epochs then a cosine schedule restarted after
 * them (as Dassl), whole batches only (the last partial one dropped, as Dassl), seeded shuffling (epoch e's order depends only on the seed and e, so a resumed run is identical),
 * a checkpoint after every epoch, and the table of expert class features at the end.
 */
import { countCorrect } from './batch-accuracy';
import type { BatchViews } from '../clip/augment';
import type { ClipEngine } from '../clip/engine';
import { stepsPerEpoch } from '../contract/augmentation';
import { type Tensor, type Tensor1D, type Tensor2D, tf } from '../clip/tf';
import { type ExpertTemplate, checkExpertsTokens, classTokenIds, expertTemplate, layoutSequences, templateText } from './experts';
import { mixSeed, normalRandom, seededRandom } from '../util/seeded-random';
import type { ExpertTable } from './inference';
import type { LossSettings } from './losses';
import { type ContextVectors, PromptLearner } from './prompt-learner';
import { restoreCheckpoint, serializeCheckpoint } from './checkpoint';
import { sgdStep } from './sgd';
import { lossAndGradients } from './step';

/**
 * The prompt-learning methods. The paper's Table 2 ablations by name: `mocoop-moe` (the experts and
 * router with L_ce only), `mocoop-gate` (+ the hard-prompt gate loss), `mocoop-text` (+ the text loss:
 * the full method, as `mocoop`); `mocoop-no-gate` and `mocoop-no-text` leave one term out.
 */
export { PROMPT_METHODS as METHODS, type PromptMethod } from '../contract/methods';
import type { PromptMethod } from '../contract/methods';

export interface TrainSettings {
  method: PromptMethod;
  preset: 'paper' | 'released-code';
  topK: number;
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  warmupEpochs: number;
  warmupLr: number;
  seed: number;
  tauCe: number;
  tauGate: number;
  tauText: number;
  lambda1: number;
  lambda2: number;
  lambdaKg: number;
  underscoresAsSpaces: boolean;
  /** CoOp and KgCoOp: the learned prompt's layout (see expertTemplate), e.g. "a photo of a {}||."; older runs: "a photo of a {}.". */
  promptTemplate?: string;
  /** KgCoOp: the hand-written prompt its knowledge term keeps the learned one near (the data set's own). */
  kgTemplate?: string;
}

/** The loss weights and temperatures a user may change per run. */
export const LOSS_KEYS = ['lambda1', 'lambda2', 'lambdaKg', 'tauCe', 'tauGate', 'tauText'] as const;
export type LossOverrides = Partial<Pick<TrainSettings, (typeof LOSS_KEYS)[number]>>;

export const PAPER_DEFAULTS: Omit<TrainSettings, 'method' | 'epochs' | 'lr'> = {
  preset: 'paper',
  topK: 2,
  batchSize: 32,
  momentum: 0.9,
  weightDecay: 5e-4,
  warmupEpochs: 1,
  warmupLr: 1e-5,
  seed: 1,
  tauCe: 0.07,
  tauGate: 0.07,
  tauText: 0.07,
  lambda1: 1,
  lambda2: 5,
  lambdaKg: 8,
  underscoresAsSpaces: true
};

export interface TrainData {
  classNames: string[];
  virtualNames: string[];
  groups: string[][];
  features: Float32Array[];
  labels: number[];
  /**
   * Augmented views (fresh or pooled): each step's image features come from here instead of
   * `features` (the same images, in the same order).
   */
  views?: BatchViews;
}

export interface StepEvent {
  event: 'step';
  epoch: number;
  step: number;
  loss: number;
  l_ce: number;
  l_gate: number;
  l_text: number;
  /** KgCoOp's knowledge term (unweighted; the loss adds λ_kg times it). Absent for methods without it. */
  l_kg?: number;
  lr: number;
  accuracy: number;
  images_per_s: number;
  eta_s: number;
}

export interface TrainCallbacks {
  onStep?: (event: StepEvent) => void;
  onEpoch?: (epoch: number, checkpoint: Buffer) => void;
  shouldStop?: () => boolean;
}

/**
 * Learning rate of epoch e (0-based), as Dassl's ConstantWarmupScheduler around CosineAnnealingLR with
 * WARMUP_RECOUNT (its default, and the released configs'): the warm-up epochs e < W run at the constant
 * warm-up rate, then the cosine starts over from the full rate: lr = base·½(1 + cos(π(e − W)/E)), E the
 * epochs of the whole run (so the last epoch never reaches 0).
 */
export function learningRate(s: Pick<TrainSettings, 'lr' | 'epochs' | 'warmupEpochs' | 'warmupLr'>, epoch: number): number {
  if (epoch < s.warmupEpochs) return s.warmupLr;
  return 0.5 * s.lr * (1 + Math.cos((Math.PI * (epoch - s.warmupEpochs)) / s.epochs));
}

/** Epoch e's order of the N training images: a shuffle seeded by (seed, e) only, so a resumed run is identical. */
export function epochOrder(seed: number, epoch: number, N: number): number[] {
  const random = seededRandom(seed * 100003 + epoch);
  const order = Array.from({ length: N }, (_, i) => i);
  for (let i = N - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Steps per epoch (whole batches, the last partial one dropped as Dassl); shared with the Train page's estimates. */
export { stepsPerEpoch };

/** The groups a method trains: CoOp and KgCoOp one expert from their prompt layout (runs recorded before layouts: "a photo of a {}."). */
export function groupsFor(method: PromptMethod, groups: string[][], promptTemplate?: string): string[][] {
  return method === 'coop' || method === 'kgcoop' || method === 'cocoop' ? [[promptTemplate ?? 'a photo of a {}.']] : groups;
}

/** Whether a method keeps the gate loss (λ1) and the text loss (λ2), as the paper's Table 2 rows. */
export function lossTerms(method: PromptMethod): { gate: boolean; text: boolean } {
  switch (method) {
    case 'coop':
    case 'kgcoop':
    case 'cocoop':
    case 'mocoop-moe':
      return { gate: false, text: false };
    case 'mocoop-no-text':
    case 'mocoop-gate':
      return { gate: true, text: false };
    case 'mocoop-no-gate':
      return { gate: false, text: true };
    default:
      return { gate: true, text: true };
  }
}

export function lossSettingsFor(s: TrainSettings, experts: number, logitScale = 100): LossSettings {
  return {
    preset: s.preset,
    logitScale,
    topK: Math.min(s.topK, experts),
    tauCe: s.tauCe,
    tauGate: s.tauGate,
    tauText: s.tauText,
    lambda1: lossTerms(s.method).gate ? s.lambda1 : 0,
    lambda2: lossTerms(s.method).text ? s.lambda2 : 0,
    lambdaKg: s.method === 'kgcoop' ? s.lambdaKg : 0
  };
}

interface Params {
  context: ContextVectors;
  W: Tensor2D;
  b: Tensor1D;
  /** The released code's correction vector (stays zero under the paper preset). */
  correction: Tensor1D;
}

const list = (p: Params): Tensor[] => [...p.context.prefix, ...p.context.suffix, p.W, p.b, p.correction];

function fromList(tensors: Tensor[], G: number): Params {
  return {
    context: { prefix: tensors.slice(0, G) as Tensor2D[], suffix: tensors.slice(G, 2 * G) as Tensor2D[] },
    W: tensors[2 * G] as Tensor2D,
    b: tensors[2 * G + 1] as Tensor1D,
    correction: tensors[2 * G + 2] as Tensor1D
  };
}

/** A checkpoint of a run that is not this one (other experts or classes) is refused with this. */
const CHECKPOINT_MISMATCH = 'The checkpoint does not match this run (different experts or classes).';

/** A step whose loss or gradients are not finite numbers: the run stops as failed, saying what to change. */
export class TrainingDivergedError extends Error {
  constructor(
    readonly epoch: number,
    readonly step: number,
    readonly loss: number,
    lr: number
  ) {
    super(
      `Training diverged at step ${step} (epoch ${epoch + 1}): the ${Number.isFinite(loss) ? 'gradients are' : `loss is ${loss}`} not a finite number. ` +
        `Lower the learning rate (it is ${lr}) and start the run again.`
    );
    this.name = 'TrainingDivergedError';
  }
}

export interface TrainResult {
  table: ExpertTable;
  steps: number;
  stopped: boolean;
  lastEpoch: number;
}

/**
 * The context vectors training starts from: the template's word embeddings, or for a random layout
 * ("{ctx:N} …", CoOp's few-shot init) N vectors drawn from N(0, 0.02²), seeded by the run's seed.
 */
export function initialContext(learner: PromptLearner, experts: ExpertTemplate[], seed: number): ContextVectors {
  const context = learner.initialContext();
  experts.forEach((e, j) => {
    if (!e.randomPrefix) return;
    const [n, width] = context.prefix[j]!.shape;
    const normal = normalRandom(seededRandom(mixSeed('context', seed, j)));
    context.prefix[j]!.dispose();
    context.prefix[j] = tf.tensor2d(
      Float32Array.from({ length: n * width }, () => 0.02 * normal()),
      [n, width]
    );
  });
  return context;
}

export async function trainPrompts(
  engine: ClipEngine,
  data: TrainData,
  settings: TrainSettings,
  callbacks: TrainCallbacks = {},
  resumeFrom?: Buffer
): Promise<TrainResult> {
  const tokenizer = engine.tokenizer;
  const text = engine.model.text;
  const groups = groupsFor(settings.method, data.groups, settings.promptTemplate);
  const G = groups.length;
  if (G === 0) throw new Error('There are no template groups: add at least one group of templates.');
  const singleExpert = settings.method === 'coop' || settings.method === 'kgcoop';
  if (!singleExpert && (settings.topK < 1 || settings.topK > G))
    throw new Error(`K (experts per image) must be between 1 and the number of groups (${G}); it is ${settings.topK}.`);
  const classNames = [...data.classNames, ...data.virtualNames];
  const C = data.classNames.length;
  const A = classNames.length;
  const P = engine.dim;
  const names = settings.underscoresAsSpaces ? classNames.map((n) => n.replace(/_/g, ' ')) : classNames;

  const experts = groups.map((g) => expertTemplate(tokenizer, g[0]!));
  const classIds = classTokenIds(tokenizer, names, false);
  checkExpertsTokens(tokenizer, experts, names, classIds);
  const contextLength = engine.model.config.text.contextLength;
  const layout = layoutSequences(experts, classIds, tokenizer.sotId, tokenizer.eotId, contextLength);
  const learner = new PromptLearner(layout, text);
  const loss = lossSettingsFor(settings, G, engine.logitScale);
  const released = settings.preset === 'released-code';
  // Virtual classes enter only the text-to-text loss: without it (CoOp, KgCoOp, MoCoOp without the
  // text loss) the steps encode the real classes alone, half the text work; the final table has all.
  const trained = loss.lambda2 === 0 ? C : A;
  const stepLearner =
    trained === A ? learner : new PromptLearner(layoutSequences(experts, classIds.slice(0, trained), tokenizer.sotId, tokenizer.eotId, contextLength), text);

  // Frozen hand-written prompt features h_(j,i)(a) and group prototypes g_j.
  const hard: Tensor[] = [];
  // KgCoOp's knowledge term compares with its hand-written prompt; the others with their groups' templates.
  const hardGroups = settings.method === 'kgcoop' && settings.kgTemplate ? [[settings.kgTemplate]] : groups.map((g) => g.map(templateText));
  for (const templates of hardGroups) {
    const vectors = await engine.embedTextsAsync(templates.flatMap((t) => names.slice(0, trained).map((n) => t.replace('{}', n))));
    const flat = new Float32Array(templates.length * trained * P);
    vectors.forEach((v, i) => flat.set(v, i * P));
    hard.push(tf.tensor3d(flat, [templates.length, trained, P]));
  }
  const gradients = await engine.textGradients();
  const groupFeatures = tf.tidy(() => tf.stack(hard.map((h) => tf.mean(tf.slice(h, [0, 0, 0], [h.shape[0]!, C, P]), [0, 1]))) as Tensor2D);
  // Released code: each group's prototype of each class = normalised mean over the group's templates.
  const prototypes = released
    ? tf.tidy(() =>
        tf.stack(
          hard.map((h) => {
            const m = tf.mean(h, 0);
            return tf.div(m, tf.norm(m, 'euclidean', -1, true));
          })
        )
      )
    : null;

  let params: Params = {
    context: initialContext(learner, experts, settings.seed),
    W: tf.zeros([G, P]) as Tensor2D,
    b: tf.zeros([G]) as Tensor1D,
    correction: tf.zeros([P]) as Tensor1D
  };
  let velocity: Params = fromList(
    list(params).map((t) => tf.zerosLike(t)),
    G
  );
  let startEpoch = 0;
  // A checkpoint of another run is refused inside the try, so that what was made so far is freed.
  try {
    if (resumeFrom) {
      const like = list(params);
      const restored = restoreCheckpoint(resumeFrom, { params: like, velocity: like }, CHECKPOINT_MISMATCH);
      tf.dispose([...list(params), ...list(velocity)]);
      params = fromList(restored.lists.params, G);
      velocity = fromList(restored.lists.velocity, G);
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
        if (data.views) {
          // The next step's images, for the views to prepare while this step trains.
          const nextEpoch = s + 1 < perEpoch ? epoch : epoch + 1;
          const next =
            nextEpoch >= settings.epochs
              ? undefined
              : {
                  epoch: nextEpoch,
                  indices: (nextEpoch === epoch ? order : epochOrder(settings.seed, nextEpoch, N)).slice(
                    nextEpoch === epoch ? (s + 1) * settings.batchSize : 0,
                    (nextEpoch === epoch ? s + 2 : 1) * settings.batchSize
                  )
                };
          (await data.views.features(epoch, idx, next)).forEach((f, k) => flat.set(f, k * P));
        } else idx.forEach((n, k) => flat.set(data.features[n]!, k * P));
        const images = tf.tensor2d(flat, [idx.length, P]);
        const labels = idx.map((n) => data.labels[n]!);
        const result = await lossAndGradients(
          stepLearner,
          params.context,
          params,
          { images, labels },
          { hard, groupFeatures },
          loss,
          C,
          prototypes ? { prototypes } : undefined,
          gradients
        );
        // SGD with momentum and (coupled) weight decay, as torch.optim.SGD.
        const grads = [
          ...result.grads.context.prefix,
          ...result.grads.context.suffix,
          result.grads.W,
          result.grads.b,
          result.grads.correction ?? tf.zerosLike(params.correction)
        ];
        const gradNorm = tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!);
        if (!Number.isFinite(result.losses.L) || !Number.isFinite(gradNorm)) {
          tf.dispose([...grads, result.features, images]);
          throw new TrainingDivergedError(epoch, step + 1, result.losses.L, settings.lr);
        }
        const p = list(params);
        const v = list(velocity);
        const next = sgdStep(p, grads, v, { lr, momentum: settings.momentum, weightDecay: settings.weightDecay });
        tf.dispose([...p, ...v, ...grads, result.features, images]);
        params = fromList(next.params, G);
        velocity = fromList(next.velocity, G);

        const correct = countCorrect(result.logitsCe, labels, C);
        step++;
        stepsHere++;
        const elapsed = (performance.now() - started) / 1000;
        callbacks.onStep?.({
          event: 'step',
          epoch,
          step,
          loss: result.losses.L,
          l_ce: result.losses.Lce,
          l_gate: result.losses.Lgate,
          l_text: result.losses.Ltext,
          ...(loss.lambdaKg ? { l_kg: result.losses.Lkg } : {}),
          lr,
          accuracy: correct / labels.length,
          images_per_s: (stepsHere * Math.min(settings.batchSize, N)) / Math.max(elapsed, 1e-6),
          eta_s: (elapsed / stepsHere) * (totalSteps - step)
        });
      }
      if (!stopped) {
        lastEpoch = epoch;
        callbacks.onEpoch?.(epoch, serializeCheckpoint(epoch, { params: list(params), velocity: list(velocity) }));
      }
    }

    // The fixed table of expert class features used for inference.
    const finalEmbeds = learner.embeddings(params.context);
    const raw = await gradients.encode(finalEmbeds, layout.eot, learner.sharedPrefixGroups());
    const table = tf.tidy(() => {
      const f = released ? tf.add(raw, params.correction) : raw;
      return tf.div(f, tf.norm(f, 'euclidean', -1, true));
    });
    tf.dispose([finalEmbeds, raw]);
    const result: TrainResult = {
      table: {
        experts: G,
        classes: A,
        dim: P,
        features: table.dataSync().slice() as Float32Array,
        W: params.W.dataSync().slice() as Float32Array,
        b: params.b.dataSync().slice() as Float32Array,
        topK: loss.topK,
        groupFeatures: groupFeatures.dataSync().slice() as Float32Array,
        tauGate: settings.tauGate,
        mixing: released ? 'dot' : 'cosine',
        // The scale of the run's classification logits, for probabilities at prediction time.
        logitScale: released ? (loss.logitScale ?? engine.logitScale) : 1 / settings.tauCe
      },
      steps: step,
      stopped,
      lastEpoch
    };
    table.dispose();
    return result;
  } finally {
    tf.dispose([...list(params), ...list(velocity), ...hard, groupFeatures, ...(prototypes ? [prototypes] : [])]);
    learner.dispose();
    if (stepLearner !== learner) stepLearner.dispose();
  }
}
