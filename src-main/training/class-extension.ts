/**
 * Open vocabulary: scoring class names a finished run was not trained with. Each new name goes through
 * every learned expert (text tower forward only) or, for zero-shot, the template ensemble; the rows are
 * appended to a derived table stored beside the run's own, keyed by the added names. CoCoOp needs nothing
 * stored: it scores any name per image.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../contract/errors';
import { PromptLayoutError } from '../mocoop/experts';
import type { ExpertTable } from '../mocoop/inference';
import { appendClasses, encodeThroughExperts, learnedPrompts } from '../mocoop/open-vocabulary';
import { decodeTable, encodeTable, tableKind } from '../mocoop/table-codec';
import { METHODS, type PromptMethod, groupsFor } from '../mocoop/trainer';
import { ensembleRows } from './tables';
import type { OpenVocabularyEngine, ProjectTraining } from './types';

type Project = Pick<ProjectTraining, 'training'>;

/** The key of the derived table that holds these added class names. */
function derivedKey(added: string[]): string {
  return createHash('sha256').update(JSON.stringify(added)).digest('hex').slice(0, 16);
}

/** Why classes cannot be added to this run after training (in words), or null when they can. */
export function addClassesRefusal(project: Project, runId: string): string | null {
  const run = project.training.run(runId);
  const bytes = project.training.expertTable(runId);
  if (run.status !== 'done' || !bytes) return `Run ${runId} has not finished training (status: ${run.status}); classes can be added to a finished run only.`;
  const kind = tableKind(bytes);
  if (run.method === 'linear-probe' || kind.linear)
    return `Run ${runId} is a linear probe: it has weights only for the classes it was trained on, and no text side to name new ones.`;
  if (run.method === 'zeroshot' || kind.conditional) return null;
  if (!project.training.hasCheckpoint(runId))
    return `Run ${runId} has no learned prompts stored (${run.backend === 'imported' ? 'an imported run carries only its expert table' : 'its checkpoint is gone'}), so classes cannot be added to it. Train it in this project to add classes later.`;
  return null;
}

/** The run's own class names: base, then new (virtual) ones. */
export function runClassNames(project: Project, runId: string): string[] {
  const run = project.training.run(runId);
  return [...((run.settings.classes as string[] | undefined) ?? []), ...((run.settings.virtualClasses as string[] | undefined) ?? [])];
}

/** Of these names, the run lacks these and no derived table holds them yet: scoring them needs the text tower once. */
export function namesToEncode(project: Project, runId: string, names: string[]): string[] {
  const own = runClassNames(project, runId);
  const added = [...new Set(names.filter((n) => !own.includes(n)))];
  if (added.length === 0 || project.training.derivedTable(runId, derivedKey(added))) return [];
  // CoCoOp scores any class name through its prompts per image: nothing to encode ahead.
  const bytes = project.training.expertTable(runId);
  if (bytes && tableKind(bytes).conditional) return [];
  return added;
}

/**
 * Features [G, N, P] of these class names under a finished run, as its table would hold them: through
 * each learned expert (its final context vectors, from the run's last checkpoint; text forward only),
 * or the zero-shot template ensemble. For a class the run has, this is that class's trained row.
 */
export async function classFeatures(project: Project, runId: string, engine: OpenVocabularyEngine, names: string[]): Promise<Float32Array> {
  const { training } = project;
  const run = training.run(runId);
  const refusal = addClassesRefusal(project, runId);
  if (refusal) throw new AppError('invalid_input', refusal);
  const groups = (run.settings.groups as string[][] | undefined) ?? [];
  if (run.method === 'zeroshot') return ensembleRows(engine, groups.flat(), names);
  const checkpoint = training.checkpoint(runId)!;
  const table = decodeTable(training.expertTable(runId)!);
  const method = (METHODS as readonly string[]).includes(run.method) ? (run.method as PromptMethod) : 'mocoop';
  try {
    const prompts = learnedPrompts(checkpoint.state, table.experts);
    return await encodeThroughExperts(
      engine,
      {
        groups: groupsFor(method, groups, run.settings.promptTemplate as string | undefined),
        underscoresAsSpaces: (run.settings.underscoresAsSpaces as boolean | undefined) ?? true,
        released: run.settings.preset === 'released-code'
      },
      prompts,
      names
    );
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof PromptLayoutError) throw new AppError('invalid_input', error.message);
    throw new AppError('invalid_input', `Classes cannot be added to run ${runId}: ${(error as Error).message}.`);
  }
}

/**
 * The run's table extended with the names it lacks (open vocabulary): its own rows unchanged, then one
 * row per added class and expert. Stored as a derived table beside the run's own (which, with its
 * metrics and predictions, never changes), keyed by the added names; computed once.
 */
export async function extendClasses(
  project: Project,
  runId: string,
  engine: OpenVocabularyEngine | undefined,
  names: string[],
  source: string | null
): Promise<{ table: ExpertTable; classes: string[]; added: string[]; key: string | null }> {
  const { training } = project;
  const run = training.run(runId);
  const bytes = training.expertTable(runId);
  if (!bytes) throw new AppError('invalid_input', `Run ${runId} has no trained experts (status: ${run.status}).`);
  const table = decodeTable(bytes);
  const own = runClassNames(project, runId);
  const added = [...new Set(names.filter((n) => !own.includes(n)))];
  if (added.length === 0) return { table, classes: own, added, key: null };
  // CoCoOp has no class rows to store: its scores come from the names, per image.
  if (table.conditional) return { table: { ...table, classes: own.length + added.length }, classes: [...own, ...added], added, key: null };
  const key = derivedKey(added);
  const stored = training.derivedTable(runId, key);
  if (stored) return { table: decodeTable(stored.table), classes: stored.classes, added: stored.added, key };
  if (!engine) throw new AppError('internal', `Scoring ${added.length} class(es) run ${runId} was not trained with needs the model's text tower.`);
  const rows = await classFeatures(project, runId, engine, added);
  const extended = appendClasses(table, rows, added.length);
  const classes = [...own, ...added];
  training.saveDerivedTable(runId, { key, classes, added, source }, encodeTable(extended));
  return { table: extended, classes, added, key };
}
