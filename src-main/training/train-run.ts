/**
 * One training run, in the calling process (the CLI, or the app's compute worker): settings resolved and
 * checked, the run recorded and its few-shot set frozen in one transaction (or a stopped run resumed from
 * its last checkpoint), the method's table built, stored, evaluated on the test split and finished.
 */
import type { ClipEngine } from '../clip/engine';
import { AppError } from '../contract/errors';
import { deviations, recogniseDataset } from '../mocoop/baselines';
import { PromptLayoutError } from '../mocoop/experts';
import type { ExpertTable } from '../mocoop/inference';
import { encodeTable } from '../mocoop/table-codec';
import { type StepEvent, TrainingDivergedError } from '../mocoop/trainer';
import type { ModelInfo } from '../models/model-store';
import { loadTemplateLibrary } from '../templates/library';
import { evaluate } from './evaluate';
import { setImages } from './few-shot-sets';
import { checkLossOverrides, checkPromptTokens, defaultAugmentFor, resolveSettings, runRecord, templateGroups, trainsPrompts } from './settings';
import { linearProbeTable, promptTable, zeroShotTable } from './tables';
import type { ProjectTraining, TrainOptions } from './types';

/** Trains (or resumes) a run and returns its id; `onRun` hears the id as soon as the run is recorded. */
export async function trainRun(
  project: ProjectTraining,
  engine: ClipEngine,
  model: ModelInfo,
  backend: string,
  options: TrainOptions,
  onStep: (event: StepEvent) => void,
  shouldStop?: () => boolean,
  onRun?: (runId: string) => void
): Promise<string> {
  const { store, training } = project;
  checkLossOverrides(options.loss);
  const resumed = options.resume ? training.run(options.resume) : null;
  const { set, rows } = setImages(project, resumed ? (resumed.setId ?? undefined) : options.setId);
  const classById = new Map(store.listClasses().map((c) => [c.id, c]));
  const base = set.baseClassIds.map((id) => classById.get(id)!).filter(Boolean);
  const virtual = set.newClassIds.map((id) => classById.get(id)!).filter(Boolean);
  // The data set the project is (named, imported from its CoOp split file, or grouped with the authors'
  // template groups): it picks the published schedule and KgCoOp's hand-written prompt.
  const library = loadTemplateLibrary();
  const recognised = recogniseDataset(
    library,
    training.templateGroups().map((g) => g.templates),
    options.dataset,
    store.importSources()
  );
  const resolved = await resolveSettings({
    options,
    resumed,
    set,
    recognised,
    library,
    logitScale: engine.logitScale,
    defaultAugment: () => defaultAugmentFor(engine)
  });
  const { method, settings, augment } = resolved;
  const groups = resumed ? ((resumed.settings.groups as string[][]) ?? templateGroups(training)) : templateGroups(training);
  const single = method === 'coop' || method === 'kgcoop' || method === 'cocoop' || method === 'zeroshot' || method === 'linear-probe';
  if (!single && (settings.topK < 1 || settings.topK > groups.length)) {
    throw new AppError(
      'invalid_input',
      `K (experts per image) must be between 1 and the number of template groups (${groups.length}); it is ${settings.topK}.`
    );
  }
  if (groups.some((g) => g.length === 0)) throw new AppError('invalid_input', 'A template group is empty; every group needs at least one template.');
  if (base.length < 2) throw new AppError('invalid_input', 'Training needs at least two classes with images in the few-shot set.');
  // Every expert's template filled with every class name must tokenise as its parts: refused before a run is recorded.
  if (trainsPrompts(method))
    checkPromptTokens(
      engine,
      settings,
      groups,
      [...base, ...virtual].map((c) => c.name)
    );
  if (!resumed) {
    const held = rows.filter((r) => r.split !== 'train');
    if (held.length) {
      throw new AppError(
        'invalid_input',
        `${held.length} image(s) of the few-shot set "${set.name}" are now in the test or validation split (e.g. ${held[0]!.fileName}): a run would be tested on what it trained on. Edit the set on the Few-shot sets page, or move them back to the train pool.`
      );
    }
    const classIds = new Set([...set.baseClassIds, ...set.newClassIds]);
    const tests = store.images(store.imageIds({ split: 'test' })).filter((r) => r.labelId !== null && !r.missing && classIds.has(r.labelId));
    if (tests.length === 0)
      throw new AppError(
        'invalid_input',
        'No labeled test images of these classes: a run could not be evaluated. Move some labeled images to the test split first (E on the Images page).'
      );
  }
  if (rows.length === 0) throw new AppError('invalid_input', 'The few-shot set has no usable images (missing files or labels changed).');
  let runId: string;
  let checkpoint: Buffer | undefined;
  if (resumed) {
    runId = resumed.id;
    training.resumeRun(runId);
    checkpoint = training.checkpoint(runId)?.state;
  } else {
    runId = `${method}-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${Math.random().toString(36).slice(2, 6)}`;
    const record = runRecord(resolved, { recognised, groups, set, base, virtual });
    // Start and freeze together, then make sure the set is still what this run read: an edit that
    // slipped in between would otherwise train on one version and freeze another.
    const startedSet = store.transaction(() => {
      training.startRun({ id: runId, method, settings: record, backend, modelId: model.id, setId: set.id });
      training.freezeSet(set.id);
      return training.fewShotSet(set.id);
    });
    const labelsNow = training.frozenLabels(set.id);
    const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
    if (
      !set.frozen &&
      (!same(startedSet.imageIds, set.imageIds) ||
        !same(startedSet.baseClassIds, set.baseClassIds) ||
        !same(startedSet.newClassIds, set.newClassIds) ||
        rows.some((r) => labelsNow.get(r.id) !== r.labelId))
    ) {
      training.finishRun(runId, 'failed', null, 'The few-shot set changed while the run was starting.');
      throw new AppError('conflict', `The few-shot set "${set.name}" changed while the run was starting; start the run again.`);
    }
  }
  onRun?.(runId);
  try {
    const features = await project.features(engine, model, rows);
    const usable = rows.filter((r) => features.has(r.hash));
    const classIndex = new Map(base.map((c, i) => [c.id, i]));
    let table: ExpertTable;
    if (method === 'zeroshot') {
      table = zeroShotTable(
        engine,
        groups,
        [...base, ...virtual].map((c) => c.name)
      );
      onStep({ event: 'step', epoch: 0, step: 0, loss: 0, l_ce: 0, l_gate: 0, l_text: 0, lr: 0, accuracy: 0, images_per_s: 0, eta_s: 0 });
    } else if (method === 'linear-probe') {
      const baseIds = new Set(base.map((c) => c.id));
      const validationPool = store
        .images(store.imageIds({ split: 'val' }))
        .filter((r): r is typeof r & { labelId: number } => r.labelId !== null && !r.missing && baseIds.has(r.labelId));
      const probe = await linearProbeTable({
        rows: usable,
        features,
        classIndex,
        baseClasses: base.length,
        newClasses: virtual.length,
        dim: engine.dim,
        k: set.k,
        seed: settings.seed,
        validationPool,
        featuresOf: (valRows) => project.features(engine, model, valRows),
        onIteration: (i, loss) =>
          i % 25 === 0
            ? onStep({ event: 'step', epoch: 0, step: i + 1, loss, l_ce: loss, l_gate: 0, l_text: 0, lr: 0, accuracy: 0, images_per_s: 0, eta_s: 0 })
            : undefined
      });
      training.addRunSettings(runId, {
        linearProbeC: probe.C,
        linearProbeValidation: probe.validation,
        deviations: deviations({ method, baseToNew: set.newClassIds.length > 0, linearProbe: { validation: probe.validation } })
      });
      table = probe.table;
    } else {
      const result = await promptTable(project, engine, model, {
        runId,
        method,
        rows: usable,
        features,
        classIndex,
        classNames: base.map((c) => c.name),
        virtualNames: virtual.map((c) => c.name),
        groups,
        settings,
        augment,
        checkpoint,
        onStep,
        shouldStop
      });
      if (result.stopped) {
        training.finishRun(runId, 'cancelled', null);
        return runId;
      }
      table = result.table;
    }
    training.saveExpertTable(runId, encodeTable(table));
    const metrics = await evaluate(project, runId, engine, model, { store: true });
    training.finishRun(runId, 'done', metrics as unknown as Record<string, unknown>);
    return runId;
  } catch (error) {
    training.finishRun(runId, 'failed', null, (error as Error).message);
    if (error instanceof AppError) throw error;
    if (error instanceof TrainingDivergedError || error instanceof PromptLayoutError) throw new AppError('invalid_input', error.message);
    throw new AppError('internal', `Training failed: ${(error as Error).message}`);
  }
}
