/** What the Few-shot page shows for one class of a set: its role, its images in the set, and what to watch. */
export interface ClassInSet {
  classId: number;
  name: string;
  role: 'base' | 'new' | 'none';
  images: number;
  warning: string | null;
}

interface SetLike {
  k: number | null;
  baseClassIds: number[];
  newClassIds: number[];
  perClass: { classId: number | null; images: number }[];
}

/** Every class of the project against a set, in the project's class order (classes the set does not use are role "none"). */
export function setComposition(set: SetLike, classes: { classId: number; name: string; train: number }[]): ClassInSet[] {
  const imagesOf = new Map(set.perClass.map((p) => [p.classId, p.images]));
  // A hand-picked set has no k: its fullest base class is the yardstick for balance.
  const target = set.k ?? Math.max(0, ...set.baseClassIds.map((id) => imagesOf.get(id) ?? 0));
  return classes.map((c) => {
    const role = set.baseClassIds.includes(c.classId) ? 'base' : set.newClassIds.includes(c.classId) ? 'new' : 'none';
    const images = imagesOf.get(c.classId) ?? 0;
    let warning: string | null = null;
    if (role === 'base' && images === 0) warning = 'no images in the set (relabeled since?): this class cannot train';
    else if (role === 'base' && images < target)
      warning = set.k !== null ? `fewer than ${set.k} (the train pool has ${c.train})` : `fewer than the fullest class (${target})`;
    else if (role !== 'base' && images > 0) warning = `${images} image(s) now labeled ${c.name} are in the set but do not train`;
    return { classId: c.classId, name: c.name, role, images, warning };
  });
}

/** Images of the set whose label is no longer one of its base classes (relabeled or unlabeled since the set was made). */
export function strayImages(set: SetLike): number {
  return set.perClass.filter((p) => p.classId === null || !set.baseClassIds.includes(p.classId)).reduce((a, p) => a + p.images, 0);
}
