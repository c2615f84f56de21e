/**
 * Classes after training (open vocabulary): a class named after a run was trained is scored by
 * encoding its name through each learned expert — [SOT] prefix_j name suffix_j [EOT] with the run's
 * final context vectors, text tower forward only — and appending those rows to the run's table. The
 * rows of classes the run already has are the same computation as the trained table's.
 */
import type { ClipEngine } from '../clip/engine';
import { type Tensor2D, tf } from '../clip/tf';
import { checkExpertsTokens, classTokenIds, expertTemplate, layoutSequences } from './experts';
import type { ExpertTable } from './inference';
import { type ContextVectors, PromptLearner } from './prompt-learner';

/** What encoding through the experts needs from an engine. */
export type ExpertTextEngine = Pick<ClipEngine, 'tokenizer' | 'model' | 'textGradients' | 'dim'>;

export interface LearnedPrompts {
  /** Per expert: [prefix tokens, width] and [suffix tokens, width], row-major. */
  prefix: { shape: [number, number]; data: number[] }[];
  suffix: { shape: [number, number]; data: number[] }[];
  /** The released-code preset's correction vector [P] (zero under the paper preset). */
  correction: number[];
}

/**
 * The learned prompts in a run's checkpoint (the trainer's format: every expert's prefix, then every
 * expert's suffix, then W, b and the correction vector, each {shape, data}). The checkpoint of a
 * finished run holds the parameters its table was computed from.
 */
export function learnedPrompts(checkpoint: Buffer, experts: number): LearnedPrompts {
  let state: { params?: { shape: number[]; data: number[] }[] };
  try {
    state = JSON.parse(checkpoint.toString('utf8'));
  } catch (error) {
    throw new Error(`the run's checkpoint cannot be read (${(error as Error).message})`, { cause: error });
  }
  const params = state.params ?? [];
  if (params.length !== 2 * experts + 3)
    throw new Error(`the run's checkpoint holds ${params.length} tensors, not the ${2 * experts + 3} of ${experts} expert(s)`);
  const pair = (p: { shape: number[]; data: number[] }) => ({ shape: [p.shape[0] ?? 0, p.shape[1] ?? 0] as [number, number], data: p.data });
  return { prefix: params.slice(0, experts).map(pair), suffix: params.slice(experts, 2 * experts).map(pair), correction: params[2 * experts + 2]!.data };
}

export interface ExpertEncoding {
  /** The groups the run trained (CoOp/KgCoOp: the one "a photo of a {}." group). */
  groups: string[][];
  underscoresAsSpaces: boolean;
  /** Released-code preset: the correction vector is added before normalisation. */
  released: boolean;
}

/**
 * L2-normalised features [G, N, P] of `names` through each learned expert (row (j·N + n)·P), the same
 * computation as the trained table's. Classes are encoded in chunks of at most `rowsPerBatch` rows.
 */
export async function encodeThroughExperts(
  engine: ExpertTextEngine,
  spec: ExpertEncoding,
  prompts: LearnedPrompts,
  names: string[],
  rowsPerBatch = 256
): Promise<Float32Array> {
  const tokenizer = engine.tokenizer;
  const G = spec.groups.length;
  const N = names.length;
  const P = engine.dim;
  const width = engine.model.text.width;
  if (prompts.prefix.length !== G) throw new Error(`the checkpoint has ${prompts.prefix.length} expert(s), the run's settings ${G}`);
  const shown = spec.underscoresAsSpaces ? names.map((n) => n.replace(/_/g, ' ')) : names;
  const experts = spec.groups.map((g) => expertTemplate(tokenizer, g[0]!));
  experts.forEach((e, j) => {
    if (prompts.prefix[j]!.shape[0] !== e.prefixIds.length || prompts.suffix[j]!.shape[0] !== e.suffixIds.length || prompts.prefix[j]!.shape[1] !== width) {
      throw new Error(
        `expert ${j + 1} ("${e.template}") has ${e.prefixIds.length}+${e.suffixIds.length} context tokens, its learned prompt ${prompts.prefix[j]!.shape[0]}+${prompts.suffix[j]!.shape[0]}`
      );
    }
  });
  const ids = classTokenIds(tokenizer, shown, false);
  checkExpertsTokens(tokenizer, experts, shown, ids);
  const gradients = await engine.textGradients();
  const context: ContextVectors = {
    prefix: prompts.prefix.map((p) => tf.tensor2d(p.data, p.shape)),
    suffix: prompts.suffix.map((p) => tf.tensor2d(p.data, p.shape))
  };
  const correction = spec.released ? tf.tensor1d(prompts.correction) : null;
  const out = new Float32Array(G * N * P);
  try {
    const perChunk = Math.max(1, Math.floor(rowsPerBatch / G));
    for (let start = 0; start < N; start += perChunk) {
      const count = Math.min(perChunk, N - start);
      const layout = layoutSequences(experts, ids.slice(start, start + count), tokenizer.sotId, tokenizer.eotId, engine.model.config.text.contextLength);
      const learner = new PromptLearner(layout, engine.model.text);
      try {
        const embeds = learner.embeddings(context);
        const raw = await gradients.encode(embeds, layout.eot);
        const features = tf.tidy(() => {
          const f = correction ? tf.add(raw, correction) : raw;
          return tf.div(f, tf.norm(f, 'euclidean', -1, true)) as Tensor2D;
        });
        const data = features.dataSync() as Float32Array;
        tf.dispose([embeds, raw, features]);
        for (let j = 0; j < G; j++) {
          for (let a = 0; a < count; a++) out.set(data.subarray((j * count + a) * P, (j * count + a + 1) * P), (j * N + start + a) * P);
        }
      } finally {
        learner.dispose();
      }
    }
  } finally {
    tf.dispose([...context.prefix, ...context.suffix, ...(correction ? [correction] : [])]);
  }
  return out;
}

/** The run's table with rows [G, M, P] for M more classes appended after its own A (the original rows unchanged). */
export function appendClasses(table: ExpertTable, rows: Float32Array, added: number): ExpertTable {
  const { experts: G, classes: A, dim: P } = table;
  if (rows.length !== G * added * P) throw new Error(`expected ${G}×${added}×${P} features, got ${rows.length} numbers`);
  const B = A + added;
  const features = new Float32Array(G * B * P);
  for (let j = 0; j < G; j++) {
    features.set(table.features.subarray(j * A * P, (j + 1) * A * P), j * B * P);
    features.set(rows.subarray(j * added * P, (j + 1) * added * P), (j * B + A) * P);
  }
  return { ...table, classes: B, features };
}
