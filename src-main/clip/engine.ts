/**
 * A loaded CLIP model with its tokenizer: text and image embeddings (L2-normalised, projected) as
 * plain Float32Arrays. Used in-process by the CLI and inside the compute worker by the app.
 */
import path from 'node:path';
import { type ClipModel, l2Normalize, loadClipModel } from './model';
import { augmentedPixels } from './augment';
import { preprocessImage } from './preprocess';
import { tf } from './tf';
import { ClipTokenizer } from './tokenizer';

export interface ImageEmbedding {
  index: number;
  vector?: Float32Array;
  error?: string;
}

export class ClipEngine {
  private constructor(
    readonly model: ClipModel,
    readonly tokenizer: ClipTokenizer
  ) {}

  static load(dir: string, options: { textGradients?: boolean } = {}): ClipEngine {
    const model = loadClipModel(dir, { textGradients: options.textGradients ?? false });
    try {
      const tokenizer = ClipTokenizer.fromFiles(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'));
      return new ClipEngine(model, tokenizer);
    } catch (error) {
      model.dispose();
      throw error;
    }
  }

  get dim(): number {
    return this.model.config.projectionDim;
  }

  get imageSize(): number {
    return this.model.config.vision.imageSize;
  }

  /** exp(logit_scale): CLIP's multiplier of cosine similarities (100 for released models). */
  get logitScale(): number {
    return Math.exp(this.model.logitScale);
  }

  tokenize(texts: string[]): Int32Array[] {
    return this.tokenizer.tokenize(texts, this.model.config.text.contextLength);
  }

  /** Normalised text features, one row of `dim` per text. */
  embedTexts(texts: string[], batchSize = 64): Float32Array[] {
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += batchSize) {
      const ids = this.tokenize(texts.slice(start, start + batchSize));
      const eot = ids.map((row) => this.tokenizer.eotIndex(row));
      const features = tf.tidy(() => l2Normalize(this.model.text.encodeIds(ids, eot)));
      const data = features.dataSync() as Float32Array;
      features.dispose();
      for (let i = 0; i < ids.length; i++) out.push(data.slice(i * this.dim, (i + 1) * this.dim));
    }
    return out;
  }

  /** Normalised features of already preprocessed images (CHW, `count` of them back to back). */
  embedPixels(pixels: Float32Array, count: number): Float32Array[] {
    const features = tf.tidy(() => l2Normalize(this.model.vision.encode(pixels, count)));
    const data = features.dataSync() as Float32Array;
    features.dispose();
    return Array.from({ length: count }, (_, i) => data.slice(i * this.dim, (i + 1) * this.dim));
  }

  /**
   * Embeds image files in batches. A file that cannot be read is reported with its reason and the
   * rest go on. `shouldStop` is checked between batches.
   */
  async embedImageFiles(
    files: string[],
    options: {
      batchSize?: number;
      onBatch?: (results: ImageEmbedding[], done: number) => void | Promise<void>;
      shouldStop?: () => boolean;
      /** Augmented views instead of the plain preprocessing: view v ≥ 1 of file i, seeded by its content hash. */
      augment?: { hashes: string[]; view: number };
    } = {}
  ): Promise<ImageEmbedding[]> {
    const batchSize = options.batchSize ?? 8;
    const size = this.imageSize;
    const all: ImageEmbedding[] = [];
    for (let start = 0; start < files.length; start += batchSize) {
      if (options.shouldStop?.()) break;
      const slice = files.slice(start, start + batchSize);
      const prepared = await Promise.all(
        slice.map(async (file, k) => {
          try {
            const augment = options.augment;
            const pixels = augment && augment.view > 0 ? await augmentedPixels(file, size, augment.hashes[start + k]!, augment.view) : (await preprocessImage(file, size)).pixels;
            return { index: start + k, pixels };
          } catch (error) {
            return { index: start + k, error: (error as Error).message };
          }
        })
      );
      const ok = prepared.filter((p): p is { index: number; pixels: Float32Array } => 'pixels' in p && !!p.pixels);
      const results: ImageEmbedding[] = prepared.filter((p) => 'error' in p && p.error).map((p) => ({ index: p.index, error: (p as { error: string }).error }));
      if (ok.length) {
        const batch = new Float32Array(ok.length * 3 * size * size);
        ok.forEach((p, k) => batch.set(p.pixels, k * 3 * size * size));
        this.embedPixels(batch, ok.length).forEach((vector, k) => results.push({ index: ok[k]!.index, vector }));
      }
      results.sort((a, b) => a.index - b.index);
      all.push(...results);
      await options.onBatch?.(results, Math.min(files.length, start + batchSize));
    }
    return all;
  }

  dispose(): void {
    this.model.dispose();
  }
}
