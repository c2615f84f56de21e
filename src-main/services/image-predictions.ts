/**
 * A run's predictions for single images (the image viewer): stored when the run evaluated the image,
 * else computed from its cached CLIP features with the run's expert table — no encoding, so it is
 * instant and never waits for the compute worker.
 */
import type { ImagePrediction } from '../contract';
import type { Handlers } from '../contract/dispatch';
import { type ExpertTable, classProbabilities, predict, runLogitScale } from '../mocoop/inference';
import { decodeTable } from '../mocoop/table-codec';
import type { ProjectStore } from '../store/project-store';
import { type RunRecord, TrainingStore } from '../store/training-store';
import type { ClipServices } from './clip-services';
import { modelLogitScale } from '../training/evaluate';

interface RunModel {
  run: RunRecord;
  table: ExpertTable;
  names: string[];
  /** Project class id per class of the run (null: not in this project any more). */
  classIds: (number | null)[];
  scale: number;
}

export class PredictionServices {
  private readonly tables = new Map<string, RunModel>();

  constructor(
    private readonly project: () => ProjectStore,
    private readonly clip: ClipServices
  ) {}

  /** The run a page means when it names none: the most accurate finished run with trained experts. */
  defaultRun(store: ProjectStore): RunRecord | null {
    const training = new TrainingStore(store);
    const done = training.runs().filter((r) => r.status === 'done' && training.expertTable(r.id));
    return [...done].sort((a, b) => ((b.metrics?.accuracy as number) ?? 0) - ((a.metrics?.accuracy as number) ?? 0))[0] ?? null;
  }

  private runModel(store: ProjectStore, run: RunRecord): RunModel | null {
    const key = `${store.file}\n${run.id}`;
    const cached = this.tables.get(key);
    if (cached) return cached;
    const bytes = new TrainingStore(store).expertTable(run.id);
    if (!bytes) return null;
    const table = decodeTable(bytes);
    const baseNames = (run.settings.classes as string[] | undefined) ?? [];
    const newNames = (run.settings.virtualClasses as string[] | undefined) ?? [];
    const names = [...baseNames, ...newNames];
    const byName = new Map(store.listClasses().map((c) => [c.name, c.id]));
    const recorded = Array.isArray(run.settings.classIds)
      ? [...(run.settings.classIds as number[]), ...((run.settings.virtualClassIds as number[] | undefined) ?? [])]
      : null;
    const known = new Set(store.listClasses().map((c) => c.id));
    const classIds = names.map((name, a) => {
      const id = recorded?.[a];
      if (id !== undefined && known.has(id)) return id;
      return byName.get(name) ?? null;
    });
    let model = null;
    try {
      model = this.clip.models.get(run.modelId);
    } catch {
      model = null;
    }
    const scale = runLogitScale(table, run, () => modelLogitScale(model));
    const result = { run, table, names, classIds, scale };
    this.tables.set(key, result);
    if (this.tables.size > 4) this.tables.delete(this.tables.keys().next().value!);
    return result;
  }

  predictions(runId: string | undefined, imageIds: number[]): { runId: string | null; items: ImagePrediction[] } {
    const store = this.project();
    const training = new TrainingStore(store);
    const run = runId ? training.run(runId) : this.defaultRun(store);
    if (!run || imageIds.length === 0) return { runId: run?.id ?? null, items: [] };
    const rows = store.images(imageIds);
    const classNames = new Map(store.listClasses().map((c) => [c.id, c.name]));
    const stored = new Map(
      (
        store.db
          .prepare(
            'SELECT image_id AS imageId, predicted_class_id AS predictedClassId, correct, data FROM run_predictions WHERE run_id = ? AND image_id IN (SELECT value FROM json_each(?))'
          )
          .all(run.id, JSON.stringify(imageIds)) as { imageId: number; predictedClassId: number; correct: number; data: string }[]
      ).map((r) => [r.imageId, r])
    );
    const items: ImagePrediction[] = [];
    const todo: typeof rows = [];
    for (const row of rows) {
      const s = stored.get(row.id);
      if (!s) {
        todo.push(row);
        continue;
      }
      const d = JSON.parse(s.data) as { topExperts?: number[]; topWeights?: number[]; confidence?: number };
      const predicted = classNames.get(s.predictedClassId) ?? null;
      items.push({
        imageId: row.id,
        predictedClassId: s.predictedClassId,
        predicted,
        confidence: d.confidence ?? 0,
        correct: row.labelId === null ? null : row.labelId === s.predictedClassId,
        topExperts: d.topExperts ?? [],
        topWeights: d.topWeights ?? [],
        top: predicted && d.confidence !== undefined ? [{ className: predicted, probability: d.confidence }] : [],
        source: 'evaluated'
      });
    }
    const model = todo.length ? this.runModel(store, run) : null;
    // A CoCoOp run scores through the text tower (the worker): only the images it evaluated have a prediction here.
    if (model && todo.length && !model.table.conditional) {
      const features = store.cachedFeatures(run.modelId, [...new Set(todo.map((r) => r.hash))]);
      const indices = model.names.map((_, a) => a);
      for (const row of todo) {
        const vector = features.get(row.hash);
        if (!vector || vector.length !== model.table.dim) continue;
        const p = predict(model.table, vector, indices);
        if (p.predicted < 0) continue;
        const probs = classProbabilities(p.scores, model.scale);
        const predictedClassId = model.classIds[p.predicted] ?? null;
        items.push({
          imageId: row.id,
          predictedClassId,
          predicted: model.names[p.predicted]!,
          confidence: probs[p.predicted]!,
          correct: row.labelId === null || predictedClassId === null ? null : row.labelId === predictedClassId,
          topExperts: p.topExperts,
          topWeights: p.topWeights,
          top: model.names
            .map((className, a) => ({ className, probability: probs[a]! }))
            .sort((a, b) => b.probability - a.probability)
            .slice(0, 3),
          source: 'computed'
        });
      }
    }
    const order = new Map(imageIds.map((id, i) => [id, i]));
    items.sort((a, b) => order.get(a.imageId)! - order.get(b.imageId)!);
    return { runId: run.id, items };
  }

  handlers(): Pick<Handlers, 'images.predictions'> {
    return { 'images.predictions': ({ runId, imageIds }) => this.predictions(runId, imageIds) };
  }
}
