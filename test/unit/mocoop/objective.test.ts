import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClipModel, loadClipModel, openCheckedWeights } from '../../../src-main/clip/model';
import { OnnxTextGradients } from '../../../src-main/clip/onnx/text-gradients';
import { type TextGradients, onnxTextGradients } from '../../../src-main/clip/text-gradients';
import { type Tensor, type Tensor1D, type Tensor2D, tf } from '../../../src-main/clip/tf';
import { ClipTokenizer } from '../../../src-main/clip/tokenizer';
import { classTokenIds, expertTemplate, layoutSequences } from '../../../src-main/mocoop/experts';
import { hardGate, routerLogits, topKMask } from '../../../src-main/mocoop/losses';
import { PromptLearner } from '../../../src-main/mocoop/prompt-learner';
import { lossAndGradients } from '../../../src-main/mocoop/step';
import { TINY_CLIP } from '../../helpers/fixtures';
import { useBackend } from '../../helpers/tf-backend';

const FIXTURE = TINY_CLIP;
const mo = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'expected.json'), 'utf8')).mocoop;

const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);
/** max |a − b| / max |b|: the relative error of a whole tensor. */
function relError(actual: ArrayLike<number>, expected: unknown): number {
  const want = flat(expected);
  expect(actual.length).toBe(want.length);
  let diff = 0;
  let scale = 0;
  want.forEach((w, i) => {
    diff = Math.max(diff, Math.abs(actual[i]! - w));
    scale = Math.max(scale, Math.abs(w));
  });
  return diff / scale;
}
const relScalar = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

// 'cpu+onnxruntime': the loss in tfjs (cpu), the text tower's forward and backward on ONNX Runtime.
describe.each(['cpu', 'wasm', 'cpu+onnxruntime'])('MoCoOp objective against the reference (%s)', (backend) => {
  let model: ClipModel;
  let gradients: TextGradients | undefined;
  let tokenizer: ClipTokenizer;
  let learner: PromptLearner;
  const names = [...mo.classnames, ...mo.virtual_classnames] as string[];
  const C = mo.classnames.length;

  useBackend(backend.split('+')[0]!);
  beforeAll(async () => {
    model = loadClipModel(FIXTURE, { textGradients: true });
    if (backend.endsWith('onnxruntime')) {
      const weights = openCheckedWeights(FIXTURE);
      gradients = onnxTextGradients(await OnnxTextGradients.load(weights.config, weights.read, { threads: 1 }));
      weights.close();
    }
    tokenizer = ClipTokenizer.fromFiles(path.join(FIXTURE, 'vocab.json'), path.join(FIXTURE, 'merges.txt'));
    const experts = (mo.template_groups as string[][]).map((g) => expertTemplate(tokenizer, g[0]!));
    const layout = layoutSequences(experts, classTokenIds(tokenizer, names, false), tokenizer.sotId, tokenizer.eotId);
    learner = new PromptLearner(layout, model.text);
  });
  afterAll(async () => {
    await gradients?.dispose?.();
    learner?.dispose();
    model?.dispose();
  });

  it('lays out experts by BPE tokens exactly as the reference', () => {
    const experts = (mo.template_groups as string[][]).map((g) => expertTemplate(tokenizer, g[0]!));
    experts.forEach((e, j) => {
      expect(e.prefixIds).toEqual(mo.experts[j].prefix_ids);
      expect(e.suffixIds).toEqual(mo.experts[j].suffix_ids);
    });
    expect(classTokenIds(tokenizer, names, false)).toEqual(mo.class_name_ids);
    expect(learner.layout.eot).toEqual(flat(mo.eot_positions));
  });

  it('computes the frozen hard-prompt features of every group template and class', () => {
    (mo.template_groups as string[][]).forEach((group, j) => {
      const texts = group.flatMap((t) => names.map((n) => t.replace('{}', n)));
      const ids = tokenizer.tokenize(texts);
      const out = tf.tidy(() => {
        const f = model.text.encodeIds(
          ids,
          ids.map((r) => tokenizer.eotIndex(r))
        );
        return tf.div(f, tf.norm(f, 'euclidean', -1, true));
      });
      expect(relError(out.dataSync(), mo.hard_features[j])).toBeLessThan(1e-4);
      out.dispose();
    });
  });

  it('router, top-K and hard gate match the reference', () => {
    const images = tf.tensor2d(mo.image_features) as Tensor2D;
    const W = tf.tensor2d(mo.router_W) as Tensor2D;
    const b = tf.tensor1d(mo.router_b) as Tensor1D;
    const probs = tf.softmax(routerLogits(images, W, b));
    expect(relError(probs.dataSync(), mo.router_probs)).toBeLessThan(1e-5);
    const { indices } = topKMask(probs.dataSync() as Float32Array, 4, 3, mo.K);
    expect(indices).toEqual(mo.topk_indices);
    const group = tf.tensor2d(mo.group_features) as Tensor2D;
    const pHard = hardGate(images, group, mo.tau_gate);
    expect(relError(pHard.dataSync(), mo.p_hard)).toBeLessThan(1e-4);
    tf.dispose([images, W, b, probs, group, pHard]);
  });

  for (const caseIndex of [0, 1]) {
    it(`losses within 1e-4 and gradients within 1e-3 (relative) at case "${mo.cases[caseIndex].name}"`, async () => {
      const c = mo.cases[caseIndex];
      const context = {
        prefix: (c.prefix_ctx as number[][][]).map((p) => tf.tensor2d(p) as Tensor2D),
        suffix: (c.suffix_ctx as number[][][]).map((s) => tf.tensor2d(s) as Tensor2D)
      };
      const router = { W: tf.variable(tf.tensor2d(mo.router_W)) as unknown as Tensor2D, b: tf.tensor1d(mo.router_b) as Tensor1D };
      const batch = { images: tf.tensor2d(mo.image_features) as Tensor2D, labels: mo.labels as number[] };
      const targets = {
        hard: (mo.hard_features as number[][][][]).map((h) => tf.tensor3d(h) as Tensor),
        groupFeatures: tf.tensor2d(mo.group_features) as Tensor2D
      };
      const settings = { topK: mo.K, tauCe: mo.tau_ce, tauGate: mo.tau_gate, tauText: mo.tau_text, lambda1: mo.lambda1, lambda2: mo.lambda2 };
      const run = () => lossAndGradients(learner, context, router, batch, targets, settings, C, undefined, gradients);
      const returnedBy = (r: Awaited<ReturnType<typeof run>>) => [r.features, r.grads.W, r.grads.b, ...r.grads.context.prefix, ...r.grads.context.suffix];
      tf.dispose(returnedBy(await run())); // warm-up: the encoder caches its causal mask
      const before = tf.memory().numTensors;
      const result = await run();
      // Everything the step returns is accounted for: nothing else leaks.
      expect(tf.memory().numTensors - before).toBe(returnedBy(result).length);

      const normed = tf.tidy(() => tf.div(result.features, tf.norm(result.features, 'euclidean', -1, true)));
      expect(relError(normed.dataSync(), c.expert_text_features)).toBeLessThan(1e-4);
      expect(relError(result.logitsCe, c.logits_ce)).toBeLessThan(1e-4);
      expect(relScalar(result.losses.Lce, c.L_ce)).toBeLessThan(1e-4);
      expect(relScalar(result.losses.Lgate, c.L_gate)).toBeLessThan(1e-4);
      expect(relScalar(result.losses.Ltext, c.L_text)).toBeLessThan(1e-4);
      expect(relScalar(result.losses.L, c.L)).toBeLessThan(1e-4);
      result.grads.context.prefix.forEach((g, j) => expect(relError(g.dataSync(), c.grad_prefix_ctx[j])).toBeLessThan(1e-3));
      result.grads.context.suffix.forEach((g, j) => expect(relError(g.dataSync(), c.grad_suffix_ctx[j])).toBeLessThan(1e-3));
      expect(relError(result.grads.W.dataSync(), c.grad_router_W)).toBeLessThan(1e-3);
      expect(relError(result.grads.b.dataSync(), c.grad_router_b)).toBeLessThan(1e-3);
      tf.dispose([
        normed,
        ...returnedBy(result),
        ...context.prefix,
        ...context.suffix,
        router.W,
        router.b,
        batch.images,
        ...targets.hard,
        targets.groupFeatures
      ]);
    });
  }
});
