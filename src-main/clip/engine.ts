/**
 * A loaded CLIP model with its tokenizer: text and image embeddings (L2-normalised, projected) as
 * plain Float32Arrays. Used in-process by the CLI and inside the compute worker by the app.
 *
 * The text tower is loaded in tfjs at once (prompt learning needs its gradients). The frozen towers
 * used for encoding (images, and texts through `embedTextsAsync`) open on first use: on ONNX Runtime
 * where it is installed (several times faster, all cores), else in tfjs. MOCOOP_ONNX=0 forces tfjs.
 */
import path from 'node:path';
import { type ClipModel, type VisionEncoder, l2Normalize, loadClipTextModel, loadVisionEncoder, openCheckedWeights } from './model';
import { augmentedPixels } from './augment';
import { type OnnxProvider, OnnxTowers } from './onnx/onnx-towers';
import { OnnxTextGradients } from './onnx/text-gradients';
import { type TextGradients, onnxTextGradients, tfjsTextGradients } from './text-gradients';
import { preprocessImage } from './preprocess';
import { type ImagePreprocessing, readPreprocessorConfig } from './preprocessor-config';
import { tf } from './tf';
import { ClipTokenizer } from './tokenizer';

/** Which engine runs each frozen tower, and why ONNX Runtime was not used when it is not. */
export interface FrozenTowersInfo {
  engine: 'onnxruntime' | 'tfjs';
  detail: string;
}

function normalizeRows(data: Float32Array, dim: number): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let start = 0; start < data.length; start += dim) {
    const row = data.slice(start, start + dim);
    let sum = 0;
    for (let i = 0; i < dim; i++) sum += row[i]! * row[i]!;
    const inv = 1 / Math.sqrt(sum);
    for (let i = 0; i < dim; i++) row[i]! *= inv;
    rows.push(row);
  }
  return rows;
}

export interface ImageEmbedding {
  index: number;
  vector?: Float32Array;
  error?: string;
}

export class ClipEngine {
  private onnx: Promise<OnnxTowers | { unavailable: string }> | null = null;
  private tfVision: VisionEncoder | null = null;
  private gradients: Promise<TextGradients> | null = null;

  private constructor(
    readonly model: Omit<ClipModel, 'vision'>,
    readonly tokenizer: ClipTokenizer,
    /** The checkpoint's image preprocessing (preprocessor_config.json, else OpenAI CLIP's). */
    readonly preprocessing: ImagePreprocessing,
    private readonly onnxProvider: OnnxProvider | undefined
  ) {}

  /** `onnxProvider`: where ONNX Runtime runs (default: MOCOOP_ONNX_PROVIDER, else the best found). */
  static load(dir: string, options: { textGradients?: boolean; onnxProvider?: OnnxProvider } = {}): ClipEngine {
    const model = loadClipTextModel(dir, { textGradients: options.textGradients ?? false });
    try {
      const tokenizer = ClipTokenizer.fromFiles(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'));
      const preprocessing = readPreprocessorConfig(dir, model.config.vision.imageSize);
      return new ClipEngine(model, tokenizer, preprocessing, options.onnxProvider);
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

  private onnxTowers(): Promise<OnnxTowers | { unavailable: string }> {
    if (!this.onnx) {
      if (process.env.MOCOOP_ONNX === '0') {
        this.onnx = Promise.resolve({ unavailable: 'ONNX Runtime is turned off (MOCOOP_ONNX=0)' });
      } else {
        const weights = openCheckedWeights(this.model.dir);
        this.onnx = OnnxTowers.load(weights.config, weights.read, { provider: this.onnxProvider }).finally(() => weights.close());
      }
    }
    return this.onnx;
  }

  /**
   * The text tower for prompt learning: ONNX Runtime's explicit backward graph where ONNX Runtime
   * runs (on the provider the frozen towers got), else tfjs.
   */
  textGradients(): Promise<TextGradients> {
    this.gradients ??= (async () => {
      const towers = await this.onnxTowers();
      if ('unavailable' in towers) return tfjsTextGradients(this.model.text);
      const weights = openCheckedWeights(this.model.dir);
      try {
        return onnxTextGradients(
          await OnnxTextGradients.load(weights.config, weights.read, {
            provider: towers.info.provider,
            threads: towers.info.threads,
            graphs: 'prefix',
            maxBufferBytes: towers.info.provider === 'webgpu' ? towers.info.maxBufferBytes : undefined
          })
        );
      } catch {
        return tfjsTextGradients(this.model.text);
      } finally {
        weights.close();
      }
    })();
    return this.gradients;
  }

  /** Which engine encodes images and texts for zero-shot, features and expert tables. */
  async frozenTowers(): Promise<FrozenTowersInfo> {
    const towers = await this.onnxTowers();
    if ('unavailable' in towers) return { engine: 'tfjs', detail: `TensorFlow.js (${towers.unavailable})` };
    return {
      engine: 'onnxruntime',
      detail: `ONNX Runtime on ${towers.info.provider === 'cpu' ? 'CPU' : towers.info.provider}, ${towers.info.threads} thread(s)`
    };
  }

  /** Normalised text features through the frozen forward-only tower (ONNX Runtime where present). */
  async embedTextsAsync(texts: string[]): Promise<Float32Array[]> {
    const towers = await this.onnxTowers();
    if ('unavailable' in towers || !towers.hasText) return this.embedTexts(texts);
    const ids = this.tokenize(texts);
    const raw = await towers.encodeTexts(
      ids,
      ids.map((row) => this.tokenizer.eotIndex(row))
    );
    return normalizeRows(raw, this.dim);
  }

  /** Normalised features of already preprocessed images (CHW, `count` of them back to back). */
  async embedPixels(pixels: Float32Array, count: number): Promise<Float32Array[]> {
    const towers = await this.onnxTowers();
    if (!('unavailable' in towers) && towers.hasVision) return normalizeRows(await towers.encodeImages(pixels, count), this.dim);
    this.tfVision ??= loadVisionEncoder(this.model.dir);
    const vision = this.tfVision;
    const features = tf.tidy(() => l2Normalize(vision.encode(pixels, count)));
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
    const prepare = (start: number) =>
      Promise.all(
        files.slice(start, start + batchSize).map(async (file, k) => {
          try {
            const augment = options.augment;
            const pixels =
              augment && augment.view > 0
                ? await augmentedPixels(file, size, augment.hashes[start + k]!, augment.view)
                : (await preprocessImage(file, this.preprocessing)).pixels;
            return { index: start + k, pixels };
          } catch (error) {
            return { index: start + k, error: (error as Error).message };
          }
        })
      );
    // The next batch is decoded while this one is encoded (ONNX Runtime runs off the main thread).
    let next = files.length > 0 && !options.shouldStop?.() ? prepare(0) : null;
    for (let start = 0; next; start += batchSize) {
      const prepared = await next;
      next = start + batchSize < files.length && !options.shouldStop?.() ? prepare(start + batchSize) : null;
      const ok = prepared.filter((p): p is { index: number; pixels: Float32Array } => 'pixels' in p && !!p.pixels);
      const results: ImageEmbedding[] = prepared.filter((p) => 'error' in p && p.error).map((p) => ({ index: p.index, error: (p as { error: string }).error }));
      if (ok.length) {
        const batch = new Float32Array(ok.length * 3 * size * size);
        ok.forEach((p, k) => batch.set(p.pixels, k * 3 * size * size));
        (await this.embedPixels(batch, ok.length)).forEach((vector, k) => results.push({ index: ok[k]!.index, vector }));
      }
      results.sort((a, b) => a.index - b.index);
      all.push(...results);
      await options.onBatch?.(results, Math.min(files.length, start + batchSize));
      if (next && options.shouldStop?.()) {
        await next;
        next = null;
      }
    }
    return all;
  }

  dispose(): void {
    this.model.dispose();
    this.tfVision?.dispose();
    void this.onnx?.then((towers) => ('unavailable' in towers ? undefined : towers.dispose()));
    void this.gradients?.then((g) => g.dispose?.());
  }
}
