/**
 * The learnable context vectors of every expert and the map between them and the token positions
 * of all (expert, class) sequences. Both directions are plain 2-D products with a fixed one-hot
 * assignment matrix (fast on wasm, and no scatter kernel needed): embeddings = fixed + Sᵀ·ctx, and
 * d ctx = S·d embeddings.
 */
import type { TextEncoder } from '../clip/model';
import { type Tensor2D, type Tensor3D, tf } from '../clip/tf';
import type { SequenceLayout } from './experts';

export interface ContextVectors {
  prefix: Tensor2D[];
  suffix: Tensor2D[];
}

export class PromptLearner {
  /** [slots, rows * tokens]: slot k (one context vector) → the sequence positions that use it. */
  private readonly assign: Tensor2D;
  private readonly assignT: Tensor2D;
  /** [rows, tokens, 1]: 0 where a context vector goes, 1 elsewhere. */
  private readonly keep: Tensor3D;
  private readonly fixed: Tensor3D;
  readonly tokens: number;
  readonly slots: { expert: number; part: 'prefix' | 'suffix'; index: number }[] = [];

  constructor(
    readonly layout: SequenceLayout,
    readonly text: TextEncoder
  ) {
    const rows = layout.ids.length;
    const tokens = Math.max(...layout.eot) + 1;
    this.tokens = tokens;
    const slotOf = new Map<string, number>();
    for (let j = 0; j < layout.experts; j++) {
      for (let k = 0; k < layout.prefixLength[j]!; k++) slotOf.set(`${j}p${k}`, this.slots.push({ expert: j, part: 'prefix', index: k }) - 1);
      for (let k = 0; k < layout.suffixLength[j]!; k++) slotOf.set(`${j}s${k}`, this.slots.push({ expert: j, part: 'suffix', index: k }) - 1);
    }
    const assign = new Float32Array(this.slots.length * rows * tokens);
    const keep = new Float32Array(rows * tokens).fill(1);
    for (let r = 0; r < rows; r++) {
      const j = Math.floor(r / layout.classes);
      const put = (slot: number, position: number) => {
        assign[slot * rows * tokens + r * tokens + position] = 1;
        keep[r * tokens + position] = 0;
      };
      for (let k = 0; k < layout.prefixLength[j]!; k++) put(slotOf.get(`${j}p${k}`)!, 1 + k);
      for (let k = 0; k < layout.suffixLength[j]!; k++) put(slotOf.get(`${j}s${k}`)!, layout.suffixStart[r]! + k);
    }
    this.assign = tf.tensor2d(assign, [this.slots.length, rows * tokens]);
    this.assignT = tf.transpose(this.assign) as Tensor2D;
    this.keep = tf.tensor3d(keep, [rows, tokens, 1]);
    this.fixed = tf.tidy(() => tf.mul(text.embedTokens(layout.ids, tokens), this.keep) as Tensor3D);
  }

  /** The token embeddings of the experts' templates: the initial context vectors. */
  initialContext(): ContextVectors {
    const { layout } = this;
    const prefix: Tensor2D[] = [];
    const suffix: Tensor2D[] = [];
    for (let j = 0; j < layout.experts; j++) {
      const row = layout.ids[j * layout.classes]!;
      const p = layout.prefixLength[j]!;
      const start = layout.suffixStart[j * layout.classes]!;
      const s = layout.suffixLength[j]!;
      prefix.push(tf.tidy(() => tf.reshape(this.text.embedTokens([row.slice(1, 1 + p)], p), [p, this.text.width]) as Tensor2D));
      suffix.push(tf.tidy(() => tf.reshape(this.text.embedTokens([row.slice(start, start + s)], s), [s, this.text.width]) as Tensor2D));
    }
    return { prefix, suffix };
  }

  private stack(ctx: ContextVectors): Tensor2D {
    const parts = this.slots.map((slot) =>
      tf.slice(slot.part === 'prefix' ? ctx.prefix[slot.expert]! : ctx.suffix[slot.expert]!, [slot.index, 0], [1, this.text.width])
    );
    return tf.concat(parts, 0) as Tensor2D;
  }

  /** Embeddings [rows, tokens, width] of every (expert, class) sequence with these context vectors. */
  embeddings(ctx: ContextVectors): Tensor3D {
    return tf.tidy(() => {
      const rows = this.layout.ids.length;
      const placed = tf.reshape(tf.matMul(this.assignT, this.stack(ctx)), [rows, this.tokens, this.text.width]);
      return tf.add(this.fixed, placed) as Tensor3D;
    });
  }

  /** Gradients of the context vectors from the gradient of the embeddings. */
  contextGradients(dEmbeds: Tensor3D): ContextVectors {
    return tf.tidy(() => {
      const rows = this.layout.ids.length;
      const perSlot = tf.matMul(
        this.assign,
        tf.reshape(tf.slice(dEmbeds, [0, 0, 0], [rows, this.tokens, this.text.width]), [rows * this.tokens, this.text.width])
      );
      const pick = (expert: number, part: 'prefix' | 'suffix') => {
        const indices = this.slots.flatMap((s, k) => (s.expert === expert && s.part === part ? [k] : []));
        return (indices.length ? tf.gather(perSlot, indices) : tf.zeros([0, this.text.width])) as Tensor2D;
      };
      const prefix = Array.from({ length: this.layout.experts }, (_, j) => tf.keep(pick(j, 'prefix')));
      const suffix = Array.from({ length: this.layout.experts }, (_, j) => tf.keep(pick(j, 'suffix')));
      return { prefix, suffix };
    });
  }

  get eot(): number[] {
    return this.layout.eot;
  }

  /**
   * Each expert's rows share their first 1 + prefix-length positions (SOT and the expert's prefix
   * context vectors): causal attention lets a text engine encode them once per expert.
   */
  sharedPrefixGroups(): { start: number; count: number; prefix: number }[] {
    const { experts, classes, prefixLength } = this.layout;
    return Array.from({ length: experts }, (_, j) => ({ start: j * classes, count: classes, prefix: 1 + prefixLength[j]! }));
  }

  dispose(): void {
    tf.dispose([this.assign, this.assignT, this.keep, this.fixed]);
  }
}
