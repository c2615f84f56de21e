/**
 * The CLIP side of the services: installed models and downloads, the compute worker, the project's
 * image-feature cache, and zero-shot evaluation.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TemplateAnalysis, ZeroShotReport } from '../contract';
import type { Handlers } from '../contract/dispatch';
import { AppError } from '../contract/errors';
import { BACKEND_PREFERENCES, type BackendInfo, type BackendPreference, describeOnnx } from '../clip/backend';
import { fillTemplate, zeroShot } from '../clip/zeroshot';
import { autoGroup } from '../mocoop/auto-group';
import { analyzeTemplates } from '../mocoop/template-analysis';
import { ComputeClient } from '../compute/compute-client';
import { DownloadError, downloadModel } from '../models/hub-download';
import { fillFeatures, workerEncoder } from '../features/feature-cache';
import { type ModelInfo, ModelStore } from '../models/model-store';
import type { ProjectStore } from '../store/project-store';
import type { EventBus } from './events';
import { loadTemplateLibrary } from '../templates/library';
import { PhaseEta } from './eta';
import { findMeasurement, saveMeasurement } from '../store/template-measurements';
import { hasOneClassSlot } from '../contract/template-rule';

type ClipHandlerNames =
  | 'templates.analyze'
  | 'templates.measurement'
  | 'templates.autoGroup'
  | 'models.setBackend'
  | 'models.list'
  | 'models.import'
  | 'models.download'
  | 'models.cancelDownload'
  | 'models.remove'
  | 'models.backend'
  | 'templates.library'
  | 'zeroshot.run'
  | 'zeroshot.cancel';

export { type TemplateLibrary, loadTemplateLibrary } from '../templates/library';

const summarize = (info: BackendInfo) => ({
  name: info.name,
  device: info.device,
  preference: info.preference,
  skipped: info.skipped,
  encoders: describeOnnx(info.onnx),
  encoderSkipped: info.onnx?.skipped ?? []
});

export interface FeatureResult {
  features: Map<string, Float32Array>;
  failures: { imageId: number; path: string; reason: string }[];
  computed: number;
  cached: number;
}

export class ClipServices {
  readonly models: ModelStore;
  readonly compute: ComputeClient;
  private readonly downloads = new Map<string, AbortController>();
  private readonly runs = new Map<string, AbortController>();

  private readonly settingsFile: string;

  constructor(
    configDir: string,
    private readonly events: EventBus,
    private readonly project: () => ProjectStore
  ) {
    this.models = new ModelStore(configDir);
    this.settingsFile = path.join(configDir, 'compute-settings.json');
    this.compute = new ComputeClient(this.backendPreference());
  }

  /** The environment (MOCOOP_BACKEND, --backend) wins over the saved setting, which defaults to auto. */
  private backendPreference(): BackendPreference {
    const env = process.env.MOCOOP_BACKEND;
    if (env && (BACKEND_PREFERENCES as readonly string[]).includes(env)) return env as BackendPreference;
    try {
      const saved = (JSON.parse(fs.readFileSync(this.settingsFile, 'utf8')) as { backend?: string }).backend;
      if (saved && (BACKEND_PREFERENCES as readonly string[]).includes(saved)) return saved as BackendPreference;
    } catch {
      // No saved setting yet.
    }
    return 'auto';
  }

  async setBackend(preference: BackendPreference): Promise<BackendInfo> {
    fs.mkdirSync(path.dirname(this.settingsFile), { recursive: true });
    fs.writeFileSync(this.settingsFile, JSON.stringify({ backend: preference }, null, 2));
    this.compute.setPreference(preference);
    return this.compute.backendInfo();
  }

  /** Image features for these rows, from the project cache or computed in the worker (and cached batch by batch; see `features/feature-cache.ts`). */
  async imageFeatures(
    store: ProjectStore,
    model: ModelInfo,
    rows: { id: number; path: string; hash: string }[],
    signal: AbortSignal | undefined,
    onProgress: (done: number, total: number) => void
  ): Promise<FeatureResult> {
    const { features, failures, computed, cached } = await fillFeatures(store.features, model.id, rows, workerEncoder(this.compute, model.dir, signal), {
      onProgress
    });
    return { features, failures: failures.map((f) => ({ imageId: f.row.id, path: f.row.path, reason: f.reason })), computed, cached };
  }

  async runZeroShot(runId: string, modelId: string, templates: string[], split: 'train' | 'val' | 'test' | undefined): Promise<ZeroShotReport> {
    const started = performance.now();
    const store = this.project();
    const model = this.models.get(modelId);
    if (templates.length === 0) throw new AppError('invalid_input', 'templates: choose at least one template.');
    const bad = templates.find((t) => !hasOneClassSlot(t));
    if (bad !== undefined) throw new AppError('invalid_input', `templates: "${bad}" must contain {} exactly once (where the class name goes).`);
    if (this.runs.size) throw new AppError('busy', 'Another evaluation is running. Wait for it or cancel it.');
    const classes = store.listClasses().filter((c) => c.imageCount > 0);
    if (classes.length < 2) throw new AppError('invalid_input', 'Zero-shot needs at least two classes with labeled images. Label some images first.');
    const classIndex = new Map(classes.map((c, i) => [c.id, i]));
    const rows = store.images(store.imageIds({ split })).filter((r) => r.labelId !== null && classIndex.has(r.labelId) && !r.missing);
    if (rows.length === 0) throw new AppError('invalid_input', `No labeled images${split ? ` in the ${split} split` : ''} to evaluate.`);
    const controller = new AbortController();
    this.runs.set(runId, controller);
    const progress = (phase: 'features' | 'text' | 'scoring', done: number, total: number) =>
      this.events.emit('zeroshot.progress', { runId, phase, done, total });
    try {
      const backend = await this.compute.backendInfo();
      const { features, failures, computed, cached } = await this.imageFeatures(store, model, rows, controller.signal, (d, t) => progress('features', d, t));
      progress('text', 0, templates.length * classes.length);
      const texts = templates.flatMap((t) => classes.map((c) => fillTemplate(t, c.name)));
      const { vectors, logitScale } = await this.compute.embedTexts(model.dir, texts, controller.signal);
      progress('scoring', 0, rows.length);
      const usable = rows.filter((r) => features.has(r.hash));
      const textFeatures = templates.map((_, t) => classes.map((__, c) => vectors[t * classes.length + c]!));
      const result = zeroShot({
        images: usable.map((r) => features.get(r.hash)!),
        labels: usable.map((r) => classIndex.get(r.labelId!)!),
        textFeatures,
        logitScale
      });
      return {
        runId,
        model: { id: model.id, name: model.name },
        backend: `${backend.name} · ${backend.device}`,
        split: split ?? 'all',
        templates,
        classes: classes.map((c) => ({ id: c.id, name: c.name })),
        images: usable.length,
        accuracy: result.accuracy,
        perClass: result.perClass.map((p) => ({
          classId: classes[p.classIndex]!.id,
          className: classes[p.classIndex]!.name,
          images: p.images,
          correct: p.correct,
          accuracy: p.accuracy
        })),
        perTemplate: result.perTemplate.map((p) => ({ template: templates[p.templateIndex]!, accuracy: p.accuracy })),
        predictions: usable.map((r, n) => ({
          imageId: r.id,
          labelId: r.labelId!,
          predictedId: classes[result.predictions[n]!]!.id,
          confidence: result.confidences[n]!,
          correct: classes[result.predictions[n]!]!.id === r.labelId
        })),
        skipped: failures.map((f) => ({ path: f.path, reason: f.reason })),
        featuresComputed: computed,
        featuresCached: cached,
        seconds: (performance.now() - started) / 1000
      };
    } finally {
      this.runs.delete(runId);
    }
  }

  /**
   * Zero-shot accuracy of each template and group on (at most 2,000) labeled images, with a
   * templates.progress event per batch (counts and, once the pace is known, the seconds left); the
   * result is kept in the project for this model and these templates.
   */
  async analyzeTemplates(modelId: string, groups: string[][], analysisId?: string): Promise<TemplateAnalysis> {
    const started = performance.now();
    const store = this.project();
    const model = this.models.get(modelId);
    if (groups.some((g) => g.length === 0 || g.some((t) => !hasOneClassSlot(t)))) {
      throw new AppError('invalid_input', 'Fix the templates first: every group needs templates with exactly one {}.');
    }
    const classes = store.listClasses().filter((c) => c.imageCount > 0);
    if (classes.length < 2) throw new AppError('invalid_input', 'Label images of at least two classes to measure the templates.');
    const index = new Map(classes.map((c, i) => [c.id, i]));
    let eta = new PhaseEta();
    let phase: 'images' | 'templates' | 'scoring' = 'images';
    const progress = (next: typeof phase, done: number, total: number) => {
      if (next !== phase) eta = new PhaseEta();
      phase = next;
      const etaSeconds = eta.update(done, total);
      if (analysisId)
        this.events.emit('templates.progress', { analysisId, phase, done, total, elapsedSeconds: (performance.now() - started) / 1000, etaSeconds });
    };
    // At most 2,000 labeled images: enough to rank templates, quick to encode once and cached after.
    const rows = store
      .images(store.imageIds({}))
      .filter((r) => r.labelId !== null && index.has(r.labelId) && !r.missing)
      .slice(0, 2000);
    const { features } = await this.imageFeatures(store, model, rows, undefined, (done, total) => progress('images', done, total));
    const usable = rows.filter((r) => features.has(r.hash));
    const texts = groups.flat().flatMap((t) => classes.map((c) => fillTemplate(t, c.name)));
    // In chunks, so the text encoding reports its progress too (hundreds of templates × classes).
    const CHUNK = 128;
    const vectors: Float32Array[] = [];
    progress('templates', 0, texts.length);
    for (let i = 0; i < texts.length; i += CHUNK) {
      vectors.push(...(await this.compute.embedTexts(model.dir, texts.slice(i, i + CHUNK))).vectors);
      progress('templates', vectors.length, texts.length);
    }
    progress('scoring', 0, 1);
    let k = 0;
    const text = groups.map((g) => g.map(() => classes.map(() => vectors[k++]!)));
    const result = analyzeTemplates(
      groups,
      text,
      usable.map((r) => features.get(r.hash)!),
      usable.map((r) => index.get(r.labelId!)!)
    );
    progress('scoring', 1, 1);
    return saveMeasurement(store.db, model.id, groups, result, (performance.now() - started) / 1000);
  }

  async download(downloadId: string, repo: string, endpoint?: string): Promise<ModelInfo> {
    if (this.downloads.has(downloadId)) throw new AppError('busy', 'This download is already running.');
    const controller = new AbortController();
    this.downloads.set(downloadId, controller);
    try {
      const dir = this.models.downloadDir(repo);
      const result = await downloadModel({
        repo,
        destDir: dir,
        endpoint: endpoint ?? process.env.MOCOOP_HUB_ENDPOINT,
        token: process.env.HF_TOKEN,
        signal: controller.signal,
        onProgress: (p) => this.events.emit('models.downloadProgress', { downloadId, repo, ...p })
      });
      const weights = result.files.find((f) => f.name === 'model.safetensors');
      return await this.models.register(result.dir, { source: 'hub', repo, name: repo, sha256: weights?.sha256 });
    } catch (error) {
      if (error instanceof DownloadError)
        throw new AppError(error.code === 'cancelled' ? 'busy' : error.code === 'not_found' ? 'not_found' : 'unavailable', error.message);
      throw error;
    } finally {
      this.downloads.delete(downloadId);
    }
  }

  handlers(): Pick<Handlers, ClipHandlerNames> {
    return {
      'models.list': () => this.models.list(),
      'models.import': ({ dir, name }) => this.models.register(dir, { source: 'import', name }),
      'models.download': ({ downloadId, repo }) => this.download(downloadId, repo),
      'models.cancelDownload': ({ downloadId }) => {
        const controller = this.downloads.get(downloadId);
        controller?.abort();
        return { cancelled: controller !== undefined };
      },
      'models.remove': ({ id }) => {
        this.models.remove(id);
        return this.models.list();
      },
      'models.backend': async () => summarize(await this.compute.backendInfo()),
      'models.setBackend': async ({ preference }) => summarize(await this.setBackend(preference)),
      'templates.library': () => loadTemplateLibrary(),
      'templates.analyze': ({ modelId, groups, analysisId }) => this.analyzeTemplates(modelId, groups, analysisId),
      'templates.measurement': ({ modelId, groups }) => findMeasurement(this.project().db, groups, modelId),
      'templates.autoGroup': async ({ modelId, templates, groups }) => {
        const model = this.models.get(modelId);
        const bad = templates.find((t) => !hasOneClassSlot(t));
        if (bad !== undefined) throw new AppError('invalid_input', `templates: "${bad}" must contain {} exactly once.`);
        const unique = [...new Set(templates.map((t) => t.trim()))];
        if (unique.length < 3) throw new AppError('invalid_input', 'Automatic grouping needs at least three different templates.');
        // A template's feature: the mean over the project's classes of its normalised text features.
        const classes = this.project()
          .listClasses()
          .map((c) => c.name);
        const names = classes.length ? classes.slice(0, 50) : ['object'];
        const { vectors } = await this.compute.embedTexts(
          model.dir,
          unique.flatMap((t) => names.map((n) => fillTemplate(t, n)))
        );
        const features = unique.map((_, i) => {
          const sum = new Float32Array(vectors[0]!.length);
          for (let c = 0; c < names.length; c++) vectors[i * names.length + c]!.forEach((x, d) => (sum[d]! += x));
          return sum;
        });
        return autoGroup(unique, features, groups);
      },
      'zeroshot.run': ({ runId, modelId, templates, split }) => this.runZeroShot(runId, modelId, templates, split),
      'zeroshot.cancel': ({ runId }) => {
        const controller = this.runs.get(runId);
        controller?.abort();
        return { cancelled: controller !== undefined };
      }
    };
  }

  dispose(): void {
    for (const c of [...this.downloads.values(), ...this.runs.values()]) c.abort();
    this.compute.dispose();
  }
}
