/**
 * The training side of a project file: template groups, few-shot sets, runs with their per-step
 * metrics, and the latest checkpoint of each run. Shares the project's connection.
 */
import { requests } from '../contract';
import { AppError } from '../contract/errors';
import { checkWithContract } from '../contract/limits';
import type { ProjectStore } from './project-store';
import { revisionOf } from './revisions';
import { hasOneClassSlot } from '../contract/template-rule';
import { type RunRecord, checkRunSettings, parseRunMetrics, parseRunSettings } from '../contract/run-record';

export type { RunMetrics, RunRecord, RunSettings } from '../contract/run-record';

export interface TemplateGroup {
  id: number;
  name: string;
  templates: string[];
}

export interface FewShotSet {
  id: number;
  name: string;
  k: number | null;
  seed: number | null;
  baseNew: boolean;
  frozen: boolean;
  imageIds: number[];
  baseClassIds: number[];
  newClassIds: number[];
  /** Images of the set per label: the label frozen with the set, else the current one (null: unlabeled). */
  perClass: { classId: number | null; images: number }[];
  /** Moves on every edit of the set (not on freezing): a save against an older one is refused. */
  revision: number;
}

/** Longest run name and note kept (the contract refuses longer ones with a message). */
export const RUN_NAME_MAX = 200;
export const RUN_NOTE_MAX = 5000;

const HEARTBEAT_TIMEOUT_S = 60;

/** The columns of `runs` a record is read from (not the expert table's bytes, nor the heartbeat). */
const RUN_COLUMNS = 'id, method, status, settings, backend, model_id, set_id, metrics, error, created_at, finished_at, name, note';

interface RunRow {
  id: string;
  method: string;
  status: RunRecord['status'];
  settings: string;
  backend: string;
  model_id: string;
  set_id: number | null;
  metrics: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
  name: string | null;
  note: string | null;
}

/** A stored run as a record: its settings and metrics parsed and checked once, here. */
function toRunRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    method: row.method,
    status: row.status,
    settings: parseRunSettings(row.id, row.settings),
    backend: row.backend,
    modelId: row.model_id,
    setId: row.set_id,
    metrics: parseRunMetrics(row.id, row.metrics),
    error: row.error,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    name: row.name ?? null,
    note: row.note ?? null
  };
}

/** Whether a process of this machine with this pid is alive (a run whose process died can be resumed at once). */
function isAlive(pid: number | null): boolean {
  if (pid === null) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A run marked running whose process is alive and still beating. */
function isLive(r: { heartbeat_at: number | null; pid: number | null }, now: number): boolean {
  return isAlive(r.pid) && r.heartbeat_at !== null && now - r.heartbeat_at < HEARTBEAT_TIMEOUT_S;
}

export interface StoredPrediction {
  imageId: number;
  labelId: number;
  predictedClassId: number;
  correct: boolean;
  topExperts: number[];
  topWeights: number[];
  router: number[];
  pHard: number[] | null;
  /** Probability of the predicted class under the run's logit scale (absent in older evaluations). */
  confidence?: number;
}

export function validateTemplate(text: string, where: string): string {
  const t = text.trim();
  if (!t) throw new AppError('invalid_input', `${where}: a template cannot be empty.`);
  if (!hasOneClassSlot(t)) throw new AppError('invalid_input', `${where}: "${t}" must contain {} exactly once (where the class name goes).`);
  return t;
}

export class TrainingStore {
  constructor(private readonly project: ProjectStore) {}

  private get db() {
    return this.project.db;
  }

  // ---- template groups ------------------------------------------------------------------------

  templateGroups(): TemplateGroup[] {
    const groups = this.db.prepare('SELECT id, name FROM template_groups ORDER BY position, id').all() as { id: number; name: string }[];
    const templates = this.db.prepare('SELECT group_id, text FROM templates ORDER BY position, id').all() as { group_id: number; text: string }[];
    return groups.map((g) => ({ ...g, templates: templates.filter((t) => t.group_id === g.id).map((t) => t.text) }));
  }

  /** Replaces every group (one transaction); every template is checked first. */
  replaceTemplateGroups(groups: { name: string; templates: string[] }[]): TemplateGroup[] {
    // The app's limits (groups, templates per group, lengths) for every caller, so the groups always read back.
    checkWithContract(requests['templates.setGroups'].input, { groups }, (where) => where);
    const clean = groups.map((g, i) => {
      const name = g.name.trim() || `Group ${i + 1}`;
      if (g.templates.length === 0)
        throw new AppError('invalid_input', `Group "${name}" has no templates; every group needs at least one (its first initialises the expert).`);
      return { name, templates: g.templates.map((t, k) => validateTemplate(t, `group "${name}", template ${k + 1}`)) };
    });
    this.project.transaction(() => {
      this.db.prepare('DELETE FROM template_groups').run();
      const insertGroup = this.db.prepare('INSERT INTO template_groups (name, position) VALUES (?, ?)');
      const insertTemplate = this.db.prepare('INSERT INTO templates (group_id, text, position) VALUES (?, ?, ?)');
      clean.forEach((g, position) => {
        const id = insertGroup.run(g.name, position).lastInsertRowid;
        g.templates.forEach((t, k) => insertTemplate.run(id, t, k));
      });
    });
    return this.templateGroups();
  }

  // ---- few-shot sets -----------------------------------------------------------------------------

  createFewShotSet(input: {
    name: string;
    k: number | null;
    seed: number | null;
    imageIds: number[];
    baseClassIds: number[];
    newClassIds: number[];
  }): FewShotSet {
    if (this.db.prepare('SELECT 1 FROM fewshot_sets WHERE name = ?').get(input.name))
      throw new AppError('conflict', `A few-shot set named "${input.name}" already exists.`);
    const id = this.project.transaction(() => {
      const setId = Number(
        this.db
          .prepare('INSERT INTO fewshot_sets (name, k, seed, base_new) VALUES (?, ?, ?, ?)')
          .run(input.name, input.k, input.seed, input.newClassIds.length ? 1 : 0).lastInsertRowid
      );
      const member = this.db.prepare('INSERT INTO fewshot_members (set_id, image_id) VALUES (?, ?)');
      input.imageIds.forEach((imageId) => member.run(setId, imageId));
      const role = this.db.prepare('INSERT INTO fewshot_classes (set_id, class_id, role) VALUES (?, ?, ?)');
      input.baseClassIds.forEach((c) => role.run(setId, c, 'base'));
      input.newClassIds.forEach((c) => role.run(setId, c, 'new'));
      return setId;
    });
    return this.fewShotSet(id);
  }

  fewShotSet(id: number): FewShotSet {
    const row = this.db.prepare('SELECT * FROM fewshot_sets WHERE id = ?').get(id) as
      { id: number; name: string; k: number | null; seed: number | null; base_new: number; frozen: number } | undefined;
    if (!row) throw new AppError('not_found', `Few-shot set #${id} does not exist.`);
    const imageIds = this.db.prepare('SELECT image_id FROM fewshot_members WHERE set_id = ? ORDER BY image_id').pluck().all(id) as number[];
    const roles = this.db.prepare('SELECT class_id, role FROM fewshot_classes WHERE set_id = ? ORDER BY class_id').all(id) as {
      class_id: number;
      role: string;
    }[];
    return {
      id: row.id,
      name: row.name,
      k: row.k,
      seed: row.seed,
      baseNew: row.base_new === 1,
      frozen: row.frozen === 1,
      imageIds,
      baseClassIds: roles.filter((r) => r.role === 'base').map((r) => r.class_id),
      newClassIds: roles.filter((r) => r.role === 'new').map((r) => r.class_id),
      perClass: this.db
        .prepare(
          `SELECT CASE WHEN s.frozen = 1 THEN m.label_id ELSE i.label_id END AS classId, count(*) AS images
           FROM fewshot_members m JOIN images i ON i.id = m.image_id JOIN fewshot_sets s ON s.id = m.set_id
           WHERE m.set_id = ? GROUP BY 1 ORDER BY 1`
        )
        .all(id) as { classId: number | null; images: number }[],
      revision: revisionOf(this.db, `fewshot:${id}`)
    };
  }

  fewShotSets(): FewShotSet[] {
    return (this.db.prepare('SELECT id FROM fewshot_sets ORDER BY id').pluck().all() as number[]).map((id) => this.fewShotSet(id));
  }

  /** Replaces a set's name, members and class roles in one transaction (callers copy frozen sets first). */
  updateFewShotSet(
    id: number,
    input: { name: string; k: number | null; seed: number | null; imageIds: number[]; baseClassIds: number[]; newClassIds: number[] }
  ): FewShotSet {
    const current = this.fewShotSet(id);
    if (current.frozen) throw new AppError('conflict', `"${current.name}" is used by a run; its contents cannot change (edit a copy).`);
    if (this.db.prepare('SELECT 1 FROM fewshot_sets WHERE name = ? AND id != ?').get(input.name, id))
      throw new AppError('conflict', `A few-shot set named "${input.name}" already exists.`);
    this.project.transaction(() => {
      this.db
        .prepare('UPDATE fewshot_sets SET name = ?, k = ?, seed = ?, base_new = ? WHERE id = ?')
        .run(input.name, input.k, input.seed, input.newClassIds.length ? 1 : 0, id);
      this.db.prepare('DELETE FROM fewshot_members WHERE set_id = ?').run(id);
      this.db.prepare('DELETE FROM fewshot_classes WHERE set_id = ?').run(id);
      const member = this.db.prepare('INSERT INTO fewshot_members (set_id, image_id) VALUES (?, ?)');
      input.imageIds.forEach((imageId) => member.run(id, imageId));
      const role = this.db.prepare('INSERT INTO fewshot_classes (set_id, class_id, role) VALUES (?, ?, ?)');
      input.baseClassIds.forEach((c) => role.run(id, c, 'base'));
      input.newClassIds.forEach((c) => role.run(id, c, 'new'));
    });
    return this.fewShotSet(id);
  }

  /** A name is metadata: renaming is allowed even for a frozen set (runs keep their set by id). */
  renameFewShotSet(id: number, name: string): FewShotSet {
    this.fewShotSet(id);
    if (this.db.prepare('SELECT 1 FROM fewshot_sets WHERE name = ? AND id != ?').get(name, id))
      throw new AppError('conflict', `A few-shot set named "${name}" already exists.`);
    this.db.prepare('UPDATE fewshot_sets SET name = ? WHERE id = ?').run(name, id);
    return this.fewShotSet(id);
  }

  /** Deletes a set no existing run uses; a used set is part of those runs' record. */
  deleteFewShotSet(id: number): void {
    const set = this.fewShotSet(id);
    const runs = this.db.prepare('SELECT count(*) FROM runs WHERE set_id = ?').pluck().get(id) as number;
    if (runs > 0)
      throw new AppError(
        'conflict',
        `"${set.name}" is used by ${runs} run${runs === 1 ? '' : 's'} and is kept so their reports stay reproducible. Delete those runs first (Train page) to delete it.`
      );
    this.db.prepare('DELETE FROM fewshot_sets WHERE id = ?').run(id);
  }

  /** `base`, or `base (edited)`, `base (edited 2)`, … (another word than "edited" if given) — the first name no set has. */
  freeSetName(base: string, word = 'edited'): string {
    const taken = new Set(this.db.prepare('SELECT name FROM fewshot_sets').pluck().all() as string[]);
    if (!taken.has(base)) return base;
    for (let n = 1; ; n++) {
      const candidate = `${base} (${word}${n === 1 ? '' : ` ${n}`})`;
      if (!taken.has(candidate)) return candidate;
    }
  }

  /**
   * Freezes a set when a run first uses it: its images keep the labels they have now, so relabeling
   * later never changes what the run (or a resume or rerun of it) trains on.
   */
  freezeSet(id: number): void {
    this.project.transaction(() => {
      if (this.db.prepare('SELECT frozen FROM fewshot_sets WHERE id = ?').pluck().get(id) === 1) return;
      this.db
        .prepare('UPDATE fewshot_members SET label_id = (SELECT label_id FROM images WHERE images.id = fewshot_members.image_id) WHERE set_id = ?')
        .run(id);
      this.db.prepare('UPDATE fewshot_sets SET frozen = 1 WHERE id = ?').run(id);
    });
  }

  /** The labels a frozen set's images had when it was frozen (image id → class id; null: unlabeled then). */
  frozenLabels(id: number): Map<number, number | null> {
    const rows = this.db.prepare('SELECT image_id, label_id FROM fewshot_members WHERE set_id = ?').all(id) as { image_id: number; label_id: number | null }[];
    return new Map(rows.map((r) => [r.image_id, r.label_id]));
  }

  // ---- runs ----------------------------------------------------------------------------------------

  /**
   * Refuses while another run of this project is alive. A run marked running whose process stopped
   * beating (killed, crashed) is marked cancelled instead, so it can be resumed from its checkpoint.
   */
  private assertNoLiveRun(except?: string): void {
    const now = Date.now() / 1000;
    const running = this.db.prepare("SELECT id, heartbeat_at, pid FROM runs WHERE status = 'running' AND id IS NOT ?").all(except ?? null) as {
      id: string;
      heartbeat_at: number | null;
      pid: number | null;
    }[];
    for (const r of running) {
      if (isLive(r, now)) {
        throw new AppError('busy', `Run ${r.id} is still training in this project. Wait for it to finish or cancel it first.`);
      }
      this.db.prepare("UPDATE runs SET status = 'cancelled', error = 'interrupted: its process stopped; resume it to continue' WHERE id = ?").run(r.id);
    }
  }

  /**
   * Marks every run still "running" whose process is gone (the app or its compute worker was killed
   * or crashed) as interrupted, so it is listed with Resume instead of running forever. A run whose
   * process is alive is left alone, however long since its last heartbeat.
   */
  markStoppedRuns(): void {
    const running = this.db.prepare("SELECT id, pid FROM runs WHERE status = 'running'").all() as { id: string; pid: number | null }[];
    for (const r of running) {
      if (isAlive(r.pid)) continue;
      this.db
        .prepare("UPDATE runs SET status = 'cancelled', error = 'interrupted: its process stopped; resume it to continue' WHERE id = ? AND status = 'running'")
        .run(r.id);
    }
  }

  /** Starts a run; refused while another run of this project is still running. */
  startRun(run: { id: string; method: string; settings: Record<string, unknown>; backend: string; modelId: string; setId: number | null }): void {
    checkRunSettings(run.id, run.settings);
    this.project.transaction(() => {
      this.assertNoLiveRun();
      this.db
        .prepare("INSERT INTO runs (id, method, status, settings, backend, model_id, set_id, heartbeat_at, pid) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)")
        .run(run.id, run.method, JSON.stringify(run.settings), run.backend, run.modelId, run.setId, Date.now() / 1000, process.pid);
    });
  }

  /** Adds settings learned while training (a linear probe's chosen C) to a run's record. */
  addRunSettings(runId: string, extra: Record<string, unknown>): void {
    const settings = { ...this.run(runId).settings, ...extra };
    checkRunSettings(runId, settings);
    this.db.prepare('UPDATE runs SET settings = ? WHERE id = ?').run(JSON.stringify(settings), runId);
  }

  /** Deletes a run with its steps, predictions and checkpoint; a run still training is refused. */
  deleteRun(runId: string): void {
    // Only its existence: a run whose stored record cannot be read can still be deleted.
    this.assertRun(runId);
    const row = this.db.prepare('SELECT status, heartbeat_at, pid FROM runs WHERE id = ?').get(runId) as {
      status: string;
      heartbeat_at: number | null;
      pid: number | null;
    };
    if (row.status === 'running' && isLive(row, Date.now() / 1000)) throw new AppError('busy', `Run ${runId} is still training. Cancel it first.`);
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(runId);
  }

  /** Marks a stopped run as running again (resume), with the same refusal as starting one. */
  resumeRun(runId: string): void {
    this.project.transaction(() => {
      const run = this.run(runId);
      this.assertNoLiveRun(runId);
      if (run.status === 'done') throw new AppError('invalid_input', `Run ${runId} has already finished.`);
      if (run.status === 'running') {
        const live = this.db.prepare('SELECT heartbeat_at, pid FROM runs WHERE id = ?').get(runId) as { heartbeat_at: number | null; pid: number | null };
        if (isAlive(live.pid) && live.heartbeat_at !== null && Date.now() / 1000 - live.heartbeat_at < HEARTBEAT_TIMEOUT_S)
          throw new AppError('busy', `Run ${runId} is still training.`);
      }
      this.db.prepare("UPDATE runs SET status = 'running', error = NULL, heartbeat_at = ?, pid = ? WHERE id = ?").run(Date.now() / 1000, process.pid, runId);
      const checkpoint = this.checkpoint(runId);
      // Steps after the last checkpoint are replayed: drop any that were recorded past it.
      const steps = this.steps(runId) as { step: number; epoch: number }[];
      const keep = checkpoint ? steps.filter((st) => st.epoch <= checkpoint.epoch).length : 0;
      this.db.prepare('DELETE FROM run_steps WHERE run_id = ? AND step > ?').run(runId, keep);
    });
  }

  heartbeat(runId: string): void {
    this.db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?').run(Date.now() / 1000, runId);
  }

  recordSteps(runId: string, steps: { step: number; data: Record<string, unknown> }[]): void {
    const insert = this.db.prepare('INSERT OR REPLACE INTO run_steps (run_id, step, data) VALUES (?, ?, ?)');
    this.project.transaction(() => steps.forEach((s) => insert.run(runId, s.step, JSON.stringify(s.data))));
  }

  steps(runId: string): Record<string, unknown>[] {
    return (this.db.prepare('SELECT data FROM run_steps WHERE run_id = ? ORDER BY step').pluck().all(runId) as string[]).map((d) => JSON.parse(d));
  }

  /**
   * A run's recorded steps for its curves, at most `maxPoints` of them: a longer history is thinned
   * to every `stride`-th step (the last step always kept); `total` counts every recorded step.
   */
  stepHistory(runId: string, maxPoints = 20_000): { steps: Record<string, unknown>[]; total: number; stride: number } {
    this.assertRun(runId);
    const total = this.db.prepare('SELECT count(*) FROM run_steps WHERE run_id = ?').pluck().get(runId) as number;
    const stride = Math.max(1, Math.ceil(total / Math.max(1, maxPoints)));
    const rows =
      stride === 1
        ? (this.db.prepare('SELECT data FROM run_steps WHERE run_id = ? ORDER BY step').pluck().all(runId) as string[])
        : (this.db
            .prepare(
              'SELECT data FROM run_steps WHERE run_id = ? AND (step % ? = 0 OR step = (SELECT max(step) FROM run_steps WHERE run_id = ?)) ORDER BY step'
            )
            .pluck()
            .all(runId, stride, runId) as string[]);
    const steps: Record<string, unknown>[] = [];
    for (const d of rows) {
      try {
        steps.push(JSON.parse(d) as Record<string, unknown>);
      } catch {
        // A damaged row is left out of the curves, not a reason to show none.
      }
    }
    return { steps, total, stride };
  }

  /** The highest recorded step of a run (0: none). */
  lastRecordedStep(runId: string): number {
    return (this.db.prepare('SELECT max(step) FROM run_steps WHERE run_id = ?').pluck().get(runId) as number | null) ?? 0;
  }

  /** Names a run (an empty or blank name removes it); names need not be unique. */
  renameRun(runId: string, name: string | null): RunRecord {
    this.run(runId);
    const clean = name?.trim() ?? '';
    if (clean.length > RUN_NAME_MAX) throw new AppError('invalid_input', `A run name can be at most ${RUN_NAME_MAX} characters; this one has ${clean.length}.`);
    this.db.prepare('UPDATE runs SET name = ? WHERE id = ?').run(clean || null, runId);
    return this.run(runId);
  }

  /** Sets a run's note (an empty or blank note removes it). */
  annotateRun(runId: string, note: string | null): RunRecord {
    this.run(runId);
    const clean = note?.trim() ?? '';
    if (clean.length > RUN_NOTE_MAX) throw new AppError('invalid_input', `A run note can be at most ${RUN_NOTE_MAX} characters; this one has ${clean.length}.`);
    this.db.prepare('UPDATE runs SET note = ? WHERE id = ?').run(clean || null, runId);
    return this.run(runId);
  }

  saveCheckpoint(runId: string, epoch: number, state: Buffer): void {
    this.db.prepare('INSERT OR REPLACE INTO checkpoints (run_id, epoch, state) VALUES (?, ?, ?)').run(runId, epoch, state);
  }

  /** Whether a run has a checkpoint, without reading it. */
  hasCheckpoint(runId: string): boolean {
    return this.db.prepare('SELECT 1 FROM checkpoints WHERE run_id = ?').get(runId) !== undefined;
  }

  checkpoint(runId: string): { epoch: number; state: Buffer } | undefined {
    return this.db.prepare('SELECT epoch, state FROM checkpoints WHERE run_id = ?').get(runId) as { epoch: number; state: Buffer } | undefined;
  }

  finishRun(runId: string, status: RunRecord['status'], metrics: Record<string, unknown> | null, error?: string): void {
    this.db
      .prepare("UPDATE runs SET status = ?, metrics = ?, error = ?, finished_at = datetime('now') WHERE id = ?")
      .run(status, metrics ? JSON.stringify(metrics) : null, error ?? null, runId);
  }

  savePredictions(runId: string, rows: StoredPrediction[]): void {
    const insert = this.db.prepare('INSERT OR REPLACE INTO run_predictions (run_id, image_id, predicted_class_id, correct, data) VALUES (?, ?, ?, ?, ?)');
    this.project.transaction(() => {
      this.db.prepare('DELETE FROM run_predictions WHERE run_id = ?').run(runId);
      for (const r of rows)
        insert.run(
          runId,
          r.imageId,
          r.predictedClassId,
          r.correct ? 1 : 0,
          JSON.stringify({
            topExperts: r.topExperts,
            topWeights: r.topWeights,
            router: r.router,
            pHard: r.pHard,
            labelId: r.labelId,
            ...(r.confidence !== undefined ? { confidence: r.confidence } : {})
          })
        );
    });
  }

  predictions(runId: string): StoredPrediction[] {
    const rows = this.db.prepare('SELECT image_id, predicted_class_id, correct, data FROM run_predictions WHERE run_id = ? ORDER BY image_id').all(runId) as {
      image_id: number;
      predicted_class_id: number;
      correct: number;
      data: string;
    }[];
    return rows.map((r) => {
      const d = JSON.parse(r.data) as Omit<StoredPrediction, 'imageId' | 'predictedClassId' | 'correct'>;
      return { imageId: r.image_id, predictedClassId: r.predicted_class_id, correct: r.correct === 1, ...d };
    });
  }

  saveExpertTable(runId: string, table: Buffer): void {
    this.db.prepare('UPDATE runs SET expert_table = ? WHERE id = ?').run(table, runId);
  }

  expertTable(runId: string): Buffer | null {
    return (this.db.prepare('SELECT expert_table FROM runs WHERE id = ?').pluck().get(runId) as Buffer | null) ?? null;
  }

  /**
   * A derived table: the run's expert table with rows for classes named after training appended
   * (open vocabulary). Stored beside the run's own table, which never changes.
   */
  saveDerivedTable(runId: string, derived: { key: string; classes: string[]; added: string[]; source: string | null }, table: Buffer): void {
    this.db
      .prepare('INSERT OR REPLACE INTO run_class_tables (run_id, key, classes, added, source, expert_table) VALUES (?, ?, ?, ?, ?, ?)')
      .run(runId, derived.key, JSON.stringify(derived.classes), JSON.stringify(derived.added), derived.source, table);
  }

  derivedTable(
    runId: string,
    key: string
  ): { key: string; classes: string[]; added: string[]; source: string | null; createdAt: string; table: Buffer } | null {
    const row = this.db
      .prepare('SELECT key, classes, added, source, created_at, expert_table FROM run_class_tables WHERE run_id = ? AND key = ?')
      .get(runId, key) as { key: string; classes: string; added: string; source: string | null; created_at: string; expert_table: Buffer } | undefined;
    return row
      ? { key: row.key, classes: JSON.parse(row.classes), added: JSON.parse(row.added), source: row.source, createdAt: row.created_at, table: row.expert_table }
      : null;
  }

  /** A run's derived tables (without their bytes), oldest first. */
  derivedTables(runId: string): { key: string; classes: string[]; added: string[]; source: string | null; createdAt: string }[] {
    const rows = this.db
      .prepare('SELECT key, classes, added, source, created_at FROM run_class_tables WHERE run_id = ? ORDER BY created_at, key')
      .all(runId) as { key: string; classes: string; added: string; source: string | null; created_at: string }[];
    return rows.map((r) => ({ key: r.key, classes: JSON.parse(r.classes), added: JSON.parse(r.added), source: r.source, createdAt: r.created_at }));
  }

  hasRun(runId: string): boolean {
    return this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId) !== undefined;
  }

  run(runId: string): RunRecord {
    const row = this.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`).get(runId) as RunRow | undefined;
    if (!row) throw new AppError('not_found', `No run "${runId}" in this project.`);
    return toRunRecord(row);
  }

  /** Every run of the project, oldest first (one query). */
  runs(): RunRecord[] {
    return (this.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs ORDER BY created_at, id`).all() as RunRow[]).map(toRunRecord);
  }

  /** Refuses a run id this project does not have (without reading the run's record). */
  private assertRun(runId: string): void {
    if (!this.hasRun(runId)) throw new AppError('not_found', `No run "${runId}" in this project.`);
  }
}
