/**
 * Few-shot sets of one project: sampled (k per class, seeded), hand-picked, edited (a frozen set's edit
 * lands in a copy), one per seed of a multi-seed run, and the images a run on a set trains with.
 */
import type { ImageRow } from '../contract';
import { AppError } from '../contract/errors';
import { baseNewSplit, sampleFewShot } from '../mocoop/fewshot';
import type { FewShotSet } from '../store/training-store';
import type { ProjectTraining } from './types';

type Project = Pick<ProjectTraining, 'store' | 'training'>;

const NO_SET = 'No few-shot set yet. Create one first (mocoop fewshot <project> --k 16 --seed 1).';

/** Few-shot images come from the train pool: an image in a set and in the test split would be scored on what it trained on. */
function assertTrainPool(rows: { split: string; fileName: string }[]): void {
  const held = rows.filter((r) => r.split !== 'train');
  if (held.length) {
    throw new AppError(
      'invalid_input',
      `${held.length} image(s) are in the test or validation split (e.g. ${held[0]!.fileName}); a few-shot set takes train-pool images only. Remove them from the set, or move them to the train pool (T on the Images page).`
    );
  }
}

/** Labeled, present images of the train pool, per class in label order. */
export function trainPool(project: Project): { id: number; classId: number; hash: string; path: string }[] {
  const rows = project.store.images(project.store.imageIds({ split: 'train' }));
  return rows.filter((r) => r.labelId !== null && !r.missing).map((r) => ({ id: r.id, classId: r.labelId!, hash: r.hash, path: r.path }));
}

export function createFewShotSet(project: Project, k: number, seed: number, baseNew: boolean, name?: string): FewShotSet {
  const classes = project.store.listClasses().filter((c) => c.imageCount > 0);
  if (classes.length < 2) throw new AppError('invalid_input', 'A few-shot set needs at least two classes with labeled images.');
  const split = baseNew ? baseNewSplit(classes) : { base: classes, new: [] };
  const baseIds = new Set(split.base.map((c) => c.id));
  const pool = trainPool(project).filter((r) => baseIds.has(r.classId));
  const chosen = sampleFewShot(pool, k, seed);
  const empty = split.base.filter((c) => !chosen.some((r) => r.classId === c.id));
  if (empty.length)
    throw new AppError(
      'invalid_input',
      `No labeled train-pool images for ${empty.map((c) => `"${c.name}"`).join(', ')}. Label some or move some to the train pool.`
    );
  return project.training.createFewShotSet({
    name: name ?? project.training.freeSetName(`${k}-shot seed ${seed}${baseNew ? ' base-to-new' : ''}`, 'copy'),
    k,
    seed,
    imageIds: chosen.map((r) => r.id),
    baseClassIds: split.base.map((c) => c.id),
    newClassIds: split.new.map((c) => c.id)
  });
}

/** A hand-picked set: these labeled images; their classes are base, the listed others are new (virtual). */
export function createManualSet(project: Project, name: string, imageIds: number[], newClassIds: number[] = []): FewShotSet {
  const rows = project.store.images([...new Set(imageIds)]);
  if (rows.length !== new Set(imageIds).size) throw new AppError('not_found', 'Some picked images no longer exist; reload the grid.');
  const unlabeled = rows.filter((r) => r.labelId === null);
  if (unlabeled.length)
    throw new AppError('invalid_input', `${unlabeled.length} picked image(s) have no label (e.g. ${unlabeled[0]!.fileName}); label them or unpick them.`);
  assertTrainPool(rows);
  const base = [...new Set(rows.map((r) => r.labelId!))].sort((a, b) => a - b);
  if (base.length < 2) throw new AppError('invalid_input', 'Pick images of at least two classes.');
  const clash = newClassIds.filter((id) => base.includes(id));
  if (clash.length) throw new AppError('invalid_input', 'A class cannot be both picked (base) and new.');
  return project.training.createFewShotSet({ name, k: null, seed: null, imageIds: rows.map((r) => r.id), baseClassIds: base, newClassIds });
}

/**
 * Edits a set: its name, its images (hand edits), or which classes are new (virtual). Contents of
 * a frozen set (one a run used) never change: the edit lands in a copy, so every report stays
 * reproducible. A class made base gets k train-pool images sampled with the set's seed; a class
 * made new loses its images (new classes are names only).
 */
export function editSet(
  project: Project,
  setId: number,
  changes: { name?: string; imageIds?: number[]; newClassIds?: number[]; classIds?: number[] }
): { set: FewShotSet; copiedFrom: number | null } {
  const { store, training } = project;
  const old = training.fewShotSet(setId);
  const name = changes.name?.trim() || old.name;
  if (changes.imageIds === undefined && changes.newClassIds === undefined && changes.classIds === undefined) {
    return { set: name === old.name ? old : training.renameFewShotSet(setId, name), copiedFrom: null };
  }
  const classById = new Map(store.listClasses().map((c) => [c.id, c]));
  const className = (id: number) => `"${classById.get(id)?.name ?? `#${id}`}"`;
  let imageIds = [...new Set(changes.imageIds ?? old.imageIds)];
  const rows = store.images(imageIds);
  if (rows.length !== imageIds.length) throw new AppError('not_found', 'Some images of the set no longer exist; reload the grid.');
  const unlabeled = rows.filter((r) => r.labelId === null);
  if (changes.imageIds && unlabeled.length) {
    throw new AppError(
      'invalid_input',
      `${unlabeled.length} picked image(s) have no label (e.g. ${unlabeled[0]!.fileName}); label them or remove them from the set.`
    );
  }
  if (changes.imageIds) assertTrainPool(rows);
  const labelOf = new Map(rows.map((r) => [r.id, r.labelId]));
  const universe = new Set(changes.classIds ?? [...old.baseClassIds, ...old.newClassIds, ...rows.flatMap((r) => (r.labelId === null ? [] : [r.labelId]))]);
  const unknown = [...(changes.newClassIds ?? []), ...(changes.classIds ?? [])].filter((id) => !classById.has(id));
  if (unknown.length) throw new AppError('not_found', `Class #${unknown[0]} does not exist; reload the page.`);
  let newIds: number[];
  // Hand-picked images make the set hand-made: it is no longer "k per class with seed s".
  const k = changes.imageIds ? null : old.k;
  const seed = changes.imageIds ? null : old.seed;
  if (changes.newClassIds !== undefined || changes.classIds !== undefined) {
    newIds = [...new Set(changes.newClassIds ?? old.newClassIds)];
    newIds.forEach((id) => universe.add(id));
    // Images of classes leaving the set or turning new, and images unlabeled since (their class was deleted), leave the set.
    imageIds = imageIds.filter((id) => {
      const label = labelOf.get(id);
      return label != null && universe.has(label) && !newIds.includes(label);
    });
    const present = new Set(imageIds.map((id) => labelOf.get(id)!));
    const needImages = [...universe].filter((id) => !newIds.includes(id) && !present.has(id));
    if (needImages.length) {
      const perClass = old.k ?? Math.max(1, ...[...present].map((c) => imageIds.filter((id) => labelOf.get(id) === c).length));
      const pool = trainPool(project).filter((r) => needImages.includes(r.classId));
      const sampled = sampleFewShot(pool, perClass, old.seed ?? 1);
      const empty = needImages.filter((c) => !sampled.some((r) => r.classId === c));
      if (empty.length)
        throw new AppError(
          'invalid_input',
          `${empty.map(className).join(', ')} has no labeled train-pool images to become a base class; label some or keep it new.`
        );
      imageIds = [...imageIds, ...sampled.map((r) => r.id)];
    }
  } else {
    // Hand-edited images: classes with picked images are base, the set's new classes stay new, and a
    // base class whose images were all removed leaves the set.
    const picked = new Set(rows.map((r) => r.labelId!));
    newIds = old.newClassIds.filter((id) => !picked.has(id));
    [...universe].filter((id) => !picked.has(id) && !newIds.includes(id)).forEach((id) => universe.delete(id));
  }
  imageIds.sort((a, b) => a - b);
  const baseIds = [...universe].filter((id) => !newIds.includes(id) && classById.has(id)).sort((a, b) => a - b);
  newIds = newIds.filter((id) => classById.has(id)).sort((a, b) => a - b);
  if (baseIds.length < 2) throw new AppError('invalid_input', 'A few-shot set needs at least two base classes (classes with training images).');
  const contents = { k, seed, imageIds, baseClassIds: baseIds, newClassIds: newIds };
  if (old.frozen) {
    const copy = training.createFewShotSet({ ...contents, name: training.freeSetName(name) });
    return { set: copy, copiedFrom: old.id };
  }
  return { set: training.updateFewShotSet(setId, { ...contents, name }), copiedFrom: null };
}

/**
 * The few-shot set each seed of a multi-seed run trains on, as Dassl's seeds do (a seed samples the
 * few-shot images and initialises training): for a sampled set, the set with the same k, protocol and
 * classes sampled with that seed (created when missing); a hand-picked set keeps its images for every seed.
 */
export function seedSets(project: Project, setId: number | undefined, seeds: number[]): { seed: number; set: FewShotSet; created: boolean }[] {
  const { training } = project;
  const sets = training.fewShotSets();
  const chosen = setId !== undefined ? training.fewShotSet(setId) : sets.at(-1);
  if (!chosen) throw new AppError('invalid_input', NO_SET);
  if (chosen.k === null || chosen.seed === null) return seeds.map((seed) => ({ seed, set: chosen, created: false }));
  const baseNew = chosen.newClassIds.length > 0;
  const same = (a: number[], b: number[]) => a.length === b.length && [...a].sort((x, y) => x - y).every((x, i) => x === [...b].sort((p, q) => p - q)[i]);
  return seeds.map((seed) => {
    if (seed === chosen.seed) return { seed, set: chosen, created: false };
    const sibling = training
      .fewShotSets()
      .find((s) => s.k === chosen.k && s.seed === seed && same(s.baseClassIds, chosen.baseClassIds) && same(s.newClassIds, chosen.newClassIds));
    if (sibling) return { seed, set: sibling, created: false };
    const created = createFewShotSet(project, chosen.k!, seed, baseNew);
    if (!same(created.baseClassIds, chosen.baseClassIds) || !same(created.newClassIds, chosen.newClassIds)) {
      training.deleteFewShotSet(created.id);
      throw new AppError(
        'invalid_input',
        `Seed ${seed} cannot sample a set with the classes of "${chosen.name}" (the project's classes changed since); create the sets by hand (mocoop fewshot --seed ${seed}) and train each.`
      );
    }
    return { seed, set: created, created: true };
  });
}

/**
 * The set (the last one when none is given) and the image rows a run on it trains with: labeled (with the
 * labels it was frozen with, once a run used it), present, of its base classes.
 */
export function setImages(project: Project, setId?: number): { set: FewShotSet; rows: (ImageRow & { labelId: number })[] } {
  const { store, training } = project;
  const set = setId !== undefined ? training.fewShotSet(setId) : training.fewShotSets().at(-1);
  if (!set) throw new AppError('invalid_input', NO_SET);
  // A set a run already used trains on the labels it was frozen with, not on later relabeling.
  const frozenLabels = set.frozen ? training.frozenLabels(set.id) : null;
  const rows = store
    .images(set.imageIds)
    .map((r) => (frozenLabels ? { ...r, labelId: frozenLabels.get(r.id) ?? null } : r))
    .filter((r): r is ImageRow & { labelId: number } => r.labelId !== null && !r.missing && set.baseClassIds.includes(r.labelId));
  return { set, rows };
}

/** The images a run on this set trains with (labeled, present, of its base classes), and the set; the last set when none is given. */
export function trainingImages(project: Project, setId?: number): { set: FewShotSet; rows: { id: number; hash: string; path: string; labelId: number }[] } {
  const { set, rows } = setImages(project, setId);
  return { set, rows: rows.map((r) => ({ id: r.id, hash: r.hash, path: r.path, labelId: r.labelId })) };
}

/** Labeled images per class and split: what few-shot sets can draw from. */
export function classCounts(project: Project): { classId: number; name: string; train: number; test: number; val: number; missing: number }[] {
  const counts = project.store.labelCountsBySplit();
  return project.store.listClasses().map((c) => {
    const of = counts.filter((r) => r.classId === c.id);
    const sum = (split: string) => of.filter((r) => r.split === split).reduce((a, r) => a + r.present, 0);
    return { classId: c.id, name: c.name, train: sum('train'), test: sum('test'), val: sum('val'), missing: of.reduce((a, r) => a + r.missing, 0) };
  });
}
