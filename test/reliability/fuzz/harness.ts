/**
 * Runs generated inputs through the app's real paths and judges each outcome:
 * - model files: `models.import` through the request dispatcher (what every transport calls), then, if
 *   accepted, loading the model and encoding texts as the CLI's embed-text does (every number finite);
 * - CSV, split JSON and images: `import.run` through the dispatcher into a project that already holds
 *   images (a refusal must change nothing; an acceptance must keep every earlier image; the project
 *   passes PRAGMA integrity_check); accepted images are also encoded as training would;
 * - template files: the CLI itself, in-process (`mocoop templates P --import FILE --json`), then the
 *   Templates page's request on the result;
 * - exported experts folders: `mocoop import-experts P --from DIR --json` in-process, then the runs list.
 * Used by test/reliability/fuzz-*.test.ts (a few dozen cases each) and the bench's reliability line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type BackendPreference, initBackend } from '../../../src-main/clip/backend';
import type { ImportSummary } from '../../../src-main/contract';
import { dispatch } from '../../../src-main/contract/dispatch';
import { AppServices } from '../../../src-main/services/app-services';
import { ProjectStore } from '../../../src-main/store/project-store';
import { runCli } from '../../helpers/cli';
import { makeImage, makeImageFolder } from '../../helpers/images';
import { type CaseOutcome, type CaseResult, HangError, UNCLEAR_TEXT, judgeEnvelopeError, judgeThrown, messageProblem, withTimeout } from './judge';
import { type ImagePool, type ImportKind, importCase } from './import-files';
import { type BaseModel, type ModelKind, buildBaseModel, modelCase, writeModelCase } from './model-files';
import { makeRng } from './prng';
import { templatesCase } from './templates-files';
import { expertsCase } from './experts-files';
import { cliArgsCase } from './cli-args';

/** Texts the accepted models encode: every byte-level symbol class (ASCII, accents, CJK, emoji, controls). */
const TEXTS = [
  'a photo of a cat.',
  'Ünïcödé café — 中文 😀\ttabs\nand lines',
  '!"#$%&\'()*+,-./0123456789:;<=>?@[\\]^_`{|}~ ABCxyz',
  '\u0000\u0007\u00ad\u200b'
];
const CASE_TIMEOUT_MS = 30_000;
/** Kinds and the stream numbers that keep their cases apart for one seed. */
const STREAM: Record<string, number> = { safetensors: 1, config: 2, vocab: 3, merges: 4, csv: 5, split: 6, image: 7, templates: 8, experts: 9, cli: 10 };
const quiet = () => {};

type Row = Record<string, unknown>;

function snapshot(store: ProjectStore): { images: string[]; classes: string[]; imports: number; templates: string } {
  const images = (
    store.db
      .prepare('SELECT i.id, i.path, i.hash, i.split, c.name AS label FROM images i LEFT JOIN classes c ON c.id = i.label_id ORDER BY i.id')
      .all() as Row[]
  ).map((r) => JSON.stringify(r));
  const classes = (store.db.prepare('SELECT name FROM classes ORDER BY id').pluck().all() as string[]).map(String);
  const imports = store.db.prepare('SELECT count(*) FROM imports').pluck().get() as number;
  const templates = JSON.stringify(
    store.db.prepare('SELECT g.name, t.text FROM template_groups g LEFT JOIN templates t ON t.group_id = g.id ORDER BY g.position, t.position').all()
  );
  return { images, classes, imports, templates };
}

/** What changed that must not have: after a refusal, anything; after an acceptance, an earlier image or class. */
function lostData(before: ReturnType<typeof snapshot>, after: ReturnType<typeof snapshot>, refused: boolean): string | undefined {
  if (refused) {
    if (JSON.stringify(before) !== JSON.stringify(after)) return 'the project changed although the input was refused';
    return undefined;
  }
  const kept = new Set(after.images);
  const gone = before.images.filter((r) => !kept.has(r));
  if (gone.length) return `${gone.length} earlier image row(s) changed or vanished, e.g. ${gone[0]}`;
  const classes = new Set(after.classes);
  const lostClass = before.classes.find((c) => !classes.has(c));
  if (lostClass !== undefined) return `class "${lostClass}" vanished`;
  return undefined;
}

const finite = (vectors: Float32Array[]) => vectors.every((v) => v.length > 0 && v.every((x) => Number.isFinite(x)));

/**
 * Runs the CLI in this process with its output captured (test/helpers/cli.ts), in `home` as the
 * working folder (relative paths a generated command line names land there).
 */
export async function runCliInProcess(argv: string[], home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  fs.mkdirSync(home, { recursive: true });
  const { code, stdout, stderr } = await runCli(argv, home, { cwd: home });
  return { code: code ?? 1, stdout, stderr };
}

export class FuzzWorld {
  private counter = 0;
  private engine: import('../../../src-main/clip/engine').ClipEngine | null = null;

  private constructor(
    readonly root: string,
    readonly services: AppServices,
    readonly projectFile: string,
    readonly pool: ImagePool,
    readonly base: BaseModel
  ) {}

  /** A project with 4 labeled images, 10 more images not imported yet, and the tiny CLIP model's files. */
  static async create(root: string): Promise<FuzzWorld> {
    fs.mkdirSync(root, { recursive: true });
    // Accepted models and images are encoded in this process, on the backend the compute worker would use.
    await initBackend((process.env.MOCOOP_BACKEND as BackendPreference | undefined) ?? 'wasm');
    const imagesRoot = path.join(root, 'images');
    const knownByClass = await makeImageFolder(path.join(imagesRoot, 'known'), ['cat', 'dog'], 2, 1);
    const fresh: string[] = [];
    for (let i = 0; i < 10; i++) fresh.push(await makeImage(path.join(imagesRoot, 'fresh', `fresh_${i}.${i % 3 === 0 ? 'png' : 'jpg'}`), 500 + i));
    const png = fs.readFileSync(await makeImage(path.join(root, 'sample.png'), 900, { width: 64, height: 48 }));
    const jpeg = fs.readFileSync(await makeImage(path.join(root, 'sample.jpg'), 901, { width: 96, height: 72 }));
    const services = new AppServices({ mode: 'web', configDir: path.join(root, 'config'), version: 'fuzz' });
    const projectFile = path.join(root, 'fuzz.mocoop');
    services.createProject(projectFile);
    const summary = await services.importSource('fuzz-known', { kind: 'folder', dir: path.join(imagesRoot, 'known') });
    if (summary.imported !== 4) throw new Error(`fuzz world: expected 4 images imported, got ${summary.imported}`);
    const known = Object.entries(knownByClass).flatMap(([label, files]) => files.map((file) => ({ path: file, label })));
    const base = buildBaseModel(path.join(root, 'base-model'));
    return new FuzzWorld(root, services, projectFile, { root: imagesRoot, known, fresh, png, jpeg }, base);
  }

  private caseDir(kind: string): string {
    return path.join(this.root, 'cases', `${kind}-${++this.counter}`);
  }

  /** The base model, loaded once, encodes accepted images (as features for training are computed). */
  private async imageEngine() {
    if (!this.engine) {
      const { ClipEngine } = await import('../../../src-main/clip/engine');
      this.engine = ClipEngine.load(this.base.dir);
    }
    return this.engine;
  }

  async runModelCase(kind: ModelKind, seed: number, index: number): Promise<CaseResult> {
    const started = performance.now();
    const c = modelCase(kind, seed, index, makeRng(seed, STREAM[kind]! * 1000 + index), this.base);
    const dir = writeModelCase(this.caseDir(kind), this.base, c);
    const registry = path.join(this.services.options.configDir, 'models', 'models.json');
    const read = () => (fs.existsSync(registry) ? fs.readFileSync(registry, 'utf8') : '');
    const before = read();
    let outcome: CaseOutcome;
    try {
      const reply = await withTimeout(dispatch(this.services.handlers(), 'models.import', { dir }, quiet), CASE_TIMEOUT_MS, 'models.import');
      if (!reply.ok) {
        outcome = judgeEnvelopeError(reply.error, c.names);
        if (read() !== before) outcome.dataLost = 'the model registry changed although the model was refused';
      } else {
        outcome = await this.useModel(dir, c.names);
        await dispatch(this.services.handlers(), 'models.remove', { id: (reply.value as { id: string }).id }, quiet);
      }
    } catch (error) {
      outcome = error instanceof HangError ? { verdict: 'crashed', message: error.message } : judgeThrown(error, c.names);
    }
    if (outcome.verdict === 'accepted' && c.mustRefuse) outcome = { verdict: 'wronglyAccepted', message: 'a broken model was accepted and used' };
    return { kind, name: c.name, ...outcome, ms: performance.now() - started };
  }

  /** An accepted model is loaded and encodes texts as `mocoop embed-text` does; every number must be finite. */
  private async useModel(dir: string, names: string[]): Promise<CaseOutcome> {
    const { ClipEngine } = await import('../../../src-main/clip/engine');
    let engine;
    try {
      engine = ClipEngine.load(dir);
      const vectors = engine.embedTexts(TEXTS);
      if (!finite(vectors)) return { verdict: 'wronglyAccepted', message: 'accepted, but its text embeddings hold NaN or Infinity' };
      return { verdict: 'accepted' };
    } catch (error) {
      return judgeThrown(error, names);
    } finally {
      engine?.dispose();
    }
  }

  async runImportCase(kind: ImportKind, seed: number, index: number): Promise<CaseResult> {
    const started = performance.now();
    const c = importCase(kind, seed, index, makeRng(seed, STREAM[kind]! * 1000 + index), this.pool);
    const source = c.write(this.caseDir(kind));
    const store = this.services.openProject!;
    const before = snapshot(store);
    let outcome: CaseOutcome;
    let refused = false;
    try {
      const reply = await withTimeout(
        dispatch(this.services.handlers(), 'import.run', { importId: `fuzz-${kind}-${seed}-${index}-${this.counter}`, source }, quiet),
        CASE_TIMEOUT_MS,
        'import.run'
      );
      if (!reply.ok) {
        refused = true;
        outcome = judgeEnvelopeError(reply.error, c.names);
      } else {
        outcome = await this.judgeImport(kind, reply.value as ImportSummary, source);
      }
    } catch (error) {
      refused = true;
      outcome = error instanceof HangError ? { verdict: 'crashed', message: error.message } : judgeThrown(error, c.names);
    }
    const integrity = store.db.pragma('integrity_check', { simple: true });
    const lost = integrity !== 'ok' ? `integrity_check: ${String(integrity)}` : lostData(before, snapshot(store), refused);
    if (lost) outcome.dataLost = lost;
    if (outcome.verdict === 'accepted' && c.mustRefuse) outcome = { ...outcome, verdict: 'wronglyAccepted', message: `accepted: ${outcome.message ?? ''}` };
    return { kind, name: c.name, ...outcome, ms: performance.now() - started };
  }

  private async judgeImport(kind: ImportKind, summary: ImportSummary, source: { kind: string; paths?: string[] }): Promise<CaseOutcome> {
    for (const skip of summary.skipped) {
      if (!skip.path.trim() || !skip.reason.trim() || UNCLEAR_TEXT.test(skip.reason))
        return { verdict: 'unclear', message: `skipped ${skip.path}: ${skip.reason}` };
    }
    if (kind !== 'image') return { verdict: 'accepted', message: `${summary.imported} imported, ${summary.skipped.length} skipped` };
    const file = source.paths![0]!;
    const skipped = summary.skipped.find((s) => s.path === file);
    if (skipped) return { verdict: 'refused', message: skipped.reason };
    if (summary.imported === 0 && summary.duplicates.length === 0)
      return { verdict: 'unclear', message: 'the image was neither imported, nor a duplicate, nor listed as skipped' };
    // Imported (or a duplicate of one that was): its features are computed as training computes them.
    const [result] = await (await this.imageEngine()).embedImageFiles([file]);
    if (result?.error) {
      const problem = messageProblem(result.error, [path.basename(file), 'image']);
      return problem
        ? { verdict: 'unclear', message: `imported, then encoding failed: ${problem}` }
        : { verdict: 'refused', message: `imported, then: ${result.error}` };
    }
    if (!result?.vector || !finite([result.vector])) return { verdict: 'wronglyAccepted', message: 'imported, but its features hold NaN or Infinity' };
    return { verdict: 'accepted', message: summary.imported ? 'imported' : 'a duplicate of an imported image' };
  }

  async runTemplatesCase(seed: number, index: number): Promise<CaseResult> {
    const started = performance.now();
    const c = templatesCase(seed, index, makeRng(seed, STREAM.templates! * 1000 + index));
    const dir = this.caseDir('templates');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'templates.json');
    if (c.content === 'folder') fs.mkdirSync(file);
    else if (c.content !== null) fs.writeFileSync(file, c.content);
    const store = this.services.openProject!;
    const before = snapshot(store);
    let outcome: CaseOutcome;
    let refused = true;
    try {
      const result = await withTimeout(
        runCliInProcess(['templates', this.projectFile, '--import', file, '--json'], path.join(this.root, 'cli-home')),
        CASE_TIMEOUT_MS,
        'mocoop templates --import'
      );
      const message = result.stderr.replace(/^mocoop: /, '').trim();
      if (result.code === 0) {
        refused = false;
        // The Templates page reads what was imported (10,000 CLI-imported templates once broke it).
        const reply = await dispatch(this.services.handlers(), 'templates.groups', undefined, quiet);
        outcome = reply.ok
          ? { verdict: 'accepted' }
          : { verdict: 'crashed', message: `imported, then the Templates page's request failed: ${reply.error.message}` };
      } else if (/^mocoop: unexpected error/m.test(result.stderr) || (result.code !== 1 && result.code !== 2)) {
        outcome = { verdict: 'crashed', message: `exit ${result.code}: ${result.stderr.slice(0, 400)}` };
      } else {
        const problem = messageProblem(message, ['templates.json', 'groups[', 'group "']);
        outcome = problem ? { verdict: 'unclear', message: `${problem}: ${message}` } : { verdict: 'refused', message };
      }
    } catch (error) {
      outcome =
        error instanceof HangError
          ? { verdict: 'crashed', message: error.message }
          : { verdict: 'crashed', message: `the CLI threw: ${String((error as Error)?.message ?? error)}` };
    }
    const lost = lostData(before, snapshot(store), refused);
    if (lost) outcome.dataLost = lost;
    if (outcome.verdict === 'accepted' && c.mustRefuse) outcome = { verdict: 'wronglyAccepted', message: 'a broken templates file was imported' };
    return { kind: 'templates', name: c.name, ...outcome, ms: performance.now() - started };
  }

  async runExpertsCase(seed: number, index: number): Promise<CaseResult> {
    const started = performance.now();
    const c = expertsCase(seed, index, makeRng(seed, STREAM.experts! * 1000 + index));
    const dir = c.write(this.caseDir('experts'), `${seed}-${index}-${this.counter}`);
    const store = this.services.openProject!;
    const runs = () => JSON.stringify(store.db.prepare('SELECT id, status, method FROM runs ORDER BY id').all());
    const home = path.join(this.root, 'cli-home');
    const argv = ['import-experts', this.projectFile, '--from', dir, '--json'];
    let outcome: CaseOutcome;
    let before = runs();
    let refused = true;
    try {
      if (c.twice) {
        const first = await withTimeout(runCliInProcess(argv, home), CASE_TIMEOUT_MS, 'mocoop import-experts');
        if (first.code !== 0) throw new Error(`the first import of a valid folder failed: ${first.stderr}`);
        before = runs();
      }
      const result = await withTimeout(runCliInProcess(argv, home), CASE_TIMEOUT_MS, 'mocoop import-experts');
      if (result.code === 0) {
        refused = false;
        const reply = await dispatch(this.services.handlers(), 'runs.list', undefined, quiet);
        const id = (JSON.parse(result.stdout) as { run: string }).run;
        outcome = !reply.ok
          ? { verdict: 'crashed', message: `imported, then the runs list failed: ${reply.error.message}` }
          : (reply.value as { id: string }[]).some((r) => r.id === id)
            ? { verdict: 'accepted', message: `imported as ${id}` }
            : { verdict: 'unclear', message: `said it imported ${id}, which the runs list does not have` };
      } else if (/^mocoop: unexpected error/m.test(result.stderr) || (result.code !== 1 && result.code !== 2)) {
        outcome = { verdict: 'crashed', message: `exit ${result.code}: ${result.stderr.slice(0, 400)}` };
      } else {
        const message = result.stderr.replace(/^mocoop: /, '').trim();
        const problem = messageProblem(message, ['manifest.json', 'experts.safetensors', path.basename(dir)]);
        outcome = problem ? { verdict: 'unclear', message: `${problem}: ${message}` } : { verdict: 'refused', message };
      }
    } catch (error) {
      outcome =
        error instanceof HangError
          ? { verdict: 'crashed', message: error.message }
          : { verdict: 'crashed', message: `the CLI threw: ${String((error as Error)?.message ?? error)}` };
    }
    if (refused && runs() !== before) outcome.dataLost = "the project's runs changed although the experts were refused";
    const integrity = store.db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') outcome.dataLost = `integrity_check: ${String(integrity)}`;
    if (outcome.verdict === 'accepted' && c.mustRefuse) outcome = { verdict: 'wronglyAccepted', message: `broken experts were imported (${outcome.message})` };
    return { kind: 'experts', name: c.name, ...outcome, ms: performance.now() - started };
  }

  /** A generated command line, run in-process: it ends with 0, or 1/2 and one sentence on stderr — never "unexpected error". */
  async runCliCase(seed: number, index: number): Promise<CaseResult> {
    const started = performance.now();
    const folder = path.join(this.root, 'cli-folder');
    fs.mkdirSync(folder, { recursive: true });
    const world = {
      project: this.projectFile,
      model: this.base.dir,
      missing: path.join(this.root, 'no-such-thing'),
      folder,
      file: path.join(this.root, 'sample.png')
    };
    const c = cliArgsCase(seed, index, makeRng(seed, STREAM.cli! * 1000 + index), world);
    let outcome: CaseOutcome;
    try {
      const result = await withTimeout(runCliInProcess(c.argv, path.join(this.root, 'cli-home')), CASE_TIMEOUT_MS, `mocoop ${c.argv[0]}`);
      const said = result.stderr.trim();
      if (/^mocoop: unexpected error/m.test(said) || ![0, 1, 2].includes(result.code))
        outcome = { verdict: 'crashed', message: `exit ${result.code}: ${said.slice(0, 400)}` };
      else if (result.code === 0) outcome = { verdict: 'accepted' };
      // No command at all: the usage on stdout, exit 2.
      else if (result.code === 2 && !said && result.stdout.startsWith('Usage: ')) outcome = { verdict: 'refused', message: 'the usage' };
      else if (!said || UNCLEAR_TEXT.test(said) || !/^(mocoop: |Usage: )/.test(said))
        outcome = { verdict: 'unclear', message: `exit ${result.code}: ${said.slice(0, 400) || '(nothing on stderr)'}` };
      else outcome = { verdict: 'refused', message: said.split('\n')[0] };
    } catch (error) {
      outcome = { verdict: 'crashed', message: error instanceof HangError ? error.message : `the CLI threw: ${String((error as Error)?.message ?? error)}` };
    }
    const integrity = this.services.openProject!.db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') outcome.dataLost = `integrity_check: ${String(integrity)}`;
    return { kind: 'cli', name: c.name, ...outcome, ms: performance.now() - started };
  }

  /** `count` cases of one kind, in order. */
  async run(
    kind: ModelKind | ImportKind | 'templates' | 'experts' | 'cli',
    seed: number,
    count: number,
    onCase?: (r: CaseResult) => void
  ): Promise<CaseResult[]> {
    const results: CaseResult[] = [];
    for (let index = 0; index < count; index++) {
      const result =
        kind === 'templates'
          ? await this.runTemplatesCase(seed, index)
          : kind === 'cli'
            ? await this.runCliCase(seed, index)
            : kind === 'experts'
              ? await this.runExpertsCase(seed, index)
              : kind === 'csv' || kind === 'split' || kind === 'image'
                ? await this.runImportCase(kind, seed, index)
                : await this.runModelCase(kind, seed, index);
      onCase?.(result);
      results.push(result);
      fs.rmSync(path.join(this.root, 'cases'), { recursive: true, force: true });
    }
    return results;
  }

  dispose(): void {
    this.engine?.dispose();
    this.services.dispose();
  }
}
