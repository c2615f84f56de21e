/**
 * Which of a run's classes an evaluation can use: those the test project has too. In its own project a
 * run keeps its classes by id (renames do not matter); in another project (domain shift: ImageNet →
 * ImageNet-A/-R use 200 of the 1000 classes) they are matched by name. The candidate set of every
 * prediction is exactly the matched classes of its role; nothing else is scored.
 */

export type ClassRole = 'base' | 'new';

export interface RunClasses {
  /** Base (trained) classes then new (virtual) classes, in the run's order: row a of the expert table is class a. */
  base: string[];
  new: string[];
  /** Class ids in the run's own project, when recorded; used instead of names when `byId`. */
  baseIds?: number[];
  newIds?: number[];
}

export interface MatchedClass {
  /** Row of the run's expert table (base classes first, then new ones). */
  row: number;
  role: ClassRole;
  /** The class as the run names it. */
  runName: string;
  /** The test project's class. */
  classId: number;
  name: string;
}

export interface ClassMatch {
  /** Run classes the test project has, in the run's order. */
  used: MatchedClass[];
  /** Run classes the test project lacks (never candidates). */
  missing: { row: number; role: ClassRole; runName: string }[];
  /** Test-project classes that are not the run's (their images cannot be evaluated). */
  unknown: { classId: number; name: string }[];
}

export function matchRunClasses(run: RunClasses, project: { id: number; name: string }[], byId: boolean): ClassMatch {
  const byName = new Map(project.map((c) => [c.name, c]));
  const byKey = new Map(project.map((c) => [c.id, c]));
  const taken = new Set<number>();
  const used: MatchedClass[] = [];
  const missing: ClassMatch['missing'] = [];
  const entries = [
    ...run.base.map((runName, k) => ({ runName, role: 'base' as const, id: run.baseIds?.[k] })),
    ...run.new.map((runName, k) => ({ runName, role: 'new' as const, id: run.newIds?.[k] }))
  ];
  entries.forEach((e, row) => {
    const found = byId && e.id !== undefined ? byKey.get(e.id) : byName.get(e.runName);
    // One project class answers for one run class only.
    if (!found || taken.has(found.id)) {
      missing.push({ row, role: e.role, runName: e.runName });
      return;
    }
    taken.add(found.id);
    used.push({ row, role: e.role, runName: e.runName, classId: found.id, name: found.name });
  });
  const unknown = project.filter((c) => !taken.has(c.id)).map((c) => ({ classId: c.id, name: c.name }));
  return { used, missing, unknown };
}
