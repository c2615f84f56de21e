/**
 * The frozen text tower as prompt learning uses it: features of rows of token embeddings and the
 * gradient of a loss with respect to those embeddings. Two implementations: tfjs (block-wise
 * recompute, any tfjs backend) and ONNX Runtime (explicit backward graph, all cores or a GPU).
 */
import type { TextEncoder } from './model';
import type { OnnxTextGradients, SharedPrefixGroup } from './onnx/text-gradients';
import { type Tensor2D, type Tensor3D, tf } from './tf';

export interface TextGradients {
  /** Which engine runs the text tower, in words (recorded with each run). */
  readonly describe: string;
  /**
   * Projected features [rows, P] and d loss / d embeds [rows, tokens, W]; `dFeatures` maps features to
   * d loss / d features. With `groups`, an engine may encode each group's shared prefix once and
   * return its gradient in the group's first row only.
   */
  encodeWithGrad(
    embeds: Tensor3D,
    eot: number[],
    dFeatures: (features: Tensor2D) => Tensor2D,
    groups?: SharedPrefixGroup[]
  ): Promise<{ features: Tensor2D; dEmbeds: Tensor3D }>;
  /** Projected features [rows, P] only. */
  encode(embeds: Tensor3D, eot: number[], groups?: SharedPrefixGroup[]): Promise<Tensor2D>;
  /** Releases native sessions (ONNX Runtime); the tfjs tower belongs to the model. */
  dispose?(): Promise<void>;
}

export function tfjsTextGradients(text: TextEncoder): TextGradients {
  return {
    describe: `TensorFlow.js (${tf.getBackend()})`,
    encodeWithGrad: async (embeds, eot, dFeatures) => text.encodeEmbeddingsWithGrad(embeds, eot, dFeatures),
    encode: async (embeds, eot) => text.encodeEmbeddings(embeds, eot)
  };
}

export function onnxTextGradients(onnx: OnnxTextGradients): TextGradients {
  return {
    describe: `ONNX Runtime (${onnx.provider === 'cpu' ? 'CPU' : onnx.provider}, ${onnx.threads} thread(s))`,
    async encodeWithGrad(embeds, eot, dFeatures, groups) {
      const [rows, tokens, width] = embeds.shape;
      const out = await onnx.encodeWithGrad(
        embeds.dataSync() as Float32Array,
        rows,
        tokens,
        eot,
        (features) => {
          const F = tf.tensor2d(features, [rows, features.length / rows]);
          const dF = dFeatures(F);
          const data = dF.dataSync() as Float32Array;
          tf.dispose([F, dF]);
          return data;
        },
        groups
      );
      return { features: tf.tensor2d(out.features, [rows, out.features.length / rows]), dEmbeds: tf.tensor3d(out.dEmbeds, [rows, tokens, width]) };
    },
    async encode(embeds, eot, groups) {
      const [rows, tokens] = embeds.shape;
      const features = await onnx.encode(embeds.dataSync() as Float32Array, rows, tokens, eot, groups);
      return tf.tensor2d(features, [rows, features.length / rows]);
    },
    dispose: () => onnx.dispose()
  };
}
