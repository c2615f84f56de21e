/**
 * Training for the app: few-shot sets, template groups, and runs trained in the compute worker
 * (off the app's event loop) with a progress event per step. Cancelling kills the worker at once;
 * the run keeps its last checkpoint and can be resumed.
 */
import type { Handlers } from '../contract/dispatch';
import { AppError } from '../contract/errors';
import type { TrainJob } from '../compute/protocol';
import { AugmentEstimator } from './augment-estimate';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ExpertTable, classProbabilities, predict, runLogitScale } from '../mocoop/inference';
import { decodeTable } from '../mocoop/table-codec';
import { pca2dInWorker } from '../mocoop/pca-thread';
import { writeReport } from './report-writer';
import { checkOutputFolder } from './output-folder';
import { guardedWrite } from '../store/revisions';
import { SETTING_LABELS, settingsNotApplying } from '../contract/method-settings';
import type { ClassCandidates, RunStep } from '../contract/schemas';
import { type RunRecord, TrainingStore } from '../store/training-store';
import type { ClipServices } from './clip-services';
import type { EventBus } from './events';
import type { ImageEmbedding } from '../clip/engine';
import { ProjectStore as Project } from '../store/project-store';
import { conditionalSpec, modelLogitScale } from '../training/evaluate';
import { TrainingService } from '../training/training-service';
import type { ConditionalScorer, ImageEmbedder } from '../training/types';

type Names =
  | 'runs.steps'
  | 'runs.rename'
  | 'runs.annotate'
  | 'suggest.uncertain'
  | 'classify.files'
  | 'runs.map'
  | 'runs.details'
  | 'runs.evaluate'
  | 'runs.classCoverage'
  | 'runs.delete'
  | 'runs.report'
  | 'fewshot.createManual'
  | 'fewshot.update'
  | 'fewshot.delete'
  | 'fewshot.classCounts'
  | 'train.start'
  | 'train.estimate'
  | 'train.resume'
  | 'train.cancel'
  | 'runs.list'
  | 'fewshot.create'
  | 'fewshot.list'
  | 'templates.groups'
  | 'templates.setGroups';

/** A recorded step as the curves need it: numbers only; a row without step, epoch or loss is left out. */
export function toRunStep(data: Record<string, unknown>): RunStep | null {
  const num = (key: string) => (typeof data[key] === 'number' && Number.isFinite(data[key]) ? (data[key] as number) : null);
  const step = num('step');
  const epoch = num('epoch');
  const loss = num('loss');
  if (step === null || epoch === null || loss === null) return null;
  const lKg = num('l_kg');
  return {
    step,
    epoch,
    loss,
    l_ce: num('l_ce') ?? 0,
    l_gate: num('l_gate') ?? 0,
    l_text: num('l_text') ?? 0,
    ...(lKg !== null ? { l_kg: lKg } : {}),
    lr: num('lr') ?? 0,
    accuracy: num('accuracy') ?? 0,
    images_per_s: num('images_per_s') ?? 0,
    eta_s: num('eta_s') ?? 0
  };
}

function summarize(r: RunRecord) {
  return {
    id: r.id,
    method: r.method,
    status: r.status,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
    error: r.error,
    settings: r.settings,
    modelId: r.modelId,
    name: r.name,
    note: r.note,
    accuracy: (r.metrics?.accuracy as number | undefined) ?? null,
    baseAccuracy: (r.metrics?.base_accuracy as number | null | undefined) ?? null,
    newAccuracy: (r.metrics?.new_accuracy as number | null | undefined) ?? null,
    h: (r.metrics?.h as number | null | undefined) ?? null
  };
}

export class TrainServices {
  private active: { runId: string | null; controller: AbortController } | null = null;
  /** The Train page's augmentation note: the mode a run would take and its cost (throughput measured in the worker). */
  private readonly augmentEstimator = new AugmentEstimator({
    project: () => this.project(),
    model: (id) => this.clip.models.get(id),
    backend: () => this.clip.compute.backendInfo(),
    measure: (dir, files) => this.clip.compute.measureViews(dir, files),
    busy: () => (this.active ? (this.active.runId ?? '') : null)
  });
  /**
   * The steps of the run training now as they arrive from the compute worker (run history). The
   * worker records them at every epoch's end; a page reloaded mid-epoch reads the newer ones here, and
   * a run stopped mid-epoch (cancel, the worker's death) keeps them: they are recorded when it stops.
   */
  private live: { runId: string; steps: RunStep[] } | null = null;
  private readonly maps = new Map<string, { imageId: number; x: number; y: number }[]>();

  constructor(
    private readonly clip: ClipServices,
    private readonly events: EventBus,
    private readonly project: () => Project,
    private readonly version: string
  ) {}

  private async launch(modelId: string, job: TrainJob): Promise<{ runId: string }> {
    const store = this.project();
    const model = this.clip.models.get(modelId);
    if (this.active) throw new AppError('busy', `Run ${this.active.runId ?? ''} is training. Wait for it or cancel it first.`);
    const controller = new AbortController();
    const active: { runId: string | null; controller: AbortController } = { runId: null, controller };
    this.active = active;
    // Free before train.finished is announced, so whoever starts the next run on that event is not refused.
    const release = () => {
      if (this.active === active) this.active = null;
    };
    return new Promise((resolve, reject) => {
      this.clip.compute
        .train(
          store.file,
          model,
          job,
          (runId) => {
            active.runId = runId;
            resolve({ runId });
          },
          (event) => {
            if (!active.runId) return;
            this.keepLiveStep(active.runId, event);
            this.events.emit('train.progress', { runId: active.runId, ...event });
          },
          controller.signal
        )
        .then(() => {
          release();
          if (active.runId) this.events.emit('train.finished', { runId: active.runId, status: 'done' });
        })
        .catch((error: Error) => {
          release();
          if (!active.runId) return reject(error);
          const training = new TrainingStore(store);
          // The steps since the last epoch's end were never recorded by the stopped worker: record them now.
          this.recordLiveSteps(training, active.runId);
          if (controller.signal.aborted) {
            training.finishRun(active.runId, 'cancelled', null, 'cancelled by the user; resume it to continue');
            this.events.emit('train.finished', { runId: active.runId, status: 'cancelled' });
          } else if (training.run(active.runId).status === 'running') {
            // The worker died mid-run (killed, out of memory, crashed) before it could record an end:
            // record the run as interrupted now, so it can be resumed from its last checkpoint and the queue goes on.
            const message = `interrupted: ${error.message} Resume it to continue from its last checkpoint.`;
            training.finishRun(active.runId, 'cancelled', null, message);
            this.events.emit('train.finished', { runId: active.runId, status: 'cancelled', interrupted: true, error: message });
          } else this.events.emit('train.finished', { runId: active.runId, status: 'failed', error: error.message });
        })
        .finally(() => {
          if (this.live?.runId === active.runId) this.live = null;
          this.events.emit('project.changed', { reason: 'runs' });
        });
    });
  }

  private keepLiveStep(runId: string, event: object): void {
    const step = toRunStep(event as Record<string, unknown>);
    if (!step) return;
    if (this.live?.runId !== runId) this.live = { runId, steps: [] };
    // A resumed run starts again after its checkpoint: drop what a replay overwrites.
    const steps = this.live.steps;
    while (steps.length && steps.at(-1)!.step >= step.step) steps.pop();
    steps.push(step);
  }

  /** Records the live steps the worker had not recorded yet (a run stopped mid-epoch). */
  private recordLiveSteps(training: TrainingStore, runId: string): void {
    if (this.live?.runId !== runId) return;
    try {
      const last = training.lastRecordedStep(runId);
      const missing = this.live.steps.filter((st) => st.step > last);
      if (missing.length)
        training.recordSteps(
          runId,
          missing.map((st) => ({ step: st.step, data: { event: 'step', ...st } }))
        );
    } catch {
      // The run's curves lose their last partial epoch, never its status: the end is recorded next.
    }
  }

  /** A run's curves: its recorded steps, and for the run training now the newer steps the worker has not recorded yet. */
  stepHistory(runId: string) {
    const t = new TrainingStore(this.project());
    const history = t.stepHistory(runId);
    const steps = history.steps.map(toRunStep).filter((st): st is RunStep => st !== null);
    let total = history.total;
    if (this.live?.runId === runId && this.active?.runId === runId) {
      const last = steps.at(-1)?.step ?? 0;
      const newer = this.live.steps.filter((st) => st.step > last);
      steps.push(...newer);
      total += newer.length;
    }
    return { runId, steps, total, stride: history.stride };
  }

  /** Predictions for new images with a trained run: one image encoding + router + K-way mix each. */
  /** The compute worker runs one job at a time: while it trains, encoding would wait until training ends. */
  private assertComputeFree(what: string): void {
    if (this.active)
      throw new AppError(
        'busy',
        `${what} needs the compute worker, which is training run ${this.active.runId ?? ''} now. Try again when it finishes, or cancel it on the Train page.`
      );
  }

  /** Image encoding through the compute worker, in the shape feature caching expects. */
  private embedder(modelDir: string): ImageEmbedder {
    return {
      embedImageFiles: async (files, options = {}) => {
        if (options.augment) throw new AppError('internal', 'Augmented views are encoded during training only.');
        const all: ImageEmbedding[] = [];
        await this.clip.compute.embedImages(modelDir, files, (batch, done) => {
          all.push(...batch);
          void options.onBatch?.(batch, done);
        });
        return all;
      }
    };
  }

  /**
   * Evaluates a finished run on another test set: this project's validation split, or another
   * project's labeled images (domain shift; classes matched by name). Only the test split's
   * predictions are stored with the run.
   */
  async evaluateOn(runId: string, split: 'test' | 'val', otherProject?: string, classes: ClassCandidates = 'trained') {
    this.assertComputeFree('Evaluating');
    const t = new TrainingService(this.project());
    const run = t.training.run(runId);
    const model = this.clip.models.get(run.modelId);
    const same = !otherProject || path.resolve(otherProject) === path.resolve(t.store.file);
    const openVocabulary = async (target: TrainingService) => {
      await this.encodeAddedClasses(t, runId, model.dir, target);
      return { classesFrom: target };
    };
    const scorer = this.scorer(model.dir);
    if (same) return t.evaluate(runId, this.embedder(model.dir), model, { split, scorer, ...(classes === 'project' ? await openVocabulary(t) : {}) });
    const file = path.resolve(otherProject);
    if (!fs.existsSync(file)) throw new AppError('not_found', `${file} does not exist; choose a .mocoop project file.`);
    const other = Project.open(file);
    try {
      const on = new TrainingService(other);
      return await t.evaluate(runId, this.embedder(model.dir), model, { on, split, scorer, ...(classes === 'project' ? await openVocabulary(on) : {}) });
    } finally {
      other.close();
    }
  }

  /** CoCoOp's per-image scoring through the compute worker's text tower. */
  private scorer(modelDir: string): ConditionalScorer {
    return (weights, names, spec, images) => this.clip.compute.conditionalScores(modelDir, weights, names, spec, images);
  }

  /**
   * Scores of candidate rows for each image under a CoCoOp table (the worker's text tower), or undefined
   * for any other table (its scores come from the fixed table in `predict`).
   */
  private async conditionalRows(
    table: ExpertTable,
    run: RunRecord,
    modelDir: string,
    names: string[],
    images: Float32Array[]
  ): Promise<number[][] | undefined> {
    if (!table.conditional) return undefined;
    return this.scorer(modelDir)(table.conditional, names, conditionalSpec(run.settings), images);
  }

  /**
   * Makes sure the run has rows for every class of `target` (open vocabulary): names it lacks are
   * encoded through its learned experts in the compute worker, once, into a derived table.
   */
  private async encodeAddedClasses(t: TrainingService, runId: string, modelDir: string, target: TrainingService): Promise<string[]> {
    const refusal = t.addClassesRefusal(runId);
    const names = target.store.listClasses().map((c) => c.name);
    if (names.length < 2) throw new AppError('invalid_input', `${target.store.file} has ${names.length} class(es); scoring needs at least two.`);
    if (t.namesToEncode(runId, names).length > 0) {
      if (refusal) throw new AppError('invalid_input', refusal);
      await this.clip.compute.extendClasses(t.store.file, modelDir, runId, names, target.store.file);
    }
    return names;
  }

  async classify(runId: string, files: { name: string; dataBase64: string }[], classes: ClassCandidates = 'trained') {
    this.assertComputeFree('Classifying');
    const t = new TrainingService(this.project());
    const run = t.training.run(runId);
    const bytes = t.training.expertTable(runId);
    if (!bytes) throw new AppError('invalid_input', `Run ${runId} has no trained experts (status: ${run.status}).`);
    const model = this.clip.models.get(run.modelId);
    let table = decodeTable(bytes);
    let names = t.runClassNames(runId);
    let rows = names.map((_, a) => a);
    if (classes === 'project') {
      // Every class of the project now: those the run lacks are scored through its experts (derived table).
      names = await this.encodeAddedClasses(t, runId, model.dir, t);
      const extended = await t.extendClasses(runId, undefined, names, t.store.file);
      table = extended.table;
      rows = names.map((n) => extended.classes.indexOf(n));
    }
    const scale = runLogitScale(table, run, () => modelLogitScale(model));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-classify-'));
    try {
      const paths = files.map((f, i) => {
        const file = path.join(dir, `${i}-${path.basename(f.name).replace(/[^\w.-]/g, '_')}`);
        fs.writeFileSync(file, Buffer.from(f.dataBase64, 'base64'));
        return file;
      });
      const results: {
        name: string;
        predicted: string | null;
        confidence: number;
        scores: { className: string; probability: number }[];
        topExperts: number[];
        topWeights: number[];
        error?: string;
      }[] = files.map((f) => ({
        name: f.name,
        predicted: null,
        confidence: 0,
        scores: [],
        topExperts: [],
        topWeights: [],
        error: 'not processed'
      }));
      const encoded: { index: number; vector: Float32Array }[] = [];
      await this.clip.compute.embedImages(model.dir, paths, (batch) => {
        for (const r of batch) {
          if (r.vector) encoded.push({ index: r.index, vector: r.vector });
          else {
            // Name the file as the user knows it, not by its temporary copy.
            const reason = (r.error ?? 'could not be read').split(paths[r.index]!).join(files[r.index]!.name);
            results[r.index] = { ...results[r.index]!, error: reason };
          }
        }
      });
      const conditional = await this.conditionalRows(
        table,
        run,
        model.dir,
        names,
        encoded.map((e) => e.vector)
      );
      encoded.forEach(({ index, vector }, i) => {
        const p = predict(table, vector, rows, conditional?.[i]);
        const probs = classProbabilities(p.scores, scale);
        results[index] = {
          name: files[index]!.name,
          predicted: p.predicted >= 0 ? names[p.predicted]! : null,
          confidence: p.predicted >= 0 ? probs[p.predicted]! : 0,
          scores: names
            .map((className, a) => ({ className, probability: probs[a]! }))
            .sort((a, b) => b.probability - a.probability)
            .slice(0, 5),
          topExperts: p.topExperts,
          topWeights: p.topWeights
        };
      });
      return results;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Unlabeled images, most uncertain first under a trained run (margin or entropy of its class probabilities). */
  async suggest(runId: string | undefined, by: 'margin' | 'entropy', limit: number) {
    const store = this.project();
    const t = new TrainingService(store);
    const candidates = t.training.runs().filter((r) => r.status === 'done' && t.training.expertTable(r.id));
    const run = runId
      ? t.training.run(runId)
      : [...candidates].sort((a, b) => ((b.metrics?.accuracy as number) ?? 0) - ((a.metrics?.accuracy as number) ?? 0))[0];
    if (!run) throw new AppError('invalid_input', 'Suggestions need a trained run: train one first (Train page).');
    const bytes = t.training.expertTable(run.id);
    if (!bytes) throw new AppError('invalid_input', `Run ${run.id} has no trained experts.`);
    const table = decodeTable(bytes);
    const names = [...((run.settings.classes as string[]) ?? []), ...((run.settings.virtualClasses as string[]) ?? [])];
    const rows = store.images(store.imageIds({ unlabeled: true, missing: false }));
    const model = this.clip.models.get(run.modelId);
    const { features } = await this.clip.imageFeatures(store, model, rows, undefined, (done, total) =>
      this.events.emit('zeroshot.progress', { runId: `suggest-${run.id}`, phase: 'features', done, total })
    );
    const scale = runLogitScale(table, run, () => modelLogitScale(model));
    const usable = rows.filter((r) => features.has(r.hash));
    const conditional = await this.conditionalRows(
      table,
      run,
      model.dir,
      names,
      usable.map((r) => features.get(r.hash)!)
    );
    const scored = usable
      .map((r, i) => {
        const p = predict(
          table,
          features.get(r.hash)!,
          names.map((_, a) => a),
          conditional?.[i]
        );
        const probs = classProbabilities(p.scores, scale).sort((a, b) => b - a);
        const uncertainty = by === 'margin' ? 1 - (probs[0]! - (probs[1] ?? 0)) : -probs.reduce((s, q) => s + (q > 0 ? q * Math.log(q) : 0), 0);
        return { imageId: r.id, uncertainty, predicted: p.predicted >= 0 ? names[p.predicted]! : null, confidence: probs[0]! };
      })
      .sort((a, b) => b.uncertainty - a.uncertainty || a.imageId - b.imageId);
    return { runId: run.id, by, items: scored.slice(0, limit) };
  }

  cancel(runId: string): boolean {
    if (!this.active || this.active.runId !== runId) return false;
    this.active.controller.abort();
    return true;
  }

  handlers(): Pick<Handlers, Names> {
    const training = () => new TrainingService(this.project());
    /** Every window refreshes its sets or template groups when one of them saves. */
    const changed = <T>(reason: 'fewshot' | 'templates', value: T): T => {
      this.events.emit('project.changed', { reason });
      return value;
    };
    const setName = (t: TrainingService, setId: number) =>
      t.store.db.prepare('SELECT name FROM fewshot_sets WHERE id = ?').pluck().get(setId) as string | undefined;
    return {
      'train.start': async ({ modelId, name, note, ...job }) => {
        // The same table as the Train page: a setting that does nothing for the method is refused, not silently ignored.
        const extra = settingsNotApplying(job.method, job);
        if (extra.length) {
          const names = extra.map((k) => SETTING_LABELS[k]);
          throw new AppError(
            'invalid_input',
            `${names.join(', ')} ${extra.length === 1 ? 'does' : 'do'} not apply to ${job.method}: leave ${extra.length === 1 ? 'it' : 'them'} out.`
          );
        }
        const started = await this.launch(modelId, job);
        const t = training().training;
        if (name?.trim()) t.renameRun(started.runId, name);
        if (note?.trim()) t.annotateRun(started.runId, note);
        return started;
      },
      'runs.steps': ({ runId }) => this.stepHistory(runId),
      'runs.rename': ({ runId, name }) => summarize(training().training.renameRun(runId, name)),
      'runs.annotate': ({ runId, note }) => summarize(training().training.annotateRun(runId, note)),
      'train.estimate': (input) => this.augmentEstimator.estimate(input),
      'train.resume': ({ runId }) => this.launch(training().training.run(runId).modelId, { method: 'mocoop', resume: runId }),
      'train.cancel': ({ runId }) => ({ cancelled: this.cancel(runId) }),
      'runs.details': ({ runId }) => {
        const t = training();
        const run = t.training.run(runId);
        return { run: summarize(run), metrics: (run.metrics as never) ?? null, predictions: t.training.predictions(runId) };
      },
      'runs.delete': ({ runId }) => {
        const t = training();
        t.training.deleteRun(runId);
        return t.training.runs().map(summarize);
      },
      'runs.evaluate': ({ runId, split, otherProject, classes }) => this.evaluateOn(runId, split ?? 'test', otherProject, classes ?? 'trained'),
      'runs.classCoverage': ({ runId }) => {
        const t = training();
        const own = new Set(t.runClassNames(runId));
        const names = t.store.listClasses().map((c) => c.name);
        const reason = t.addClassesRefusal(runId);
        return { trained: names.filter((n) => own.has(n)), notInRun: names.filter((n) => !own.has(n)), canAdd: reason === null, reason };
      },
      'classify.files': ({ runId, files, classes }) => this.classify(runId, files, classes ?? 'trained'),
      'suggest.uncertain': ({ runId, by, limit }) => this.suggest(runId, by ?? 'margin', limit ?? 500),
      'runs.map': async ({ runId, projection }) => {
        const t = training();
        const run = t.training.run(runId);
        const predictions = t.training.predictions(runId);
        const rows = new Map(t.store.images(predictions.map((p) => p.imageId)).map((r) => [r.id, r]));
        const features = t.store.cachedFeatures(run.modelId, [...new Set([...rows.values()].map((r) => r.hash))]);
        const usable = predictions.filter((p) => features.has(rows.get(p.imageId)?.hash ?? ''));
        // The map depends only on which images were predicted (features are fixed per model and content).
        const key = `${t.store.file}\n${runId}\n${run.modelId}\n${projection ?? 'pca'}\n${usable.map((p) => p.imageId).join(',')}`;
        const cached = this.maps.get(key);
        if (cached) return cached;
        const points = await pca2dInWorker(
          usable.map((p) => features.get(rows.get(p.imageId)!.hash)!),
          projection ?? 'pca'
        );
        const result = usable.map((p, i) => ({ imageId: p.imageId, x: points[i]!.x, y: points[i]!.y }));
        // A finished run's map never changes; keep the last few.
        this.maps.set(key, result);
        if (this.maps.size > 8) this.maps.delete(this.maps.keys().next().value!);
        return result;
      },
      'runs.report': ({ runId, dir }) => {
        // A path typed in the app must be a full one: relative to what would it be?
        const target = checkOutputFolder(dir, 'the report');
        try {
          return writeReport(target, training().reportInput(runId, this.version));
        } catch (error) {
          if (error instanceof AppError) throw error;
          throw new AppError('bad_source', `The report could not be written to ${target}: ${(error as Error).message}`);
        }
      },
      'runs.list': () => {
        const t = training();
        // A run left "running" by a process that is gone (the app or its worker crashed) is interrupted.
        t.training.markStoppedRuns();
        return t.training.runs().map(summarize);
      },
      'fewshot.create': ({ k, seed, baseNew, name }) => changed('fewshot', training().createFewShotSet(k, seed, baseNew, name)),
      'fewshot.list': () => training().training.fewShotSets(),
      'fewshot.createManual': ({ name, imageIds, newClassIds }) => changed('fewshot', training().createManualSet(name, imageIds, newClassIds)),
      // A save naming the set's revision it started from is refused when another window edited the set since.
      'fewshot.update': ({ setId, expectedRevision, ...changes }) => {
        const t = training();
        return changed(
          'fewshot',
          guardedWrite(t.store.db, `fewshot:${setId}`, expectedRevision, () => t.editSet(setId, changes), setName(t, setId))
        );
      },
      'fewshot.delete': ({ setId, expectedRevision }) => {
        const t = training();
        guardedWrite(t.store.db, `fewshot:${setId}`, expectedRevision, () => t.training.deleteFewShotSet(setId), setName(t, setId));
        return changed('fewshot', t.training.fewShotSets());
      },
      'fewshot.classCounts': () => training().classCounts(),
      'templates.groups': () => training().training.templateGroups(),
      'templates.setGroups': ({ groups, expectedRevision }) => {
        const t = training();
        return changed(
          'templates',
          guardedWrite(t.store.db, 'templates', expectedRevision, () => t.training.replaceTemplateGroups(groups))
        );
      }
    };
  }

  dispose(): void {
    this.active?.controller.abort();
  }
}
